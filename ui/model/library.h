// The scenario library (scenarios/NN-slug.json) and the lessons bound to it
// (lessons/<lang>/NN-slug.md, whose second line names the scenario), and
// lesson Markdown parsed with md4c into simple blocks the view draws.
#pragma once

#include "ui/model/strings.h"

#include <optional>
#include <string>
#include <vector>

namespace mailsim::ui {

struct LibraryEntry {
  std::string path;       // scenarios/05-retry-backoff.json
  std::string slug;       // 05-retry-backoff
  std::string title, title_ja;
};

// Every *.json scenario in `dir` except schema.json, sorted by file name.
// Titles are read from the files (an unreadable file keeps its slug as title).
std::vector<LibraryEntry> scan_library(const std::string& dir);

// Where the scenario library is: $MAILSIM_SCENARIOS, else ./scenarios, else
// the source tree's scenarios/ (compiled in), else "".
std::string find_library_dir(const std::string& source_dir);

// The lesson for a scenario in a language: the lesson whose "Scenario:" line
// names the scenario's file name, else lessons/<lang>/<slug>.md next to the
// library. "" when there is none.
std::string find_lesson(const std::string& scenario_path, Lang lang);

// A span of inline text with its style.
struct Span {
  enum Style { kText, kCode, kStrong, kEmphasis, kLink } style = kText;
  std::string text;
};

struct Block {
  enum Kind { kHeading, kParagraph, kListItem, kCode, kQuote, kRule, kTableRow } kind = kParagraph;
  int level = 0;       // heading level 1..6; list nesting depth (1 = top)
  int number = 0;      // ordered list item number (0 = bullet)
  bool header = false; // table row of the header
  std::vector<Span> spans;             // heading, paragraph, list item, quote
  std::string code;                    // code block text
  std::vector<std::string> cells;      // table row cells (plain text)
};

// Parses CommonMark + tables (md4c) into blocks. Never fails: text md4c
// cannot parse comes back as one paragraph.
std::vector<Block> parse_lesson(const std::string& markdown);

// The "Scenario: ..." line's path, if the lesson has one.
std::string lesson_scenario(const std::string& markdown);

}  // namespace mailsim::ui
