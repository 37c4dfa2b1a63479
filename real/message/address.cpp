// RFC 5322 §3.4 address-list parser for IMAP ENVELOPE; see address.h.
#include "real/message/address.h"

#include "real/message/lexical.h"

namespace mailsim::message {

namespace {

struct Token {
  enum Kind { kWord, kQuoted, kSpecial, kComment, kDomainLiteral } kind;
  std::string text;  // word, unescaped quoted/comment content, special char, [literal]
};

bool is_special(char c) { return std::string_view("<>@,;:\"()[]\\").find(c) != std::string_view::npos; }

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_fws_char(c)) { ++i; continue; }
    if (c == '"') {
      out.push_back({Token::kQuoted, read_quoted_string(s, i)});
    } else if (c == '(') {
      out.push_back({Token::kComment, read_comment(s, i)});
    } else if (c == '[') {
      std::size_t close = s.find(']', i);
      std::size_t end = close == std::string_view::npos ? s.size() : close + 1;
      out.push_back({Token::kDomainLiteral, std::string(s.substr(i, end - i))});
      i = end;
    } else if (is_special(c)) {
      out.push_back({Token::kSpecial, std::string(1, c)});
      ++i;
    } else {
      std::size_t start = i;
      while (i < s.size() && !is_fws_char(s[i]) && !is_special(s[i])) ++i;
      out.push_back({Token::kWord, std::string(s.substr(start, i - start))});
    }
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

  std::vector<Address> list() {
    std::vector<Address> out;
    while (pos_ < t_.size()) {
      if (special(",") || special(";") || special(">")) { ++pos_; continue; }
      std::size_t before = pos_;
      address(out, /*in_group=*/false);
      if (pos_ == before) ++pos_;  // never loop on a token nobody wants
    }
    return out;
  }

 private:
  bool special(std::string_view c) const {
    return pos_ < t_.size() && t_[pos_].kind == Token::kSpecial && t_[pos_].text == c;
  }
  void skip_comments(std::string* last) {
    while (pos_ < t_.size() && t_[pos_].kind == Token::kComment) {
      if (last) *last = t_[pos_].text;
      ++pos_;
    }
  }

  // Words and quoted strings up to the next special. `spaced` joins them as a
  // display phrase; otherwise they are glued (a local part such as "a.b").
  std::vector<const Token*> words(std::string* comment) {
    std::vector<const Token*> w;
    for (;;) {
      skip_comments(comment);
      if (pos_ < t_.size() && (t_[pos_].kind == Token::kWord || t_[pos_].kind == Token::kQuoted)) {
        w.push_back(&t_[pos_++]);
      } else {
        return w;
      }
    }
  }
  static std::string join(const std::vector<const Token*>& w, std::string_view sep) {
    std::string out;
    for (const Token* t : w) {
      if (!out.empty()) out += sep;
      out += t->text;
    }
    return out;
  }
  // Domain after '@': words, dots (inside words) and domain literals.
  std::string domain(std::string* comment) {
    std::string d;
    for (;;) {
      skip_comments(comment);
      if (pos_ < t_.size() && (t_[pos_].kind == Token::kWord || t_[pos_].kind == Token::kDomainLiteral)) {
        d += t_[pos_++].text;
      } else {
        return d;
      }
    }
  }

  void address(std::vector<Address>& out, bool in_group) {
    std::string comment;
    std::vector<const Token*> phrase = words(&comment);

    if (!in_group && special(":")) {
      ++pos_;
      out.push_back({std::nullopt, std::nullopt, join(phrase, " "), std::nullopt});
      while (pos_ < t_.size() && !special(";")) {
        if (special(",")) { ++pos_; continue; }
        std::size_t before = pos_;
        address(out, /*in_group=*/true);
        if (pos_ == before) ++pos_;
      }
      if (special(";")) ++pos_;
      out.push_back({});
      return;
    }

    Address a;
    if (special("<")) {
      ++pos_;
      skip_comments(nullptr);
      if (special("@")) {  // obs-route: "@a,@b:" (RFC 5322 §4.4)
        std::string route;
        while (pos_ < t_.size() && !special(":") && !special(">")) route += t_[pos_++].text;
        if (special(":")) ++pos_;
        a.route = route;
      }
      std::vector<const Token*> local = words(nullptr);
      std::string host;
      if (special("@")) { ++pos_; host = domain(nullptr); }
      while (pos_ < t_.size() && !special(">") && !special(",") && !special(";")) ++pos_;
      if (special(">")) ++pos_;
      skip_comments(nullptr);
      if (!phrase.empty()) a.name = join(phrase, " ");
      a.mailbox = local.empty() ? "MISSING_MAILBOX" : join(local, "");
      a.host = host.empty() ? "MISSING_DOMAIN" : host;
    } else if (special("@")) {
      ++pos_;
      std::string host = domain(&comment);
      skip_comments(&comment);
      if (!comment.empty()) a.name = comment;
      a.mailbox = phrase.empty() ? "MISSING_MAILBOX" : join(phrase, "");
      a.host = host.empty() ? "MISSING_DOMAIN" : host;
    } else if (!phrase.empty()) {
      // A bare word such as "root": a local part without a domain.
      if (!comment.empty()) a.name = comment;
      a.mailbox = join(phrase, "");
      a.host = "MISSING_DOMAIN";
    } else {
      return;
    }
    out.push_back(std::move(a));
  }

  std::vector<Token> t_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string Address::addr_spec() const {
  if (!host || !mailbox) return "";
  return *mailbox + "@" + *host;
}

std::vector<Address> parse_address_list(std::string_view value) {
  return Parser(tokenize(value)).list();
}

}  // namespace mailsim::message
