// IMAP4rev1 command parser, recursive descent over RFC 3501 §9; see command.h.
#include "real/imap/command.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "real/codec/ascii.h"
#include "real/imap/wire.h"

namespace mailsim::imap {

bool SequenceSet::contains(std::uint32_t n, std::uint32_t star) const {
  for (const Range& r : ranges) {
    std::uint32_t a = r.lo == 0 ? star : r.lo;
    std::uint32_t b = r.hi == 0 ? star : r.hi;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

std::uint32_t SequenceSet::largest_explicit() const {
  std::uint32_t m = 0;
  for (const Range& r : ranges) m = std::max({m, r.lo, r.hi});
  return m;
}

bool SequenceSet::uses_star() const {
  return std::any_of(ranges.begin(), ranges.end(), [](const Range& r) { return r.lo == 0 || r.hi == 0; });
}

namespace {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr int kMaxSearchDepth = 64;

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  std::size_t pos() const { return pos_; }
  std::string_view slice(std::size_t from, std::size_t to) const { return s_.substr(from, to - from); }

  void expect(char c, const char* what) {
    if (peek() != c) throw ParseError(std::string("Expected ") + what);
    ++pos_;
  }
  void advance() { ++pos_; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void sp() { expect(' ', "a space"); }
  void end() {
    if (!at_end()) throw ParseError("Unexpected characters at the end of the command");
  }

  std::string atom(const char* what) {
    std::size_t start = pos_;
    while (!at_end() && is_atom_char(s_[pos_])) ++pos_;
    if (pos_ == start) throw ParseError(std::string("Expected ") + what);
    return std::string(s_.substr(start, pos_ - start));
  }
  // An atom as a keyword, upper-cased; stops before '[' and '<' (FETCH).
  std::string keyword(const char* what) {
    std::size_t start = pos_;
    while (!at_end() && is_atom_char(s_[pos_]) && s_[pos_] != '[' && s_[pos_] != '<' && s_[pos_] != ']') ++pos_;
    if (pos_ == start) throw ParseError(std::string("Expected ") + what);
    return codec::to_upper(s_.substr(start, pos_ - start));
  }

  std::string quoted() {
    expect('"', "a quoted string");
    std::string out;
    for (;;) {
      if (at_end()) throw ParseError("Unterminated quoted string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (at_end() || (s_[pos_] != '"' && s_[pos_] != '\\'))
          throw ParseError("Only \\\" and \\\\ may be escaped in a quoted string");
        c = s_[pos_++];
      } else if (c == '\r' || c == '\n' || c == '\0') {
        throw ParseError("Line break inside a quoted string");
      }
      out += c;
    }
  }

  std::string literal() {
    expect('{', "a literal");
    std::uint64_t n = 0;
    std::size_t digits = 0;
    while (peek() >= '0' && peek() <= '9') {
      n = n * 10 + static_cast<std::uint64_t>(s_[pos_++] - '0');
      if (++digits > 19) throw ParseError("Literal size too large");
    }
    if (digits == 0) throw ParseError("Expected a literal size");
    eat('+');
    expect('}', "'}' closing the literal size");
    eat('\r');  // a bare LF is accepted, as the framing does
    expect('\n', "CRLF after the literal size");
    if (n > s_.size() - pos_) throw ParseError("Literal shorter than announced");
    std::string out(s_.substr(pos_, n));
    pos_ += n;
    return out;
  }

  std::string string(const char* what) {
    if (peek() == '"') return quoted();
    if (peek() == '{') return literal();
    throw ParseError(std::string("Expected ") + what);
  }
  std::string astring(const char* what) {
    if (peek() == '"' || peek() == '{') return string(what);
    std::size_t start = pos_;
    while (!at_end() && (is_atom_char(s_[pos_]) || s_[pos_] == ']')) ++pos_;
    if (pos_ == start) throw ParseError(std::string("Expected ") + what);
    return std::string(s_.substr(start, pos_ - start));
  }
  std::optional<std::string> nstring(const char* what) {
    if (peek() == '"' || peek() == '{') return string(what);
    std::string a = atom(what);
    if (!codec::iequals(a, "NIL")) throw ParseError(std::string("Expected ") + what + " or NIL");
    return std::nullopt;
  }
  // list-mailbox: list-chars (atom chars, % * and ]) or a string.
  std::string list_mailbox() {
    if (peek() == '"' || peek() == '{') return string("a mailbox pattern");
    std::size_t start = pos_;
    while (!at_end() && (is_atom_char(s_[pos_]) || s_[pos_] == '%' || s_[pos_] == '*' || s_[pos_] == ']')) ++pos_;
    if (pos_ == start) throw ParseError("Expected a mailbox pattern");
    return std::string(s_.substr(start, pos_ - start));
  }

  std::uint64_t number(const char* what) {
    std::uint64_t n = 0;
    std::size_t start = pos_;
    while (peek() >= '0' && peek() <= '9') {
      n = n * 10 + static_cast<std::uint64_t>(s_[pos_++] - '0');
      if (n > 0xffffffffULL) throw ParseError(std::string(what) + " out of range");
    }
    if (pos_ == start) throw ParseError(std::string("Expected ") + what);
    return n;
  }
  std::uint32_t nz_number(const char* what) {
    std::uint64_t n = number(what);
    if (n == 0) throw ParseError(std::string(what) + " must not be 0");
    return static_cast<std::uint32_t>(n);
  }

  SequenceSet sequence_set() {
    SequenceSet set;
    do {
      SequenceSet::Range r;
      r.lo = eat('*') ? 0 : nz_number("a message number");
      r.hi = r.lo;
      if (eat(':')) r.hi = eat('*') ? 0 : nz_number("a message number");
      set.ranges.push_back(r);
    } while (eat(','));
    return set;
  }

  // flag = "\Answered" ... / "\" atom / keyword atom.
  std::string flag() {
    std::string f;
    if (eat('\\')) f = "\\";
    f += atom("a flag");
    return f;
  }
  std::vector<std::string> flag_list() {
    expect('(', "'(' opening a flag list");
    std::vector<std::string> flags;
    if (eat(')')) return flags;
    for (;;) {
      flags.push_back(flag());
      if (eat(')')) return flags;
      sp();
    }
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// ---- FETCH -----------------------------------------------------------------

void parse_section(Cursor& c, FetchAtt& att) {
  c.expect('[', "'['");
  std::size_t start = c.pos();
  bool need_text = true;
  if (c.peek() >= '0' && c.peek() <= '9') {
    att.part.push_back(c.nz_number("a part number"));
    need_text = false;
    while (c.eat('.')) {
      if (c.peek() >= '0' && c.peek() <= '9') {
        att.part.push_back(c.nz_number("a part number"));
      } else {
        need_text = true;
        break;
      }
    }
  }
  if (need_text && c.peek() != ']') {
    std::string t = c.keyword("a section name");
    if (t == "HEADER") {
      att.text = FetchAtt::Text::kHeader;
    } else if (t == "TEXT") {
      att.text = FetchAtt::Text::kText;
    } else if (t == "MIME" && !att.part.empty()) {
      att.text = FetchAtt::Text::kMime;
    } else if (t == "HEADER.FIELDS" || t == "HEADER.FIELDS.NOT") {
      att.text = t == "HEADER.FIELDS" ? FetchAtt::Text::kHeaderFields : FetchAtt::Text::kHeaderFieldsNot;
      c.sp();
      c.expect('(', "'(' opening the header field list");
      for (;;) {
        att.fields.push_back(c.astring("a header field name"));
        if (c.eat(')')) break;
        c.sp();
      }
    } else {
      throw ParseError("Unknown section " + t);
    }
  } else if (need_text && !att.part.empty()) {
    throw ParseError("Expected a section name after '.'");
  }
  att.section = std::string(c.slice(start, c.pos()));
  c.expect(']', "']' closing the section");
  if (c.eat('<')) {
    att.partial_offset = static_cast<std::uint32_t>(c.number("a partial offset"));
    c.expect('.', "'.' in the partial range");
    att.partial_length = c.nz_number("a partial length");
    c.expect('>', "'>' closing the partial range");
  }
}

FetchAtt parse_fetch_att(Cursor& c) {
  using K = FetchAtt::Kind;
  std::string name = c.keyword("a FETCH item");
  FetchAtt att;
  if (name == "FLAGS") att.kind = K::kFlags;
  else if (name == "UID") att.kind = K::kUid;
  else if (name == "INTERNALDATE") att.kind = K::kInternalDate;
  else if (name == "RFC822.SIZE") att.kind = K::kRfc822Size;
  else if (name == "RFC822") att.kind = K::kRfc822;
  else if (name == "RFC822.HEADER") att.kind = K::kRfc822Header;
  else if (name == "RFC822.TEXT") att.kind = K::kRfc822Text;
  else if (name == "ENVELOPE") att.kind = K::kEnvelope;
  else if (name == "BODYSTRUCTURE") att.kind = K::kBodyStructure;
  else if (name == "BODY" || name == "BODY.PEEK") {
    if (c.peek() == '[') {
      att.kind = K::kBodySection;
      att.peek = name == "BODY.PEEK";
      parse_section(c, att);
    } else if (name == "BODY") {
      att.kind = K::kBody;
    } else {
      throw ParseError("BODY.PEEK needs a section");
    }
  } else {
    throw ParseError("Unknown FETCH item " + name);
  }
  return att;
}

void parse_fetch(Cursor& c, Command& cmd) {
  using K = FetchAtt::Kind;
  c.sp();
  cmd.set = c.sequence_set();
  c.sp();
  auto kinds = [&](std::initializer_list<K> ks) {
    for (K k : ks) {
      FetchAtt att;
      att.kind = k;
      cmd.fetch.push_back(att);
    }
  };
  if (c.eat('(')) {
    for (;;) {
      cmd.fetch.push_back(parse_fetch_att(c));
      if (c.eat(')')) break;
      c.sp();
    }
    return;
  }
  if (std::isalpha(static_cast<unsigned char>(c.peek()))) {
    // A macro, or a single item.
    Cursor probe = c;
    std::string word = probe.keyword("a FETCH item");
    if (word == "ALL") { c = probe; kinds({K::kFlags, K::kInternalDate, K::kRfc822Size, K::kEnvelope}); return; }
    if (word == "FAST") { c = probe; kinds({K::kFlags, K::kInternalDate, K::kRfc822Size}); return; }
    if (word == "FULL") {
      c = probe;
      kinds({K::kFlags, K::kInternalDate, K::kRfc822Size, K::kEnvelope, K::kBody});
      return;
    }
  }
  cmd.fetch.push_back(parse_fetch_att(c));
}

// ---- SEARCH ----------------------------------------------------------------

std::int64_t search_date(Cursor& c) {
  std::string text = c.peek() == '"' ? c.quoted() : c.atom("a date");
  auto d = parse_date(text);
  if (!d) throw ParseError("Bad date " + text + " (expected e.g. 1-Feb-1994)");
  return *d;
}

SearchKey parse_search_key(Cursor& c, int depth) {
  using K = SearchKey::Kind;
  if (depth > kMaxSearchDepth) throw ParseError("SEARCH nested too deeply");
  SearchKey key;
  if (c.eat('(')) {
    key.kind = K::kAnd;
    for (;;) {
      key.children.push_back(parse_search_key(c, depth + 1));
      if (c.eat(')')) return key;
      c.sp();
    }
  }
  if (c.peek() == '*' || (c.peek() >= '0' && c.peek() <= '9')) {
    key.kind = K::kSequence;
    key.set = c.sequence_set();
    return key;
  }
  std::string name = c.keyword("a SEARCH key");
  struct Simple { std::string_view name; K kind; };
  static constexpr Simple kSimple[] = {
      {"ALL", K::kAll}, {"ANSWERED", K::kAnswered}, {"DELETED", K::kDeleted}, {"DRAFT", K::kDraft},
      {"FLAGGED", K::kFlagged}, {"NEW", K::kNew}, {"OLD", K::kOld}, {"RECENT", K::kRecent},
      {"SEEN", K::kSeen}, {"UNANSWERED", K::kUnanswered}, {"UNDELETED", K::kUndeleted},
      {"UNDRAFT", K::kUndraft}, {"UNFLAGGED", K::kUnflagged}, {"UNSEEN", K::kUnseen}};
  for (const Simple& s : kSimple) {
    if (name == s.name) { key.kind = s.kind; return key; }
  }
  static constexpr Simple kText[] = {{"BCC", K::kBcc}, {"CC", K::kCc}, {"FROM", K::kFrom}, {"TO", K::kTo},
                                     {"SUBJECT", K::kSubject}, {"BODY", K::kBody}, {"TEXT", K::kText}};
  for (const Simple& s : kText) {
    if (name == s.name) { key.kind = s.kind; c.sp(); key.text = c.astring("a search string"); return key; }
  }
  static constexpr Simple kDates[] = {{"BEFORE", K::kBefore}, {"ON", K::kOn}, {"SINCE", K::kSince},
                                      {"SENTBEFORE", K::kSentBefore}, {"SENTON", K::kSentOn},
                                      {"SENTSINCE", K::kSentSince}};
  for (const Simple& s : kDates) {
    if (name == s.name) { key.kind = s.kind; c.sp(); key.day = search_date(c); return key; }
  }
  if (name == "KEYWORD" || name == "UNKEYWORD") {
    key.kind = name == "KEYWORD" ? K::kKeyword : K::kUnkeyword;
    c.sp();
    key.text = c.atom("a keyword");
  } else if (name == "HEADER") {
    key.kind = K::kHeader;
    c.sp();
    key.field = c.astring("a header field name");
    c.sp();
    key.text = c.astring("a search string");
  } else if (name == "LARGER" || name == "SMALLER") {
    key.kind = name == "LARGER" ? K::kLarger : K::kSmaller;
    c.sp();
    key.number = c.number("a size");
  } else if (name == "UID") {
    key.kind = K::kUid;
    c.sp();
    key.set = c.sequence_set();
  } else if (name == "NOT") {
    key.kind = K::kNot;
    c.sp();
    key.children.push_back(parse_search_key(c, depth + 1));
  } else if (name == "OR") {
    key.kind = K::kOr;
    c.sp();
    key.children.push_back(parse_search_key(c, depth + 1));
    c.sp();
    key.children.push_back(parse_search_key(c, depth + 1));
  } else {
    throw ParseError("Unknown SEARCH key " + name);
  }
  return key;
}

void parse_search(Cursor& c, Command& cmd) {
  c.sp();
  {
    Cursor probe = c;
    if (std::isalpha(static_cast<unsigned char>(probe.peek())) && probe.keyword("CHARSET") == "CHARSET" &&
        probe.peek() == ' ') {
      c = probe;
      c.sp();
      cmd.charset = c.astring("a charset");
      c.sp();
    }
  }
  cmd.search.kind = SearchKey::Kind::kAnd;
  for (;;) {
    cmd.search.children.push_back(parse_search_key(c, 1));
    if (c.at_end()) return;
    c.sp();
  }
}

// ---- the rest ----------------------------------------------------------------

void parse_store(Cursor& c, Command& cmd) {
  c.sp();
  cmd.set = c.sequence_set();
  c.sp();
  if (c.eat('+')) cmd.store_mode = StoreMode::kAdd;
  else if (c.eat('-')) cmd.store_mode = StoreMode::kRemove;
  std::string item = c.keyword("FLAGS");
  if (item == "FLAGS.SILENT") cmd.silent = true;
  else if (item != "FLAGS") throw ParseError("Expected FLAGS, +FLAGS or -FLAGS");
  c.sp();
  if (c.peek() == '(') {
    cmd.flags = c.flag_list();
  } else {
    for (;;) {
      cmd.flags.push_back(c.flag());
      if (c.at_end()) break;
      c.sp();
    }
  }
}

void parse_append(Cursor& c, Command& cmd) {
  c.sp();
  cmd.args.push_back(c.astring("a mailbox name"));
  c.sp();
  if (c.peek() == '(') {
    cmd.flags = c.flag_list();
    c.sp();
  }
  if (c.peek() == '"') {
    std::string text = c.quoted();
    cmd.date = parse_date_time(text);
    if (!cmd.date) throw ParseError("Bad date-time " + text + " (expected e.g. \"17-Jul-1996 02:44:25 -0700\")");
    c.sp();
  }
  if (c.peek() != '{') throw ParseError("Expected the message as a literal");
  cmd.message = c.literal();
}

void parse_status(Cursor& c, Command& cmd) {
  c.sp();
  cmd.args.push_back(c.astring("a mailbox name"));
  c.sp();
  c.expect('(', "'(' opening the status items");
  for (;;) {
    std::string item = c.keyword("a status item");
    if (item != "MESSAGES" && item != "RECENT" && item != "UIDNEXT" && item != "UIDVALIDITY" && item != "UNSEEN")
      throw ParseError("Unknown STATUS item " + item);
    cmd.items.push_back(item);
    if (c.eat(')')) return;
    c.sp();
  }
}

void parse_id(Cursor& c, Command& cmd) {
  c.sp();
  if (!c.eat('(')) {
    if (c.nstring("a parameter list")) throw ParseError("Expected a parameter list or NIL");
    return;
  }
  if (c.eat(')')) return;
  for (;;) {
    std::string field = c.string("an ID field name");
    c.sp();
    cmd.id.emplace_back(std::move(field), c.nstring("an ID value"));
    if (c.eat(')')) return;
    c.sp();
    if (cmd.id.size() >= 30) throw ParseError("Too many ID fields");  // RFC 2971 §3.3
  }
}

}  // namespace

ParseResult parse_command(std::string_view frame) {
  ParseResult result;
  if (frame.ends_with("\r\n")) frame.remove_suffix(2);
  else if (frame.ends_with("\n")) frame.remove_suffix(1);
  Cursor c(frame);
  try {
    std::size_t start = c.pos();
    while (!c.at_end() && c.peek() != '+' && (is_atom_char(c.peek()) || c.peek() == ']')) c.advance();
    if (c.pos() == start || (c.peek() != ' ' && !c.at_end()))
      throw ParseError(frame.empty() ? "Empty command line" : "Missing or invalid tag");
    Command cmd;
    cmd.tag = std::string(c.slice(start, c.pos()));
    result.tag = cmd.tag;
    if (c.at_end()) throw ParseError("Missing command");
    c.sp();
    cmd.name = c.keyword("a command name");
    if (cmd.name == "UID") {
      cmd.uid = true;
      c.sp();
      cmd.name = c.keyword("FETCH, STORE, COPY, SEARCH or EXPUNGE after UID");
      if (cmd.name != "FETCH" && cmd.name != "STORE" && cmd.name != "COPY" && cmd.name != "SEARCH" &&
          cmd.name != "EXPUNGE")
        throw ParseError("UID " + cmd.name + " is not a command");
    }
    const std::string& n = cmd.name;
    if (n == "CAPABILITY" || n == "NOOP" || n == "LOGOUT" || n == "STARTTLS" || n == "CHECK" || n == "CLOSE" ||
        n == "IDLE" || n == "NAMESPACE" || n == "UNSELECT" || (n == "EXPUNGE" && !cmd.uid)) {
      // no arguments
    } else if (n == "LOGIN") {
      c.sp();
      cmd.args.push_back(c.astring("a user name"));
      c.sp();
      cmd.args.push_back(c.astring("a password"));
    } else if (n == "AUTHENTICATE") {
      c.sp();
      cmd.args.push_back(codec::to_upper(c.atom("a SASL mechanism")));
      if (c.eat(' ')) cmd.args.push_back(c.atom("an initial response"));
    } else if (n == "SELECT" || n == "EXAMINE" || n == "CREATE" || n == "DELETE" || n == "SUBSCRIBE" ||
               n == "UNSUBSCRIBE") {
      c.sp();
      cmd.args.push_back(c.astring("a mailbox name"));
    } else if (n == "RENAME") {
      c.sp();
      cmd.args.push_back(c.astring("a mailbox name"));
      c.sp();
      cmd.args.push_back(c.astring("the new mailbox name"));
    } else if (n == "LIST" || n == "LSUB") {
      c.sp();
      cmd.args.push_back(c.astring("a reference name"));
      c.sp();
      cmd.args.push_back(c.list_mailbox());
    } else if (n == "STATUS") {
      parse_status(c, cmd);
    } else if (n == "APPEND") {
      parse_append(c, cmd);
    } else if (n == "SEARCH") {
      parse_search(c, cmd);
    } else if (n == "FETCH") {
      parse_fetch(c, cmd);
    } else if (n == "STORE") {
      parse_store(c, cmd);
    } else if (n == "COPY") {
      c.sp();
      cmd.set = c.sequence_set();
      c.sp();
      cmd.args.push_back(c.astring("a mailbox name"));
    } else if (n == "EXPUNGE") {  // UID EXPUNGE (RFC 4315 §2.1)
      c.sp();
      cmd.set = c.sequence_set();
    } else if (n == "ID") {
      parse_id(c, cmd);
    } else {
      throw ParseError("Unknown command " + n);
    }
    c.end();
    result.command = std::move(cmd);
  } catch (const ParseError& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace mailsim::imap
