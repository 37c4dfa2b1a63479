// The mail user agent role: a person's mail program on a client host (and on
// the user's further devices). On a timeline "send" it writes a letter with
// real/message's composer (Date from the virtual clock, a Message-ID unique
// in the run) and hands it to its outgoing server with real/smtp's client
// session — port 587 or 25, STARTTLS and AUTH as the scenario says. On a
// "fetch" it collects mail with real/pop3's or real/imap's client session,
// from the device named in the action; each device remembers what it has
// already downloaded (POP3 UIDLs, IMAP UIDs), as a real mail program does.
#pragma once

#include "sim/roles/context.h"

#include <map>
#include <optional>
#include <set>
#include <string>

namespace mailsim::sim::roles {

class UserAgent {
 public:
  UserAgent(RunContext& ctx, HostId id, const HostSpec& spec);

  const HostSpec& spec() const { return spec_; }
  void send(const SendAction& action);
  void fetch(const FetchAction& action);

  // The name a device goes by in the trace: the host's name for the host
  // itself, the device's own name otherwise.
  std::string device_label(const std::string& device) const { return device.empty() ? spec_.name : device; }

 private:
  struct DeviceState {
    std::set<std::string> known_uidls;            // POP3: downloaded already
    std::uint32_t last_uid = 0;                   // IMAP: highest UID read
    std::optional<std::uint32_t> uidvalidity;
  };

  std::string compose(const SendAction& action, const std::string& from) const;
  void submit(const std::string& from, std::vector<std::string> recipients, std::string message, std::string subject);
  void fetch_pop3(Socket socket, MailServer& server, const std::string& device);
  void fetch_imap(Socket socket, MailServer& server, const std::string& device);
  MailServer* outgoing_server() const;
  MailServer* incoming_server() const;

  RunContext& ctx_;
  HostId id_;
  const HostSpec& spec_;
  std::map<std::string, DeviceState> devices_;
};

}  // namespace mailsim::sim::roles
