// Tests for sim/scenario/loader.h: reading scenarios, refusing bad ones with
// file + pointer + line:column + words, --set overrides, schema.json in step.
#include "sim/scenario/loader.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace mailsim::sim;

namespace {

const std::string kData = std::string(MAILSIM_SOURCE_DIR) + "/tests/unit/sim/data/";

// Loads `text` and returns the problems it was refused with (none: fails).
std::vector<ScenarioProblem> problems_of(const std::string& text, const LoadOptions& options = {}) {
  try {
    load_scenario_text(text, "lesson.json", options);
  } catch (const ScenarioError& e) {
    return e.problems();
  }
  FAIL("the scenario was accepted");
  return {};
}

// A small valid scenario, one field per line so positions are easy to state.
const char* kBase = R"({
  "title": "t",
  "hosts": [
    {"name": "alice-pc", "role": "client", "user": "alice@alpha.example"},
    {"name": "mail.alpha.example", "role": "mta", "local_domains": ["alpha.example"], "users": ["alice"],
     "submission": {"tls": "optional"}},
    {"name": "mx.beta.example", "role": "mta", "local_domains": ["beta.example"], "users": ["bob"]}
  ],
  "links": [["alice-pc", "mail.alpha.example", "5ms"], ["mail.alpha.example", "mx.beta.example", "40ms"]],
  "timeline": [{"at": "1s", "send": {"from": "alice@alpha.example", "to": ["bob@beta.example"]}}]
})";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a complete scenario is read into typed fields", "[scenario]") {
  const Scenario s = load_scenario_file(kData + "retry.json");
  CHECK(s.title == "The office is closed: retry and delivery");
  CHECK(s.title_ja == "郵便局が閉まっている：再送と配達");
  REQUIRE(s.hosts.size() == 6);
  const HostSpec* alpha = s.find_host("mail.alpha.example");
  REQUIRE(alpha);
  CHECK(alpha->role == HostRole::kMta);
  REQUIRE(alpha->submission);
  CHECK(alpha->submission->tls == Toggle::kRequired);
  CHECK(alpha->submission->port == 587);
  CHECK(alpha->queue.min_backoff == 5 * kMinute);
  CHECK(alpha->queue.max_backoff == kHour);
  CHECK(alpha->users.at(0).password == "wonderland");
  const HostSpec* bob = s.find_host("bob-phone");
  REQUIRE(bob);
  REQUIRE(bob->fetch);
  CHECK(bob->fetch->protocol == FetchProtocol::kImap);
  CHECK(bob->fetch->port == 143);
  CHECK(bob->password == kDefaultPassword);
  CHECK(s.find_host("mx.beta.example")->users.at(0).password == kDefaultPassword);
  REQUIRE(s.links.size() == 5);
  CHECK(s.links[1].latency == 40 * kMillisecond);
  CHECK(s.links[1].bandwidth_bps == 10'000'000);
  REQUIRE(s.dns.names.size() == 2);
  // Sorted by name.
  CHECK(s.dns.names[0].mx.at(0).exchange == "mail.alpha.example");
  CHECK(s.dns.names[0].txt == std::vector<std::string>{"v=spf1 mx -all"});
  CHECK(s.dns.names[1].name == "beta.example");
  // The timeline is sorted by time, ties kept in file order.
  REQUIRE(s.timeline.size() == 5);
  CHECK(action_name(s.timeline[0].action) == "down");
  CHECK(s.timeline[0].note == "Bob's post office closes.");
  CHECK(action_name(s.timeline[1].action) == "send");
  CHECK(s.timeline[1].at == kSecond);
  CHECK(action_name(s.timeline[2].action) == "up");
  CHECK(std::get<FetchAction>(s.timeline[4].action).device == "laptop");
  REQUIRE(s.expect.size() == 3);
  const auto& deferred = std::get<ExpectDeferred>(s.expect[0].expectation);
  CHECK(deferred.min == 2);
  CHECK_FALSE(deferred.max);
  CHECK(std::get<ExpectDelivered>(s.expect[1].expectation).received_headers == 2);
  CHECK(s.document.at("hosts").size() == 6);
}

TEST_CASE("invalid JSON is refused with the line and column", "[scenario][errors]") {
  const auto problems = problems_of("{\n  \"title\": \"t\"\n  \"hosts\": []\n}");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].file == "lesson.json");
  CHECK(problems[0].position.line == 3);
  CHECK(problems[0].position.column == 3);
  CHECK_THAT(problems[0].message, Catch::Contains("not valid JSON"));
  CHECK_THAT(problems[0].str(), Catch::StartsWith("lesson.json:3:3: "));
}

TEST_CASE("a wrong value names the pointer, the place and what was expected", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"("tls": "optional")", R"("tls": "maybe")"));
  REQUIRE(problems.size() == 1);
  const auto& p = problems[0];
  CHECK(p.pointer == "/hosts/1/submission/tls");
  CHECK(p.position.line == 6);
  CHECK(p.position.column == 28);
  CHECK(p.message == R"(expected one of "off", "optional", "required", but found "maybe")");
  CHECK(p.str() == R"(lesson.json:6:28: /hosts/1/submission/tls: expected one of "off", "optional", "required", but found "maybe")");
}

TEST_CASE("an unknown field is refused with a did-you-mean", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"("submission")", R"("sumbission")"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/hosts/1/sumbission");
  CHECK(problems[0].position.line == 6);
  CHECK(problems[0].position.column == 6);  // the member name
  CHECK(problems[0].message == R"(unknown field "sumbission" in a host; did you mean "submission"?)");
}

TEST_CASE("a missing required field points at the object that lacks it", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"("role": "mta", "local_domains": ["beta.example"])",
                                            R"("local_domains": ["beta.example"])"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/hosts/2");
  CHECK(problems[0].position.line == 7);
  CHECK_THAT(problems[0].message, Catch::StartsWith("missing field \"role\""));
}

TEST_CASE("durations, addresses and numbers are explained", "[scenario][errors]") {
  auto text = replace(kBase, R"("5ms")", R"("5 minutes")");
  text = replace(text, R"("to": ["bob@beta.example"])", R"("to": ["bob"])");
  const auto problems = problems_of(text);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].pointer == "/links/0/2");
  CHECK(problems[0].position.line == 9);
  CHECK_THAT(problems[0].message, Catch::StartsWith("expected a duration such as \"250ms\""));
  CHECK(problems[1].pointer == "/timeline/0/send/to/0");
  CHECK(problems[1].position.line == 10);
  CHECK_THAT(problems[1].message, Catch::Contains("e-mail address"));
}

TEST_CASE("references are checked: a link to a host that does not exist", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"(["mail.alpha.example", "mx.beta.example", "40ms"])",
                                            R"(["mail.alpha.example", "mx.beta.exmaple", "40ms"])"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/links/1/1");
  CHECK(problems[0].position.line == 9);
  CHECK(problems[0].message == R"(there is no host named "mx.beta.exmaple"; did you mean "mx.beta.example"?)");
}

TEST_CASE("references are checked: a send from a user no client has", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"("from": "alice@alpha.example")", R"("from": "alise@alpha.example")"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/timeline/0/send/from");
  CHECK(problems[0].message == R"(no client has the user "alise@alpha.example"; did you mean "alice@alpha.example"?)");
}

TEST_CASE("references are checked: a client whose domain has no server", "[scenario][errors]") {
  const auto problems =
      problems_of(replace(kBase, R"("user": "alice@alpha.example"})", R"("user": "alice@gamma.example"})"));
  REQUIRE_FALSE(problems.empty());
  CHECK(problems[0].pointer == "/hosts/0");
  CHECK_THAT(problems[0].message, Catch::Contains("no mail server has \"gamma.example\""));
}

TEST_CASE("a field given twice is refused", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"("title": "t",)", R"("title": "t", "title": "u",)"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/title");
  CHECK(problems[0].position.line == 2);
  CHECK(problems[0].position.column == 17);
}

TEST_CASE("a timeline entry does exactly one thing", "[scenario][errors]") {
  const auto problems = problems_of(replace(kBase, R"({"at": "1s", "send")", R"({"at": "1s", "down": "alice-pc", "send")"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/timeline/0");
  CHECK_THAT(problems[0].message, Catch::Contains("\"send\" and \"down\""));
}

TEST_CASE("all problems are reported at once, and a missing file too", "[scenario][errors]") {
  auto text = replace(kBase, R"("tls": "optional")", R"("tls": 3)");
  text = replace(text, R"("role": "client")", R"("role": "klient")");
  const auto problems = problems_of(text);
  REQUIRE(problems.size() == 2);
  CHECK_THAT(problems[0].message, Catch::Contains("did you mean \"client\"?"));
  CHECK(problems[1].pointer == "/hosts/1/submission/tls");
  try {
    load_scenario_file(kData + "no-such-file.json");
    FAIL("accepted a missing file");
  } catch (const ScenarioError& e) {
    CHECK_THAT(e.what(), Catch::Contains("no-such-file.json: cannot open the file"));
  }
}

TEST_CASE("set overrides (--set) fields by name, by index, with JSON or text values", "[scenario][set]") {
  LoadOptions o;
  o.overrides = {"hosts.mail.alpha.example.submission.tls=required", "hosts.2.queue.min_backoff=1m",
                 "hosts.mx.beta.example.mx.port=2525", "seed=42", "links.1.2=\"80ms\"",
                 "dns.records.beta.example.MX=[[10,\"mx.beta.example\"]]", "dns.records[alpha.example].TXT=spf",
                 "title=Retry lesson"};
  const Scenario s = load_scenario_text(kBase, "lesson.json", o);
  CHECK(s.find_host("mail.alpha.example")->submission->tls == Toggle::kRequired);
  CHECK(s.find_host("mx.beta.example")->queue.min_backoff == kMinute);
  CHECK(s.find_host("mx.beta.example")->mx.port == 2525);
  CHECK(s.seed == 42);
  CHECK(s.links[1].latency == 80 * kMillisecond);
  REQUIRE(s.dns.names.size() == 2);
  CHECK(s.dns.names[0].name == "alpha.example");
  CHECK(s.dns.names[0].txt == std::vector<std::string>{"spf"});
  CHECK(s.dns.names[1].name == "beta.example");
  CHECK(s.dns.names[1].mx.at(0).exchange == "mx.beta.example");
  CHECK(s.title == "Retry lesson");

  LoadOptions seed_option;
  seed_option.seed = 7;
  CHECK(load_scenario_text(kBase, "lesson.json", seed_option).seed == 7);
}

TEST_CASE("set overrides (--set): a bad value or a bad path is reported with the assignment", "[scenario][set]") {
  LoadOptions o;
  o.overrides = {"hosts.mail.alpha.example.submission.tls=maybe"};
  auto problems = problems_of(kBase, o);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].pointer == "/hosts/1/submission/tls");
  CHECK(problems[0].origin == "--set hosts.mail.alpha.example.submission.tls=maybe");
  CHECK(problems[0].position.line == 0);
  CHECK_THAT(problems[0].str(), Catch::StartsWith("lesson.json: (--set hosts.mail.alpha.example.submission.tls=maybe) "));

  o.overrides = {"hosts.mx.beta.exampel.port=25"};
  problems = problems_of(kBase, o);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0].message, Catch::Contains("did you mean \"mx.beta.example\"?"));

  nlohmann::json doc = nlohmann::json::parse(kBase);
  CHECK_THROWS_AS(apply_override(doc, "title.x=1"), std::invalid_argument);
  CHECK_THROWS_AS(apply_override(doc, "hosts.9.role=mta"), std::invalid_argument);
  CHECK_THROWS_AS(apply_override(doc, "no-equals-sign"), std::invalid_argument);
  CHECK(apply_override(doc, "network.connect_timeout=5s") == "/network/connect_timeout");
  CHECK(doc["network"]["connect_timeout"] == "5s");
}

TEST_CASE("did_you_mean suggests only near names", "[scenario]") {
  CHECK(did_you_mean("sumbission", {"submission", "mx"}) == "submission");
  CHECK(did_you_mean("tsl", {"tls", "auth"}) == "tls");
  CHECK(did_you_mean("zebra", {"tls", "auth"}).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("bandwidths parse in the usual spellings", "[scenario]") {
  CHECK(parse_bandwidth("10Mbit") == 10'000'000);
  CHECK(parse_bandwidth("1Gbps") == 1'000'000'000);
  CHECK(parse_bandwidth("56kbps") == 56'000);
  CHECK(parse_bandwidth("100Mbit/s") == 100'000'000);
  CHECK(parse_bandwidth("1500") == 1500);
  CHECK_FALSE(parse_bandwidth("fast"));
  CHECK_FALSE(parse_bandwidth("10 Mbit"));
}

TEST_CASE("scenarios/schema.json and the loader accept the same fields", "[scenario][schema]") {
  std::ifstream in(std::string(MAILSIM_SOURCE_DIR) + "/scenarios/schema.json");
  REQUIRE(in);
  const auto schema = nlohmann::json::parse(in);
  CHECK(schema.at("$schema") == "https://json-schema.org/draft/2020-12/schema");
  auto names_of = [](const nlohmann::json& properties) {
    std::set<std::string> out;
    for (const auto& [key, value] : properties.items()) out.insert(key);
    return out;
  };
  for (const auto& [kind, fields] : scenario_fields()) {
    CAPTURE(kind);
    const std::set<std::string> loader(fields.begin(), fields.end());
    const nlohmann::json* def = nullptr;
    if (kind == "scenario") {
      def = &schema;
    } else {
      REQUIRE(schema.at("$defs").contains(kind));
      def = &schema.at("$defs").at(kind);
      // "link" is an array or an object: compare the object form.
      if (def->contains("oneOf"))
        for (const auto& alt : def->at("oneOf"))
          if (alt.contains("properties")) def = &alt;
    }
    REQUIRE(def->contains("properties"));
    CHECK(names_of(def->at("properties")) == loader);
    CHECK(def->value("additionalProperties", true) == false);
  }
}
