// The map: places from a scenario or guessed from a trace, and the layout.
#include "ui/model/world.h"

#include "sim/scenario/loader.h"
#include "story.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;

namespace {
const std::string kScenario = std::string(MAILSIM_SOURCE_DIR) + "/tests/ui/data/retry-story.json";

const WorldHost& host(const World& w, const char* name) {
  auto i = w.find(name);
  REQUIRE(i);
  return w.hosts[*i];
}
}  // namespace

SCENARIO("a scenario becomes a map of post offices", "[ui][world]") {
  GIVEN("the retry story: Alice, her office, Bob's office, Bob, DNS and an eavesdropper") {
    const World w = world_from_scenario(mailsim::sim::load_scenario_file(kScenario));
    THEN("each host is the building of its role") {
      CHECK(host(w, "alice-pc").place == Place::kSenderComputer);
      CHECK(host(w, "mail.alpha.example").place == Place::kOutgoingOffice);
      CHECK(host(w, "mx.beta.example").place == Place::kRecipientOffice);
      CHECK(host(w, "bob-pc").place == Place::kRecipientComputer);
      CHECK(host(w, "bob-pc").fetch_protocol == "pop3");
      CHECK(host(w, "dns").place == Place::kDnsDirectory);
      CHECK(host(w, "eve").place == Place::kEavesdropper);
    }
    THEN("the letter's road runs left to right and DNS sits on top") {
      CHECK(host(w, "alice-pc").x < host(w, "mail.alpha.example").x);
      CHECK(host(w, "mail.alpha.example").x < host(w, "mx.beta.example").x);
      CHECK(host(w, "mx.beta.example").x < host(w, "bob-pc").x);
      for (const auto& h : w.hosts)
        if (h.place != Place::kDnsDirectory) CHECK(host(w, "dns").y < h.y);
    }
    THEN("the eavesdropper stands below the road it taps, between its ends") {
      const auto& eve = host(w, "eve");
      const auto& a = host(w, "mail.alpha.example");
      const auto& b = host(w, "mx.beta.example");
      CHECK(eve.x > a.x);
      CHECK(eve.x < b.x);
      CHECK(eve.y > std::max(a.y, b.y));
      auto l = w.link_between(*w.find("mail.alpha.example"), *w.find("mx.beta.example"));
      REQUIRE(l);
      CHECK(w.links[*l].tapped_by == w.find("eve"));
      CHECK(w.links[*l].latency == 40 * mailsim::sim::kMillisecond);
    }
    THEN("every host is on the map") {
      for (const auto& h : w.hosts) {
        CHECK(h.x >= 0.f);
        CHECK(h.x <= 1.f);
        CHECK(h.y >= 0.f);
        CHECK(h.y <= 1.f);
      }
    }
  }
}

TEST_CASE("a bare trace still gives a sensible map", "[ui][world]") {
  const auto events = testing::retry_story();
  const World w = world_from_trace({events.begin(), events.end()});
  CHECK(host(w, "alice-pc").place == Place::kSenderComputer);
  CHECK(host(w, "mail.alpha.example").place == Place::kOutgoingOffice);
  CHECK(host(w, "mx.beta.example").place == Place::kRecipientOffice);
  CHECK(host(w, "bob-pc").place == Place::kRecipientComputer);
  CHECK(host(w, "eve").place == Place::kEavesdropper);
  CHECK(host(w, "dns").place == Place::kDnsDirectory);
  CHECK(w.link_between(*w.find("alice-pc"), *w.find("mail.alpha.example")));
  CHECK(host(w, "alice-pc").x < host(w, "mx.beta.example").x);
}

TEST_CASE("a large world is laid out without overlapping buildings", "[ui][world]") {
  World w;
  // 4 senders -> 4 offices -> 2 relays -> 40 recipient offices.
  for (int i = 0; i < 50; ++i) {
    WorldHost h;
    h.name = "h" + std::to_string(i);
    h.place = i < 4 ? Place::kSenderComputer : i < 8 ? Place::kOutgoingOffice : i < 10 ? Place::kSortingOffice
                                                                                     : Place::kRecipientOffice;
    w.hosts.push_back(h);
  }
  for (std::size_t i = 0; i < 4; ++i) w.ensure_link(i, i + 4);
  for (std::size_t i = 4; i < 8; ++i) w.ensure_link(i, 8 + i % 2);
  for (std::size_t i = 10; i < 50; ++i) w.ensure_link(8 + i % 2, i);
  layout_world(w);
  for (std::size_t i = 0; i < w.hosts.size(); ++i)
    for (std::size_t j = i + 1; j < w.hosts.size(); ++j) {
      const bool same = std::abs(w.hosts[i].x - w.hosts[j].x) < 1e-4f && std::abs(w.hosts[i].y - w.hosts[j].y) < 1e-4f;
      CHECK_FALSE(same);
    }
  CHECK(w.hosts[0].x < w.hosts[4].x);
  CHECK(w.hosts[4].x < w.hosts[8].x);
  CHECK(w.hosts[8].x < w.hosts[20].x);
}
