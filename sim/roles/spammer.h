// The spammer role: a host that sends junk through any server that will
// carry it. On a timeline "spam" action it connects to port 25 of the relay
// it abuses (or straight to each recipient domain's MX), without AUTH and
// without TLS, and tries `count` letters. An open relay says 250 and
// forwards them; a closed one answers 554 5.7.1 Relay access denied.
#pragma once

#include "sim/roles/context.h"

namespace mailsim::sim::roles {

class Spammer {
 public:
  Spammer(RunContext& ctx, HostId id, const HostSpec& spec) : ctx_(ctx), id_(id), spec_(spec) {}
  void spam(const SpamAction& action);

 private:
  void send_via(const std::string& server, const SpamAction& action, std::vector<std::string> recipients);
  std::string letter(const SpamAction& action, const std::vector<std::string>& recipients, int number);

  RunContext& ctx_;
  HostId id_;
  const HostSpec& spec_;
};

}  // namespace mailsim::sim::roles
