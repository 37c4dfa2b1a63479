// What-if toggles edit the scenario; the loader must still accept it.
#include "ui/model/toggles.h"

#include "sim/scenario/loader.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;
namespace sim = mailsim::sim;

namespace {
const std::string kFile = std::string(MAILSIM_SOURCE_DIR) + "/tests/ui/data/retry-story.json";

sim::Scenario reload(const Toggles& t) {
  const sim::Scenario original = sim::load_scenario_file(kFile);
  return sim::load_scenario_text(apply_toggles(original.document, t).dump(), kFile);
}
}  // namespace

TEST_CASE("STARTTLS off: nobody offers or asks for it", "[ui][toggles]") {
  Toggles t;
  t.starttls = false;
  const auto s = reload(t);
  const auto* alpha = s.find_host("mail.alpha.example");
  REQUIRE(alpha->submission);
  CHECK(alpha->submission->tls == sim::Toggle::kOff);
  CHECK(alpha->mx.tls == sim::Toggle::kOff);
  CHECK(alpha->relay.outbound_tls == sim::Toggle::kOff);
  CHECK(s.find_host("alice-pc")->outgoing.tls == sim::Toggle::kOff);
  CHECK(s.find_host("bob-pc")->fetch->tls == sim::Toggle::kOff);
}

TEST_CASE("STARTTLS on: clients insist, submission requires it", "[ui][toggles]") {
  Toggles t;
  t.starttls = true;
  const auto s = reload(t);
  CHECK(s.find_host("mail.alpha.example")->submission->tls == sim::Toggle::kRequired);
  CHECK(s.find_host("mx.beta.example")->mx.tls == sim::Toggle::kOptional);
  CHECK(s.find_host("alice-pc")->outgoing.tls == sim::Toggle::kRequired);
}

TEST_CASE("AUTH off and open relay on", "[ui][toggles]") {
  Toggles t;
  t.auth = false;
  t.open_relay = true;
  const auto s = reload(t);
  CHECK(s.find_host("mail.alpha.example")->submission->auth == sim::Toggle::kOff);
  CHECK_FALSE(s.find_host("alice-pc")->outgoing.auth);
  CHECK(s.find_host("mail.alpha.example")->relay.open_relay);
  CHECK(s.find_host("mx.beta.example")->relay.open_relay);
}

TEST_CASE("a server taken down stays down for the whole run", "[ui][toggles]") {
  Toggles t;
  t.down_host = "mx.beta.example";
  const auto s = reload(t);
  int downs = 0, ups = 0;
  for (const auto& item : s.timeline)
    if (const auto* h = std::get_if<sim::HostAction>(&item.action); h && h->host == "mx.beta.example") {
      (h->up ? ups : downs)++;
      if (!h->up) CHECK(item.at == 0);
    }
  CHECK(downs >= 1);
  CHECK(ups == 0);
  CHECK(server_names(s.document) == std::vector<std::string>{"mail.alpha.example", "mx.beta.example"});
}

TEST_CASE("an unknown recipient replaces the first recipient's user", "[ui][toggles]") {
  Toggles t;
  t.unknown_recipient = true;
  const auto s = reload(t);
  bool found = false;
  for (const auto& item : s.timeline)
    if (const auto* send = std::get_if<sim::SendAction>(&item.action)) {
      CHECK(send->to.at(0) == "nosuchuser@beta.example");
      found = true;
    }
  CHECK(found);
  CHECK(describe_toggles(t, Lang::kEn) == std::vector<std::string>{"Unknown recipient: nosuchuser@..."});
}

TEST_CASE("no toggles: the scenario is unchanged", "[ui][toggles]") {
  const sim::Scenario original = sim::load_scenario_file(kFile);
  CHECK(apply_toggles(original.document, Toggles{}) == original.document);
}
