// Interface text: both languages complete, protocol lines explained.
#include "ui/model/strings.h"

#include "story.h"
#include "ui/model/trace_index.h"

#include <catch2/catch.hpp>

using namespace mailsim::ui;

TEST_CASE("every interface string exists in English and Japanese", "[ui][strings]") {
  CHECK(strings_table_in_order());
  for (int i = 0; i < static_cast<int>(S::kCount); ++i) {
    const char* en = tr(static_cast<S>(i), Lang::kEn);
    const char* ja = tr(static_cast<S>(i), Lang::kJa);
    CHECK(std::string(en).size() > 0);
    CHECK(std::string(ja).size() > 0);
  }
  CHECK(std::string(place_name(Place::kOutgoingOffice, Lang::kEn)) == "outgoing post office");
  CHECK(std::string(place_name(Place::kRouter, Lang::kEn)) == "crossroads (router)");
  CHECK(std::string(place_name(Place::kDnsDirectory, Lang::kJa)) == "DNS (住所録)");
  CHECK(std::string(queue_state_name("deferred", Lang::kEn)) == "waiting to retry");
}

TEST_CASE("protocol lines are explained in plain words", "[ui][strings]") {
  CHECK_THAT(explain_line("smtp", "550 5.1.1 <nobody@beta.example>: Recipient address rejected", false, Lang::kEn),
             Catch::Contains("no such person"));
  CHECK_THAT(explain_line("smtp", "421 4.3.2 Service shutting down", false, Lang::kEn), Catch::Contains("try again later"));
  CHECK_THAT(explain_line("smtp", "MAIL FROM:<alice@alpha.example>", true, Lang::kEn), Catch::Contains("return address"));
  CHECK_THAT(explain_line("smtp", "STARTTLS", true, Lang::kJa), Catch::Contains("暗号化"));
  CHECK_THAT(explain_line("pop3", "DELE 1", true, Lang::kEn), Catch::Contains("Delete"));
  CHECK_THAT(explain_line("imap", "a3 UID FETCH 1 (BODY[])", true, Lang::kEn), Catch::Contains("stays on the server"));
  CHECK_THAT(explain_line("imap", "a3 OK done", false, Lang::kEn), Catch::Contains("OK"));
}

TEST_CASE("every event of a story has a sentence in both languages", "[ui][strings]") {
  const TraceIndex x(testing::story_world(), testing::retry_story());
  for (std::size_t i : x.steps()) {
    CHECK_FALSE(describe_event(x, i, Lang::kEn).empty());
    CHECK_FALSE(describe_event(x, i, Lang::kJa).empty());
  }
  const auto down = x.outage_events().front();
  CHECK(describe_event(x, down, Lang::kEn) == "mx.beta.example closes (maintenance).");
}

TEST_CASE("the clock and countdowns read naturally", "[ui][strings]") {
  using mailsim::sim::kMinute;
  using mailsim::sim::kSecond;
  CHECK(format_clock(0) == "0:00:00.000");
  CHECK(format_clock(20 * kMinute + 1500 * 1000) == "0:20:01.500");
  CHECK(format_clock(26 * 60 * kMinute) == "1d 02:00:00.000");
  CHECK(format_countdown(4 * kMinute + 30 * kSecond, Lang::kEn) == "in 4 min 30 s");
  CHECK(format_countdown(4 * kMinute + 30 * kSecond, Lang::kJa) == "あと4分30秒");
  CHECK(format_countdown(500 * 1000, Lang::kEn) == "in 1 s");
}
