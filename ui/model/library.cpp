// Scenario library, lesson lookup, and lesson Markdown (md4c) into blocks.
#include "ui/model/library.h"

#include <md4c.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace mailsim::ui {

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::vector<LibraryEntry> scan_library(const std::string& dir) {
  std::vector<LibraryEntry> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".json" || p.filename() == "schema.json") continue;
    LibraryEntry e;
    e.path = p.string();
    e.slug = p.stem().string();
    e.title = e.slug;
    try {
      const auto j = nlohmann::json::parse(read_text(p));
      e.title = j.value("title", e.slug);
      e.title_ja = j.value("title_ja", "");
    } catch (const std::exception&) {
      // Keep the slug: the loader will say what is wrong when it is opened.
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const LibraryEntry& a, const LibraryEntry& b) { return a.slug < b.slug; });
  return out;
}

std::string find_library_dir(const std::string& source_dir) {
  std::error_code ec;
  if (const char* env = std::getenv("MAILSIM_SCENARIOS"); env != nullptr && fs::is_directory(env, ec)) return env;
  if (fs::is_directory("scenarios", ec) && !scan_library("scenarios").empty()) return "scenarios";
  if (!source_dir.empty() && fs::is_directory(fs::path(source_dir) / "scenarios", ec))
    return (fs::path(source_dir) / "scenarios").string();
  return {};
}

std::string lesson_scenario(const std::string& md) {
  std::istringstream in(md);
  std::string line;
  for (int n = 0; n < 8 && std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Scenario:", 0) == 0) {
      std::string v = line.substr(9);
      v.erase(0, v.find_first_not_of(" \t"));
      v.erase(v.find_last_not_of(" \t") + 1);
      return v;
    }
  }
  return {};
}

std::string find_lesson(const std::string& scenario_path, Lang lang) {
  std::error_code ec;
  const fs::path sp = fs::absolute(scenario_path, ec);
  const std::string lang_dir = lang == Lang::kJa ? "ja" : "en";
  // lessons/ is a sibling of scenarios/ in the repository layout.
  const fs::path lessons = sp.parent_path().parent_path() / "lessons" / lang_dir;
  const fs::path direct = lessons / (sp.stem().string() + ".md");
  if (fs::is_regular_file(direct, ec)) return direct.string();
  if (!fs::is_directory(lessons, ec)) return {};
  for (const auto& entry : fs::directory_iterator(lessons, ec)) {
    if (entry.path().extension() != ".md") continue;
    const std::string named = lesson_scenario(read_text(entry.path()));
    if (!named.empty() && fs::path(named).filename() == sp.filename()) return entry.path().string();
  }
  return {};
}

namespace {

struct Builder {
  std::vector<Block> blocks;
  std::vector<int> list_next;  // per open list: next number (0 = bullet list)
  bool in_quote = false, in_table_head = false;
  std::vector<Span::Style> styles;  // open inline spans
  std::ptrdiff_t current_index = -1;  // the block text goes to (-1: none)

  Block* cur() { return current_index < 0 ? nullptr : &blocks[static_cast<std::size_t>(current_index)]; }
  Block& open(Block::Kind kind) {
    blocks.push_back({});
    blocks.back().kind = kind;
    current_index = static_cast<std::ptrdiff_t>(blocks.size()) - 1;
    return blocks.back();
  }
  void add_text(std::string_view text) {
    Block* current = cur();
    if (current == nullptr) return;
    if (current->kind == Block::kCode) {
      current->code += text;
      return;
    }
    if (current->kind == Block::kTableRow) {
      if (current->cells.empty()) current->cells.emplace_back();
      current->cells.back() += text;
      return;
    }
    const Span::Style style = styles.empty() ? Span::kText : styles.back();
    if (!current->spans.empty() && current->spans.back().style == style)
      current->spans.back().text += text;
    else
      current->spans.push_back({style, std::string(text)});
  }
};

int enter_block(MD_BLOCKTYPE type, void* detail, void* user) {
  auto& b = *static_cast<Builder*>(user);
  switch (type) {
    case MD_BLOCK_UL: b.list_next.push_back(0); break;
    case MD_BLOCK_OL: b.list_next.push_back(static_cast<int>(static_cast<MD_BLOCK_OL_DETAIL*>(detail)->start)); break;
    case MD_BLOCK_LI: {
      Block& blk = b.open(Block::kListItem);
      blk.level = static_cast<int>(b.list_next.size());
      if (!b.list_next.empty() && b.list_next.back() > 0) blk.number = b.list_next.back()++;
      break;
    }
    case MD_BLOCK_H: b.open(Block::kHeading).level = static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level); break;
    case MD_BLOCK_P:
      // The first paragraph of a list item is the item's own text.
      if (b.cur() != nullptr && b.cur()->kind == Block::kListItem && b.cur()->spans.empty()) break;
      b.open(b.in_quote ? Block::kQuote : Block::kParagraph).level = static_cast<int>(b.list_next.size());
      break;
    case MD_BLOCK_CODE: b.open(Block::kCode).level = static_cast<int>(b.list_next.size()); break;
    case MD_BLOCK_QUOTE: b.in_quote = true; break;
    case MD_BLOCK_HR: b.open(Block::kRule); break;
    case MD_BLOCK_THEAD: b.in_table_head = true; break;
    case MD_BLOCK_TR: b.open(Block::kTableRow).header = b.in_table_head; break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      if (b.cur() != nullptr && b.cur()->kind == Block::kTableRow) b.cur()->cells.emplace_back();
      break;
    default: break;
  }
  return 0;
}

int leave_block(MD_BLOCKTYPE type, void*, void* user) {
  auto& b = *static_cast<Builder*>(user);
  switch (type) {
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      if (!b.list_next.empty()) b.list_next.pop_back();
      break;
    case MD_BLOCK_QUOTE: b.in_quote = false; break;
    case MD_BLOCK_THEAD: b.in_table_head = false; break;
    case MD_BLOCK_CODE:
      if (b.cur() != nullptr && !b.cur()->code.empty() && b.cur()->code.back() == '\n') b.cur()->code.pop_back();
      b.current_index = -1;
      break;
    case MD_BLOCK_H:
    case MD_BLOCK_P:
    case MD_BLOCK_LI:
      b.current_index = -1;
      break;
    default: break;
  }
  return 0;
}

int enter_span(MD_SPANTYPE type, void*, void* user) {
  auto& b = *static_cast<Builder*>(user);
  switch (type) {
    case MD_SPAN_CODE: b.styles.push_back(Span::kCode); break;
    case MD_SPAN_STRONG: b.styles.push_back(Span::kStrong); break;
    case MD_SPAN_EM: b.styles.push_back(Span::kEmphasis); break;
    case MD_SPAN_A: b.styles.push_back(Span::kLink); break;
    default: b.styles.push_back(b.styles.empty() ? Span::kText : b.styles.back()); break;
  }
  return 0;
}

int leave_span(MD_SPANTYPE, void*, void* user) {
  auto& b = *static_cast<Builder*>(user);
  if (!b.styles.empty()) b.styles.pop_back();
  return 0;
}

int text(MD_TEXTTYPE type, const MD_CHAR* data, MD_SIZE size, void* user) {
  auto& b = *static_cast<Builder*>(user);
  const std::string_view t(data, size);
  switch (type) {
    case MD_TEXT_SOFTBR: {
      // A soft line break is a space in English; Japanese text runs on without one.
      const bool cjk_before = b.cur() != nullptr && !b.cur()->spans.empty() &&
                              !b.cur()->spans.back().text.empty() &&
                              static_cast<unsigned char>(b.cur()->spans.back().text.back()) >= 0x80;
      if (!cjk_before) b.add_text(" ");
      break;
    }
    case MD_TEXT_BR: b.add_text("\n"); break;
    case MD_TEXT_ENTITY:
      if (t == "&amp;") b.add_text("&");
      else if (t == "&lt;") b.add_text("<");
      else if (t == "&gt;") b.add_text(">");
      else if (t == "&quot;") b.add_text("\"");
      else if (t == "&nbsp;") b.add_text(" ");
      else b.add_text(t);
      break;
    case MD_TEXT_NULLCHAR: break;
    default: b.add_text(t); break;
  }
  return 0;
}

}  // namespace

std::vector<Block> parse_lesson(const std::string& markdown) {
  Builder b;
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = MD_FLAG_TABLES | MD_FLAG_NOHTML | MD_FLAG_STRIKETHROUGH;
  parser.enter_block = enter_block;
  parser.leave_block = leave_block;
  parser.enter_span = enter_span;
  parser.leave_span = leave_span;
  parser.text = text;
  if (md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &b) != 0 || b.blocks.empty()) {
    Block p;
    p.spans.push_back({Span::kText, markdown});
    return {p};
  }
  return std::move(b.blocks);
}

}  // namespace mailsim::ui
