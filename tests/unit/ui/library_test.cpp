// The scenario library, the lessons bound to scenarios, and lesson Markdown.
#include "ui/model/library.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace mailsim::ui;
namespace fs = std::filesystem;

TEST_CASE("lesson Markdown becomes headings, paragraphs, lists, code and tables", "[ui][lesson]") {
  const auto blocks = parse_lesson(
      "# 5. The office is closed\n\nScenario: scenarios/05-retry-backoff.json\n\n"
      "Bob's post office is **closed**. It tries\nagain with `421`.\n\n"
      "- **Map**: a closed sign\n- Queue: `deferred`\n  1. nested first\n\n"
      "```\nS: 421 4.3.2 try again later\nC: QUIT\n```\n\n"
      "| Code | Meaning |\n|---|---|\n| 421 | try later |\n");
  REQUIRE(blocks.size() >= 8);
  CHECK(blocks[0].kind == Block::kHeading);
  CHECK(blocks[0].level == 1);
  CHECK(blocks[0].spans.at(0).text == "5. The office is closed");
  CHECK(blocks[1].kind == Block::kParagraph);
  const auto& p = blocks[2];
  REQUIRE(p.spans.size() == 5);
  CHECK(p.spans[0].text == "Bob's post office is ");
  CHECK(p.spans[1].style == Span::kStrong);
  CHECK(p.spans[2].text == ". It tries again with ");  // a soft break is a space
  CHECK(p.spans[3].style == Span::kCode);
  CHECK(p.spans[3].text == "421");
  CHECK(blocks[3].kind == Block::kListItem);
  CHECK(blocks[3].level == 1);
  CHECK(blocks[3].number == 0);
  CHECK(blocks[5].kind == Block::kListItem);
  CHECK(blocks[5].level == 2);
  CHECK(blocks[5].number == 1);
  const auto code = std::find_if(blocks.begin(), blocks.end(), [](const Block& b) { return b.kind == Block::kCode; });
  REQUIRE(code != blocks.end());
  CHECK(code->code == "S: 421 4.3.2 try again later\nC: QUIT");
  const auto rows = std::count_if(blocks.begin(), blocks.end(), [](const Block& b) { return b.kind == Block::kTableRow; });
  CHECK(rows == 2);
  CHECK(blocks.back().cells == std::vector<std::string>{"421", "try later"});
  CHECK(lesson_scenario("# T\nScenario: scenarios/05-retry-backoff.json\n") == "scenarios/05-retry-backoff.json");
}

TEST_CASE("Japanese soft line breaks do not add spaces", "[ui][lesson]") {
  const auto blocks = parse_lesson("ボブの郵便局は\nお休みです。\n");
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].spans.at(0).text == "ボブの郵便局はお休みです。");
}

TEST_CASE("each library lesson is found for its scenario, in both languages", "[ui][lesson]") {
  const fs::path root = MAILSIM_SOURCE_DIR;
  int found = 0;
  for (const auto& entry : fs::directory_iterator(root / "lessons" / "en")) {
    if (entry.path().extension() != ".md") continue;
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string scenario = lesson_scenario(text);
    REQUIRE_FALSE(scenario.empty());
    const std::string path = (root / scenario).string();
    CHECK(fs::path(find_lesson(path, Lang::kEn)).filename() == entry.path().filename());
    CHECK(fs::path(find_lesson(path, Lang::kJa)).parent_path().filename() == "ja");
    CHECK_FALSE(parse_lesson(text).empty());
    ++found;
  }
  CHECK(found >= 15);
}

TEST_CASE("the library lists scenarios in order with their titles", "[ui][library]") {
  const fs::path dir = fs::temp_directory_path() / "mailsim-ui-library-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "02-b.json") << R"({"title": "Second", "title_ja": "二番目"})";
  std::ofstream(dir / "01-a.json") << R"({"title": "First"})";
  std::ofstream(dir / "schema.json") << "{}";
  std::ofstream(dir / "03-broken.json") << "{ not json";
  const auto lib = scan_library(dir.string());
  REQUIRE(lib.size() == 3);
  CHECK(lib[0].title == "First");
  CHECK(lib[1].title_ja == "二番目");
  CHECK(lib[2].title == "03-broken");
  fs::remove_all(dir);
}
