// What the roles write into the trace about one end of one connection: the
// plaintext each protocol session said and heard (`data`), its commands and
// replies, TLS handshakes and logins. The real/ protocol cores report events;
// a ConnTracer turns them into sim/trace events stamped with the host and the
// connection id, so the story, the expect checks and the view can follow a
// dialogue line by line. Both ends of a connection keep their own tracer:
// every line appears twice (sent, then received), marked by `side`.
#pragma once

#include "real/imap/client.h"
#include "real/imap/server.h"
#include "real/pop3/client.h"
#include "real/pop3/server.h"
#include "real/session/channel.h"
#include "real/smtp/client.h"
#include "real/smtp/server.h"
#include "sim/trace/trace.h"

#include <functional>
#include <memory>
#include <string>

namespace mailsim::sim::roles {

class ConnTracer {
 public:
  // `trace` must outlive the tracer. `protocol`: "smtp" | "pop3" | "imap".
  // `client`: this end opened the connection. `record_data`: keep `data`
  // events (the plaintext of every exchange; the benchmark turns them off).
  ConnTracer(Trace& trace, std::string host, ConnId conn, std::string protocol, bool client, bool record_data = true);

  // For ChannelOptions::observer. Captures this tracer by shared ownership:
  // the observer keeps it alive as long as the channel lives.
  static std::function<void(const ChannelEvent&)> observer(std::shared_ptr<ConnTracer> tracer);
  void on_channel(const ChannelEvent& e);

  void on_smtp(const smtp::ClientEvent& e);
  void on_smtp(const smtp::ServerEvent& e);
  void on_pop3(const pop3::ClientEvent& e);
  void on_pop3(const pop3::ServerEvent& e);
  void on_imap(const imap::ClientEvent& e);
  void on_imap(const imap::ServerEvent& e);

  // An SMTP AUTH decision the host made (the server's authenticator); the
  // mechanism is the one of the last AUTH command seen.
  void auth_decided(const std::string& user, bool ok);

  void note(std::string text);
  bool tls() const { return tls_; }
  ConnId conn() const { return conn_; }
  const std::string& host() const { return host_; }

 private:
  void command(std::string verb, std::string line);
  void reply(int code, std::string status, std::string text);
  void auth(std::string mechanism, std::string user, bool ok);
  std::string side() const { return client_ ? "client" : "server"; }
  bool only_counted(EventKind kind);  // nobody reads `kind`: counted, true

  Trace& trace_;
  std::string host_;
  ConnId conn_;
  std::string protocol_;
  bool client_;
  bool record_data_;
  bool tls_ = false;
  bool in_sasl_ = false;          // SMTP server: the next lines answer an AUTH challenge
  std::string auth_mechanism_;    // of the last AUTH command
};

// The first word of a command line, upper-cased ("mail FROM:<a>" -> "MAIL");
// IMAP lines drop their tag and keep "UID FETCH" as two words.
std::string smtp_verb(std::string_view line);
std::string imap_verb(std::string_view text_without_tag);

}  // namespace mailsim::sim::roles
