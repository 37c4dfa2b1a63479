// The eavesdropper role: someone on a road (a link) who copies every packet
// that crosses it. It cannot change anything; it records a `capture` event
// for each packet with a payload that crosses one of its taps, marked
// `encrypted` once the bytes are TLS records, and tells in a note what it
// could make sense of: passwords (SMTP AUTH PLAIN/LOGIN decoded from base64,
// POP3 PASS, IMAP LOGIN) and the subject of letters sent in the clear.
#pragma once

#include "sim/roles/context.h"

#include <map>
#include <set>
#include <string>
#include <tuple>

namespace mailsim::sim::roles {

// What one direction of one connection told the eavesdropper so far.
struct OverheardStream {
  bool encrypted = false;     // TLS records seen: nothing more is readable
  std::string partial_line;   // plaintext not yet ended by CRLF
  std::string awaiting;       // "plain" / "login-user" / "login-pass": the next line is a SASL answer
  std::string login_user;     // AUTH LOGIN / POP3 USER: the name, waiting for the password
  bool subject_told = false;
};

// Reads complete plaintext lines a client sent and returns, for each one
// that gives a credential away, a sentence saying what it gave away.
// Exposed for tests: the parsing is the lesson.
std::vector<std::string> overhear(OverheardStream& stream, std::string_view bytes);

class Eavesdropper {
 public:
  Eavesdropper(RunContext& ctx, const HostSpec& spec) : ctx_(ctx), spec_(spec) {}
  // Called for every trace event; acts on packets.
  void on_event(const TraceEvent& event);

 private:
  RunContext& ctx_;
  const HostSpec& spec_;
  std::map<std::pair<ConnId, std::string>, OverheardStream> streams_;  // (connection, sender)
};

// True when the bytes start like a TLS record (RFC 8446 §5.1: content type
// 20..23, legacy version 3.x).
bool starts_like_tls(std::string_view bytes);

}  // namespace mailsim::sim::roles
