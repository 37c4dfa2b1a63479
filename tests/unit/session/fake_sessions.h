// Two tiny line protocols implementing mailsim::Session, for testing Channel
// without SMTP: an echo server with STARTTLS and QUIT, and a client that says
// what the test tells it to and records what it hears.
#pragma once

#include "real/session/session.h"

#include <string>
#include <vector>

namespace mailsim::testing {

class LineSession : public Session {
 public:
  void receive(std::string_view bytes) override {
    if (tls_requested_) return;  // plaintext after STARTTLS is dropped (CVE-2011-0411)
    buffer_.append(bytes);
    std::size_t eol;
    while ((eol = buffer_.find("\r\n")) != std::string::npos && !tls_requested_) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      lines.push_back(line);
      on_line(line);
    }
    if (tls_requested_) buffer_.clear();
  }
  std::string take_output() override { return std::exchange(output_, {}); }
  bool tls_requested() const override { return tls_requested_ && output_.empty(); }
  void tls_established(const TlsInfo& info) override {
    tls_requested_ = false;
    tls = info;
    on_tls();
  }
  void tls_failed(std::string_view reason) override {
    tls_requested_ = false;
    tls_error = std::string(reason);
    wants_close_ = true;
  }
  bool wants_close() const override { return wants_close_; }
  void peer_closed() override { ++peer_closed_calls; }

  void say(const std::string& line) { output_ += line + "\r\n"; }

  std::vector<std::string> lines;  // every line heard, in order
  TlsInfo tls;                     // set by tls_established
  std::string tls_error;           // set by tls_failed
  int peer_closed_calls = 0;
  int start_calls = 0;

 protected:
  virtual void on_line(const std::string& line) = 0;
  virtual void on_tls() {}
  std::string buffer_;
  std::string output_;
  bool tls_requested_ = false;
  bool wants_close_ = false;
};

// "+OK hello" greeting; STARTTLS -> "+OK begin TLS" and TLS; QUIT -> "+OK bye"
// and close; anything else is echoed back as "ECHO <line>".
class EchoServer : public LineSession {
 public:
  void start() override {
    ++start_calls;
    say("+OK hello");
  }

 protected:
  void on_line(const std::string& line) override {
    if (line == "STARTTLS") {
      say("+OK begin TLS");
      tls_requested_ = true;
    } else if (line == "QUIT") {
      say("+OK bye");
      wants_close_ = true;
    } else {
      say("ECHO " + line);
    }
  }
};

// Sends STARTTLS when told to and starts TLS on "+OK begin TLS"; closes
// after "+OK bye".
class ScriptClient : public LineSession {
 public:
  void start() override { ++start_calls; }

 protected:
  void on_line(const std::string& line) override {
    if (line == "+OK begin TLS") tls_requested_ = true;
    if (line == "+OK bye") wants_close_ = true;
  }
};

}  // namespace mailsim::testing
