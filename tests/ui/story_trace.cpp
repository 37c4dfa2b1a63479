// Prints the view tests' story (tests/unit/ui/story.h) as JSON Lines, the
// format of `mailsim run --json`. tests/ui/data/retry-story.jsonl was made
// with it; a unit test checks the file still matches.
#include "sim/trace/jsonl.h"
#include "../unit/ui/story.h"

#include <iostream>

int main() {
  for (const auto& e : mailsim::ui::testing::retry_story()) std::cout << mailsim::sim::to_jsonl_line(e) << "\n";
  return 0;
}
