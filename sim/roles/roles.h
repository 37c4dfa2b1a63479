// Every role of a scenario, built from real/ and attached to a World: mail
// servers (mta and relay hosts), mail user agents (client hosts), spammers
// and eavesdroppers. The timeline's mail actions ("send", "fetch", "spam")
// are carried out by them; everything they do goes into the World's trace.
//
//   World world(scenario);
//   roles::Roles roles(world);   // must be destroyed before the world
//   world.run();
#pragma once

#include "sim/roles/context.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mailsim::sim::roles {

class MailServer;
class UserAgent;
class Spammer;
class Eavesdropper;

class Roles {
 public:
  explicit Roles(World& world, RoleOptions options = {});
  ~Roles();
  Roles(const Roles&) = delete;
  Roles& operator=(const Roles&) = delete;

  RunContext& context() { return *ctx_; }
  // nullptr when no such host plays that role.
  MailServer* server(std::string_view name) const;
  UserAgent* client(std::string_view name) const;

 private:
  void send(const TimelineItem& item);
  void fetch(const TimelineItem& item);
  void spam(const TimelineItem& item);

  std::unique_ptr<RunContext> ctx_;
  std::vector<std::unique_ptr<MailServer>> servers_;
  std::map<std::string, std::unique_ptr<UserAgent>, std::less<>> clients_;
  std::map<std::string, std::unique_ptr<Spammer>, std::less<>> spammers_;
  std::vector<std::unique_ptr<Eavesdropper>> eavesdroppers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mailsim::sim::roles
