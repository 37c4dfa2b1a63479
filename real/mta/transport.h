// How the MTA's scheduler talks to a next hop: open a session to one address
// of one MX host, run delivery jobs on it (several in a row: connection
// reuse), probe a recipient, say goodbye. SmtpTransport (smtp_transport.h)
// implements this with the SMTP client session over a Connector; tests may
// substitute a scripted transport.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "real/mta/config.h"
#include "real/mta/reply.h"
#include "real/mta/services.h"

namespace mailsim::mta {

struct OpenRequest {
  std::string host;         // MX host name (TLS server name, logs)
  std::string address;      // where to connect
  std::uint16_t port = 25;
  std::string helo_name;    // our hostname, for EHLO
  TlsPolicy tls = TlsPolicy::opportunistic;
  std::string auth_user;    // empty: no AUTH
  std::string auth_password;
};

// One message for one next hop: the recipients of one domain (or all the
// recipients going to the relay host).
struct DeliveryJob {
  std::string sender;                   // "" = null sender
  std::vector<std::string> recipients;
  const std::string* message = nullptr; // the queued bytes; valid until the callback
};

struct JobResult {
  // One reply per recipient, in the job's order: the RCPT reply when it was
  // refused, the final reply after DATA when it was accepted, or the reply
  // that ended the transaction earlier (MAIL FROM refused, connection lost:
  // a synthesised "421 4.4.2 lost connection ...").
  std::vector<Reply> per_recipient;
  // The session can take another job (the transaction ended cleanly).
  bool reusable = false;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one transaction. Exactly one callback per call; one job at a time.
  virtual void send(const DeliveryJob& job, std::function<void(JobResult)> done) = 0;
  // Asks whether `recipient` would be accepted: MAIL FROM:<> RCPT TO RSET.
  virtual void probe(const std::string& recipient, std::function<void(Reply)> done) = 0;
  // QUIT and close. No callbacks after this; the object may be destroyed.
  virtual void quit() = 0;
  // False once the server hung up or the session failed: an idle cached
  // connection may die while it waits for the next message.
  virtual bool usable() const { return true; }
  // "TLSv1.3" when STARTTLS is in force, "" otherwise (for the trace).
  virtual std::string tls_version() const { return {}; }
};

struct OpenResult {
  std::unique_ptr<Connection> connection;  // set when the server is ready for MAIL
  // Otherwise why not, as a reply the scheduler records: a connect failure
  // becomes "421 4.4.1 connect to host[addr]: connection refused", a negative
  // greeting or EHLO its own reply, a failed STARTTLS under TlsPolicy::required
  // "451 4.7.5 ...", a refused AUTH its reply.
  Reply failure;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void open(const OpenRequest& request, std::function<void(OpenResult)> done) = 0;
};

}  // namespace mailsim::mta

namespace mailsim::mta {

// The reply a scheduler records when it could not even talk to a host:
// "421 4.4.1 connect to mx.beta.example[192.0.2.5]:25: Connection refused".
Reply connect_failure_reply(const std::string& host, const std::string& address, std::uint16_t port,
                            ConnectError error, const std::string& detail);

}  // namespace mailsim::mta
