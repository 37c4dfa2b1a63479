#include "real/imap/command.h"

#include <catch2/catch.hpp>

#include "real/imap/command_reader.h"

using namespace mailsim::imap;

namespace {

// Frames `input` (fed in two pieces split at `split`) and parses the single
// command it holds.
ParseResult parse_split(const std::string& input, std::size_t split) {
  CommandReader r;
  r.feed(std::string_view(input).substr(0, split));
  std::string frame;
  for (auto it = r.next(); it.kind != CommandReader::Kind::kNone; it = r.next())
    if (it.kind == CommandReader::Kind::kCommand) frame = it.text;
  r.feed(std::string_view(input).substr(split));
  for (auto it = r.next(); it.kind != CommandReader::Kind::kNone; it = r.next())
    if (it.kind == CommandReader::Kind::kCommand) frame = it.text;
  return parse_command(frame);
}

}  // namespace

TEST_CASE("LOGIN with a quoted string with escapes and a literal, split anywhere") {
  const std::string input = "A001 LOGIN \"b\\\"o\\\\b\" {6}\r\nse cr\"\r\n";
  std::size_t split = GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ParseResult r = parse_split(input, split);
  REQUIRE(r.command);
  CHECK(r.command->tag == "A001");
  CHECK(r.command->name == "LOGIN");
  CHECK(r.command->args == std::vector<std::string>{"b\"o\\b", "se cr\""});
}

TEST_CASE("FETCH items, sections, partials and macros") {
  const std::string input =
      "f1 UID FETCH 1:*,3,5:7 (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)] BODY[1.2.MIME] "
      "BODY[]<0.100> RFC822.SIZE BODY[2.HEADER] BODY[TEXT] BODY)\r\n";
  std::size_t split = GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ParseResult r = parse_split(input, split);
  REQUIRE(r.command);
  const Command& c = *r.command;
  CHECK(c.uid);
  CHECK(c.name == "FETCH");
  REQUIRE(c.set.ranges.size() == 3);
  CHECK(c.set.contains(100, 200));
  CHECK(c.set.contains(6, 6));
  REQUIRE(c.fetch.size() == 8);
  CHECK(c.fetch[1].peek);
  CHECK(c.fetch[1].text == FetchAtt::Text::kHeaderFields);
  CHECK(c.fetch[1].fields == std::vector<std::string>{"From", "Subject"});
  CHECK(c.fetch[1].section == "HEADER.FIELDS (From Subject)");
  CHECK(c.fetch[2].part == std::vector<unsigned>{1, 2});
  CHECK(c.fetch[2].text == FetchAtt::Text::kMime);
  CHECK(c.fetch[3].partial_offset == 0u);
  CHECK(c.fetch[3].partial_length == 100);
  CHECK(c.fetch[3].section.empty());
  CHECK(c.fetch[5].part == std::vector<unsigned>{2});
  CHECK(c.fetch[5].text == FetchAtt::Text::kHeader);
  CHECK(c.fetch[7].kind == FetchAtt::Kind::kBody);

  ParseResult full = parse_command("a FETCH 1 FULL\r\n");
  REQUIRE(full.command);
  CHECK(full.command->fetch.size() == 5);
}

TEST_CASE("SEARCH keys: OR, NOT, lists, dates, sets, CHARSET") {
  const std::string input =
      "s1 SEARCH CHARSET UTF-8 OR (FROM alice SUBJECT \"lunch plans\") NOT SEEN SINCE 1-Feb-1994 "
      "2:4 UID 10:* HEADER X-Spam yes LARGER 100\r\n";
  std::size_t split = GENERATE_COPY(range<std::size_t>(0, input.size() + 1));
  ParseResult r = parse_split(input, split);
  REQUIRE(r.command);
  const Command& c = *r.command;
  CHECK(c.charset == "UTF-8");
  REQUIRE(c.search.children.size() == 6);
  const SearchKey& orr = c.search.children[0];
  CHECK(orr.kind == SearchKey::Kind::kOr);
  CHECK(orr.children[0].kind == SearchKey::Kind::kAnd);
  CHECK(orr.children[0].children[1].text == "lunch plans");
  CHECK(orr.children[1].kind == SearchKey::Kind::kNot);
  CHECK(c.search.children[1].kind == SearchKey::Kind::kSince);
  CHECK(c.search.children[1].day == 8797);  // 1994-02-01
  CHECK(c.search.children[2].kind == SearchKey::Kind::kSequence);
  CHECK(c.search.children[3].kind == SearchKey::Kind::kUid);
  CHECK(c.search.children[4].field == "X-Spam");
  CHECK(c.search.children[5].number == 100);
}

TEST_CASE("APPEND with flags, date-time and literal, STORE forms, STATUS, ID") {
  ParseResult a = parse_command("a APPEND Sent (\\Seen $Work) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n");
  REQUIRE(a.command);
  CHECK(a.command->args[0] == "Sent");
  CHECK(a.command->flags == std::vector<std::string>{"\\Seen", "$Work"});
  CHECK(a.command->date == 760686745);
  CHECK(a.command->message == "hello");

  ParseResult s = parse_command("b STORE 2:4 -FLAGS.SILENT (\\Deleted)\r\n");
  REQUIRE(s.command);
  CHECK(s.command->store_mode == StoreMode::kRemove);
  CHECK(s.command->silent);

  ParseResult st = parse_command("c STATUS INBOX (MESSAGES UIDNEXT unseen)\r\n");
  REQUIRE(st.command);
  CHECK(st.command->items == std::vector<std::string>{"MESSAGES", "UIDNEXT", "UNSEEN"});

  ParseResult id = parse_command("d ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n");
  REQUIRE(id.command);
  REQUIRE(id.command->id.size() == 2);
  CHECK_FALSE(id.command->id[1].second);
}

TEST_CASE("garbage is refused with a reason and the tag when there is one") {
  struct Case { const char* input; const char* tag; };
  const Case cases[] = {
      {"\r\n", "*"},
      {"a1\r\n", "a1"},
      {"a2 FROB\r\n", "a2"},
      {"a3 LOGIN bob\r\n", "a3"},
      {"a4 FETCH 0 FLAGS\r\n", "a4"},
      {"a5 FETCH 1 (FLAGS\r\n", "a5"},
      {"a6 SELECT \"INBOX\r\n", "a6"},
      {"a7 SEARCH BEFORE 31-Feb-2020\r\n", "a7"},
      {"(bad) NOOP\r\n", "*"},
      {"a8 UID FROB 1\r\n", "a8"},
      {"a9 NOOP extra\r\n", "a9"},
      {"b1 FETCH 1 BODY[4.HEADERX]\r\n", "b1"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    ParseResult r = parse_command(c.input);
    CHECK_FALSE(r.command);
    CHECK(r.tag == c.tag);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("deeply nested SEARCH is refused, not a stack overflow") {
  std::string input = "a SEARCH ";
  for (int i = 0; i < 10000; ++i) input += "NOT ";
  input += "ALL\r\n";
  ParseResult r = parse_command(input);
  CHECK_FALSE(r.command);
  CHECK(r.error == "SEARCH nested too deeply");
}
