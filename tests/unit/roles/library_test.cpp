// The scenario library: fifteen scenarios, one per lesson, each a test. Every
// one meets its expect block; every one replays exactly with the same seed.
#include "tests/unit/roles/helpers.h"

#include "real/message/trace_headers.h"
#include "sim/roles/eavesdropper.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace mailsim::sim;
using namespace mailsim::sim::test;

namespace {

// The trace as comparable text, without the bytes that legitimately differ
// between runs: TLS ciphertext (fresh keys every run). Their lengths stay,
// and so does everything else: times, order, plaintext, sequence numbers.
std::vector<std::string> comparable(const Trace& trace) {
  std::map<std::pair<ConnId, std::string>, bool> encrypted;
  std::vector<std::string> lines;
  for (const auto& e : trace.events()) {
    nlohmann::json j = to_json_value(e);
    if (const auto* p = e.as<PacketPayload>()) {
      bool& tls = encrypted[{e.conn, p->from}];
      if (!tls && roles::starts_like_tls(p->data.value)) tls = true;
      if (tls) j["data"] = "<" + std::to_string(p->data.value.size()) + " bytes of TLS>";
    } else if (const auto* c = e.as<CapturePayload>(); c && c->encrypted) {
      j["data"] = "<" + std::to_string(c->data.value.size()) + " bytes of TLS>";
    }
    lines.push_back(j.dump());
  }
  return lines;
}

std::string slug(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

TEST_CASE("the library has the fifteen scenarios the lessons are written against") {
  const std::vector<std::string> expected{
      "01-basic-send-pop3.json",   "02-imap-two-devices.json",       "03-isp-smart-host.json",
      "04-mx-backup.json",         "05-retry-backoff.json",          "06-bounce-after-lifetime.json",
      "07-unknown-recipient.json", "08-recipient-verification.json", "09-starttls-eavesdropper.json",
      "10-auth-impersonation.json", "11-open-relay-spam.json",        "12-internal-company.json",
      "13-own-domain-isp-cloud.json", "14-bulk-sending.json",         "15-mail-loop.json"};
  std::vector<std::string> found;
  for (const auto& f : library_files()) found.push_back(slug(f));
  CHECK(found == expected);
}

TEST_CASE("every library scenario meets its expect block") {
  const std::string file = GENERATE(from_range(library_files()));
  INFO(file);
  const Scenario scenario = load(file);
  CHECK(scenario.expect.size() >= 3);       // each says what must happen, in more than one way
  CHECK_FALSE(scenario.description.empty());
  CHECK_FALSE(scenario.description_ja.empty());
  const RunOutput out = run_scenario(scenario);
  INFO(failed_expectations(out));
  CHECK(out.all_met());
  CHECK(out.expectations.size() == scenario.expect.size());
  // Every role carried out its actions: none was left to "nobody".
  CHECK_FALSE(any_note_contains(out.trace(), "", "nothing in this build carries out"));
  // Every connection of the lesson is over by the end and has left the
  // network's table (a finished one that stayed was memory kept for good:
  // one per letter in a long run).
  CHECK(out.world->network().live_connections() == 0);
}

TEST_CASE("a lean trace counts every event a full one records, and the run is the same") {
  // The benchmark's trace keeps nothing and counts everything; producers
  // then skip what only a kept event would carry (the MTA's texts, the
  // packets' payloads). The count of every kind and the run itself must not
  // change with it.
  const std::string file = GENERATE(from_range(library_files()));
  INFO(file);
  const Scenario scenario = load(file);
  const RunOutput full = run_scenario(scenario);
  World lean(scenario);
  lean.trace().keep_only({});
  roles::Roles cast(lean, {});
  const RunResult r = lean.run();
  CHECK(lean.trace().size() == 0);
  CHECK(r.events == full.result.events);
  CHECK(lean.engine().now() == full.world->engine().now());
  for (std::size_t k = 0; k < kEventKindCount; ++k) {
    const auto kind = static_cast<EventKind>(k);
    INFO(kind_name(kind));
    CHECK(lean.trace().count_of(kind) == full.trace().count_of(kind));
  }
  CHECK(lean.trace().count_of(EventKind::kDelivery) > 0);
}

TEST_CASE("every scenario names its lesson, and the lesson names the scenario") {
  const std::string file = GENERATE(from_range(library_files()));
  INFO(file);
  const Scenario scenario = load(file);
  REQUIRE_FALSE(scenario.lesson.empty());
  std::ifstream lesson(std::string(MAILSIM_SOURCE_DIR) + "/" + scenario.lesson);
  REQUIRE(lesson.good());
  std::stringstream text;
  text << lesson.rdbuf();
  CHECK(text.str().find("Scenario: scenarios/" + slug(file)) != std::string::npos);
}

TEST_CASE("same scenario, same seed: the same events at the same times") {
  const std::string file = GENERATE(from_range(library_files()));
  INFO(file);
  const Scenario scenario = load(file);
  const RunOutput a = run_scenario(scenario);
  const RunOutput b = run_scenario(scenario);
  const auto ta = comparable(a.trace());
  const auto tb = comparable(b.trace());
  REQUIRE(ta.size() == tb.size());
  for (std::size_t i = 0; i < ta.size(); ++i) {
    INFO("event " << i);
    REQUIRE(ta[i] == tb[i]);
  }
  CHECK(a.world->engine().now() == b.world->engine().now());
}

TEST_CASE("a different seed is a different run, still meeting the expectations") {
  // The seed moves TCP sequence numbers and equal-preference MX order; the
  // lessons' outcomes must not depend on luck.
  LoadOptions o;
  o.seed = 12345;
  const Scenario scenario = load_scenario_file(library_dir() + "/01-basic-send-pop3.json", o);
  const RunOutput out = run_scenario(scenario);
  INFO(failed_expectations(out));
  CHECK(out.all_met());
  const RunOutput usual = run("01-basic-send-pop3.json");
  CHECK(comparable(out.trace()) != comparable(usual.trace()));
}
