// An SMTP reply as the MTA reasons about it (RFC 5321 §4.2, enhanced status
// codes RFC 3463): 2xx done, 4xx try again later, 5xx give up.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::mta {

struct Reply {
  int code = 0;          // 250, 451, 550, ...
  std::string enhanced;  // "2.1.5", may be empty
  std::string text;      // the rest of the (first) line

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }

  // "550 5.1.1 <bob@beta.example>: no such user here"
  std::string to_string() const;
  // The enhanced status, or one derived from the basic code class ("4.0.0", "5.0.0").
  std::string status() const;
};

// Builds a reply; `enhanced` may be "".
Reply make_reply(int code, std::string_view enhanced, std::string_view text);

// Parses "550 5.1.1 text" / "550-5.1.1 text" / "421 text"; code 0 if malformed.
Reply parse_reply(std::string_view line);

// True when `s` looks like an RFC 3463 status "c.s.d" (c in 2,4,5).
bool is_enhanced_status(std::string_view s);

}  // namespace mailsim::mta
