// The mail server role: real/mta's Mta on a simulated host. The same class
// plays every kind of post office a scenario names — the sender's outgoing
// server, a relay or smart host, a backup MX, the receiving server — the
// difference is only its settings (local domains, users, relay policy,
// relay host, relay domains, recipient verification, queue timing, TLS and
// AUTH policies, DNS blocklists), read from the scenario's HostSpec.
//
// Listens on port 25 (MX) and, when the scenario says so, 587 (submission
// with AUTH); serves POP3 (110) and IMAP (143) from the same MemoryStore that
// local delivery writes into. Everything it does reaches the trace: every
// SMTP/POP3/IMAP line (through ConnTracer), every queue change (MtaEvent),
// deliveries into mailboxes and bounces.
#pragma once

#include "real/mta/inbound.h"
#include "real/mta/mta.h"
#include "real/mta/smtp_transport.h"
#include "real/mta/store_delivery.h"
#include "real/store/memory_store.h"
#include "real/store/users.h"
#include "sim/roles/context.h"

#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mailsim::sim::roles {

// The SMTP policy of one listening port.
struct SmtpPortPolicy {
  std::uint16_t port = 25;
  smtp::TlsPolicy tls = smtp::TlsPolicy::kOptional;
  smtp::AuthPolicy auth = smtp::AuthPolicy::kOff;
  bool submission = false;
};

class MailServer {
 public:
  // `ctx` and `spec` must outlive the server. Listens at once.
  MailServer(RunContext& ctx, HostId id, const HostSpec& spec);
  ~MailServer();
  MailServer(const MailServer&) = delete;
  MailServer& operator=(const MailServer&) = delete;

  const HostSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  HostId id() const { return id_; }
  mta::Mta& mta() { return *mta_; }
  store::MemoryStore& store() { return store_; }

  // The user name a client logs in with for `address` (also the mailbox
  // name): "bob" when the scenario lists local parts, else the address.
  std::string login_name(std::string_view address) const;
  // The address a mailbox belongs to ("bob" -> "bob@beta.example").
  std::string address_of(const std::string& mailbox) const;
  // Messages in the mailbox's INBOX now (0 for an unknown mailbox).
  int mailbox_count(const std::string& mailbox);
  // The SMTP policy of `port`, if the server listens there.
  std::optional<SmtpPortPolicy> smtp_port(std::uint16_t port) const;
  // The port of a mailbox service ("pop3"/"imap"), 0 when not served.
  std::uint16_t service_port(FetchProtocol p) const;

  // A mailbox event at this server (stored/fetched/deleted/seen).
  void record_mailbox(const std::string& mailbox, std::string action, std::string message_id, std::string device,
                      ConnId conn = 0);

 private:
  class Transport;
  class Delivery;
  class TransportMap;
  struct PendingDelivery {
    std::string message_id, subject, mailbox;
    int received = 0;
  };

  mta::MtaConfig mta_config() const;
  void on_mta_event(const mta::MtaEvent& e);
  bool wants_mta_event(std::size_t kind) const;
  void listen_smtp(const SmtpPortPolicy& policy);
  void accept_smtp(Socket socket, const SmtpPortPolicy& policy);
  void check_blocklists(Socket socket, const SmtpPortPolicy& policy, std::size_t zone);
  void serve_smtp(Socket socket, const SmtpPortPolicy& policy, std::optional<smtp::Reply> reject);
  void accept_pop3(Socket socket, const ServiceSettings& settings);
  void accept_imap(Socket socket, const ServiceSettings& settings);
  bool check_password(const std::string& user, const std::string& password) const;

  RunContext& ctx_;
  HostId id_;
  const HostSpec& spec_;
  SimResolver dns_;
  std::unique_ptr<TransportMap> resolver_;  // dns_, plus relay_host for relay domains
  CompactSpool spool_;
  store::MemoryStore store_;
  store::UserTable users_;
  bool full_address_mailboxes_ = false;
  std::map<std::string, std::string> mailbox_address_;  // mailbox -> address
  std::unique_ptr<mta::StoreDelivery> store_delivery_;
  std::unique_ptr<Delivery> delivery_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<mta::Mta> mta_;
  std::optional<tls::TlsContext> server_tls_;
  std::vector<SmtpPortPolicy> smtp_ports_;
  std::optional<ServiceSettings> pop3_, imap_;
  // The SMTP counter of each port; each connection brings its own trace hooks.
  std::map<std::uint16_t, std::unique_ptr<mta::InboundServer>> smtp_servers_;
  std::map<std::string, PendingDelivery> pending_deliveries_;  // by recipient
};

}  // namespace mailsim::sim::roles
