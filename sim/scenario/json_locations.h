// Where each value of a JSON text sits (line and column), keyed by JSON
// pointer (RFC 6901), so a scenario error can say "line 12, column 15". It
// is a second, tiny pass over text that nlohmann::json already accepted.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::sim {

struct TextPosition {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based, in characters (UTF-8 code points)
};

struct JsonLocations {
  std::map<std::string, TextPosition> values;  // pointer -> where its value starts
  std::map<std::string, TextPosition> keys;    // pointer -> where its member name starts
  // Members named twice in one object: pointer of the second occurrence.
  std::vector<std::string> duplicate_keys;
};

// Maps every value of `text` (which must be valid JSON). Never throws; on
// text it cannot follow it returns what it mapped so far.
JsonLocations map_json_locations(std::string_view text);

// Line and column of a byte offset in `text`.
TextPosition position_of_offset(std::string_view text, std::size_t offset);

// One pointer token, escaped (~ -> ~0, / -> ~1).
std::string escape_pointer_token(std::string_view token);

}  // namespace mailsim::sim
