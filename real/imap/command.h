// IMAP4rev1 client commands (RFC 3501 §6, formal syntax §9) parsed from one
// framed command (see command_reader.h) into a typed Command: tag, verb and
// the arguments that verb takes. Also IDLE (RFC 2177), ID (RFC 2971),
// NAMESPACE (RFC 2342), UNSELECT (RFC 3691), UID EXPUNGE (RFC 4315) and
// SASL-IR (RFC 4959).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mailsim::imap {

// RFC 3501 sequence-set: "1:*", "3,5:7", "*". A number 0 stands for "*".
struct SequenceSet {
  struct Range {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
  };
  std::vector<Range> ranges;

  // Whether `n` is in the set when "*" means `star` (the largest number in
  // use). Ranges match in either order ("7:3" is "3:7").
  bool contains(std::uint32_t n, std::uint32_t star) const;
  // The largest number written explicitly ("*" excluded); 0 when none.
  std::uint32_t largest_explicit() const;
  bool uses_star() const;
};

// One FETCH attribute (RFC 3501 §6.4.5).
struct FetchAtt {
  enum class Kind {
    kFlags, kUid, kInternalDate, kRfc822Size, kRfc822, kRfc822Header, kRfc822Text,
    kEnvelope, kBodyStructure,
    kBody,         // BODY without a section: BODYSTRUCTURE without extension data
    kBodySection,  // BODY[...] and BODY.PEEK[...]
  };
  enum class Text { kNone, kHeader, kHeaderFields, kHeaderFieldsNot, kText, kMime };

  Kind kind = Kind::kFlags;
  // kBodySection only:
  bool peek = false;
  std::vector<unsigned> part;          // "1.2" → {1, 2}; empty: the whole message
  Text text = Text::kNone;
  std::vector<std::string> fields;     // HEADER.FIELDS (...) names, as written
  std::optional<std::uint32_t> partial_offset;  // <offset.length>
  std::uint32_t partial_length = 0;
  std::string section;                 // the text between [ and ], echoed in the response
};

// A SEARCH key (RFC 3501 §6.4.4) as a tree.
struct SearchKey {
  enum class Kind {
    kAnd,  // all children (a parenthesised list, or the top level)
    kOr, kNot,
    kAll, kAnswered, kDeleted, kDraft, kFlagged, kNew, kOld, kRecent, kSeen,
    kUnanswered, kUndeleted, kUndraft, kUnflagged, kUnseen,
    kKeyword, kUnkeyword,                        // text = keyword
    kBcc, kCc, kFrom, kTo, kSubject, kBody, kText,  // text = string to find
    kHeader,                                     // field = name, text = string
    kBefore, kOn, kSince, kSentBefore, kSentOn, kSentSince,  // day = days since epoch
    kLarger, kSmaller,                           // number
    kUid,                                        // set (UIDs)
    kSequence,                                   // set (sequence numbers)
  };
  Kind kind = Kind::kAll;
  std::string text;
  std::string field;
  std::int64_t day = 0;
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
};

enum class StoreMode { kReplace, kAdd, kRemove };

struct Command {
  std::string tag;
  std::string name;      // verb, upper-case: "FETCH" (also for UID FETCH: see `uid`)
  bool uid = false;      // UID FETCH / STORE / COPY / SEARCH / EXPUNGE

  // Used by the verbs noted; empty otherwise.
  std::vector<std::string> args;    // LOGIN user pass; SELECT/EXAMINE/CREATE/DELETE/
                                    // SUBSCRIBE/UNSUBSCRIBE/STATUS/APPEND/COPY mailbox;
                                    // RENAME old new; LIST/LSUB reference pattern;
                                    // AUTHENTICATE mechanism [initial-response]
  SequenceSet set;                  // FETCH STORE COPY, UID EXPUNGE
  std::vector<FetchAtt> fetch;      // FETCH (macros ALL/FAST/FULL expanded)
  std::vector<std::string> items;   // STATUS item names, upper-case
  std::vector<std::string> flags;   // STORE and APPEND flag list, as written
  StoreMode store_mode = StoreMode::kReplace;
  bool silent = false;              // STORE ... .SILENT
  std::optional<std::int64_t> date; // APPEND date-time (epoch seconds)
  std::string message;              // APPEND literal
  std::optional<std::string> charset;  // SEARCH CHARSET
  SearchKey search;                 // SEARCH
  std::vector<std::pair<std::string, std::optional<std::string>>> id;  // ID field/value pairs
};

// The outcome of parsing one framed command: a Command, or a reason to answer
// BAD. `tag` is filled whenever one could be read ("*" otherwise), so the
// refusal can be tagged.
struct ParseResult {
  std::optional<Command> command;
  std::string tag = "*";
  std::string error;  // human text for "tag BAD <error>"
};

// Parses one command frame as CommandReader delivered it (final CRLF
// included; a bare LF is accepted too).
ParseResult parse_command(std::string_view frame);

}  // namespace mailsim::imap
