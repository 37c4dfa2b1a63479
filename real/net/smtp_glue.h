// The SMTP event pump of a `mailsim serve` connection: answers the
// smtp::ServerSession's decisions — MAIL (accept), RCPT (the relay question,
// RFC 5321 §3.6.2, then the sink's recipient check), AUTH (the user table)
// and the message itself (this hop's Received: header, RFC 5321 §4.4, then
// the sink, asynchronously: 250 only once the message is durable).
// Boost-free.
#pragma once

#include "real/net/message_sink.h"
#include "real/net/protocol_glue.h"
#include "real/smtp/server.h"
#include "real/store/users.h"

#include <functional>
#include <string>
#include <vector>

namespace mailsim::net {

// Shared by every connection of one SMTP service; must outlive them.
// AUTH for serve's SMTP ports (both the direct-Maildir and the MTA glue):
// "alice" and "alice@<a local domain>" both name alice; acting for someone
// else (a PLAIN authzid) is refused; nobody logs in when `users` is null.
// Writes "<who>: AUTH <mechanism> as <user> succeeded|failed" to `log` if set.
bool check_smtp_login(const smtp::server_events::AuthRequest& request, const store::Credentials* users,
                      const std::vector<std::string>& local_domains,
                      const std::function<void(const std::string&)>& log, const std::string& who);

struct SmtpService {
  smtp::ServerConfig session;  // hostname, limits, TLS and AUTH policy of this port
  std::vector<std::string> local_domains;
  bool open_relay = false;                    // anyone may send anywhere (a lesson)
  const store::Credentials* users = nullptr;  // AUTH; nullptr: nobody can log in
  MessageSink* sink = nullptr;
  // One line per accepted or refused message, for the server's log; may be empty.
  std::function<void(const std::string&)> log;
};

class SmtpGlue final : public ProtocolGlue {
 public:
  SmtpGlue(const SmtpService& service, const PeerInfo& peer);

  Session& session() override { return session_; }
  void pump(ConnectionHandle& conn) override;
  bool awaiting_decision() const override { return session_.awaiting_decision(); }
  // "421 4.4.2 <host> Error: timeout exceeded" / "421 4.3.2 <host> Service
  // shutting down" (Postfix's wording).
  std::string goodbye_line(bool timed_out) const override;

  const smtp::ServerSession& smtp_session() const { return session_; }

 private:
  smtp::Reply on_rcpt(const std::string& address);
  bool on_auth(const smtp::server_events::AuthRequest& request) const;
  void on_message(ConnectionHandle& conn, smtp::server_events::MessageReceived message);

  const SmtpService& service_;
  PeerInfo peer_;
  smtp::ServerSession session_;
};

}  // namespace mailsim::net
