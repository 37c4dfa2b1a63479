// IMAP4rev1 server session (RFC 3501 and extensions listed in server.h).
#include "real/imap/server.h"

#include <algorithm>
#include <map>
#include <set>

#include "real/codec/ascii.h"
#include "real/codec/base64.h"
#include "real/imap/body_structure.h"
#include "real/imap/wire.h"
#include "real/message/date.h"
#include "real/message/encoded_word.h"
#include "real/mime/mime.h"

namespace mailsim::imap {

using store::MessageInfo;
using store::StoreErrc;
using store::StoreError;
using store::SystemFlag;

std::string_view to_string(ServerState s) {
  switch (s) {
    case ServerState::kConnected: return "connected";
    case ServerState::kNotAuthenticated: return "not-authenticated";
    case ServerState::kAuthenticated: return "authenticated";
    case ServerState::kSelected: return "selected";
    case ServerState::kLogout: return "logout";
  }
  return "?";
}

namespace {

constexpr std::string_view kSystemFlags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

// A FLAGS list; \Recent is the store's per-session bit, shown here.
std::string flag_list(const MessageInfo& m) {
  std::string f = store::format_flags(m.flags);
  if (m.recent) f += f.empty() ? "\\Recent" : " \\Recent";
  return "(" + f + ")";
}

// "\Seen" / keywords → store::Flags. nullopt (BAD) for an unknown "\Flag";
// \Recent cannot be set by a client and is ignored (RFC 3501 §2.3.2).
std::optional<store::Flags> to_store_flags(const std::vector<std::string>& names) {
  store::Flags f;
  for (const std::string& n : names) {
    if (n.starts_with("\\")) {
      if (codec::iequals(n, "\\Recent")) continue;
      auto sf = store::parse_system_flag(n);
      if (!sf) return std::nullopt;
      f.set(*sf);
    } else {
      f.keywords.insert(n);
    }
  }
  return f;
}

// LIST wildcard match (RFC 3501 §6.3.8): '*' matches anything, '%' anything
// but the hierarchy delimiter. Dynamic programming, so no pattern can make it
// take exponential time.
bool list_match(std::string_view pattern, std::string_view name) {
  std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
  prev[0] = 1;
  for (char p : pattern) {
    cur.assign(name.size() + 1, 0);
    if (p == '*' || p == '%') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= name.size(); ++j) {
        bool can_extend = p == '*' || name[j - 1] != store::MailboxStore::kDelimiter;
        cur[j] = prev[j] || (can_extend && cur[j - 1]);
      }
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j) cur[j] = prev[j - 1] && name[j - 1] == p;
    }
    std::swap(prev, cur);
  }
  return prev[name.size()] != 0;
}

// INBOX is case-insensitive: so is the INBOX part of a pattern.
std::string canonical_pattern(std::string pattern) {
  if (pattern.size() >= 5 && codec::iequals(std::string_view(pattern).substr(0, 5), "INBOX") &&
      (pattern.size() == 5 || pattern[5] == store::MailboxStore::kDelimiter)) {
    for (std::size_t i = 0; i < 5; ++i) pattern[i] = "INBOX"[i];
  }
  return pattern;
}

std::string mailbox_name(const std::string& name) { return store::MailboxStore::canonical_name(name); }

// What a FETCH of `att` shows as the item name: "BODY[HEADER]<0>".
std::string section_name(const FetchAtt& att) {
  std::string n = "BODY[" + att.section + "]";
  if (att.partial_offset) n += "<" + std::to_string(*att.partial_offset) + ">";
  return n;
}

std::string header_fields(const mime::Header& header, const std::vector<std::string>& names, bool negate) {
  std::string out;
  for (const mime::HeaderField& f : header.fields()) {
    bool listed = std::any_of(names.begin(), names.end(), [&](const std::string& n) { return codec::iequals(n, f.name); });
    if (listed != negate) {
      out += f.raw;
      if (!f.raw.ends_with("\n")) out += "\r\n";
    }
  }
  return out + "\r\n";
}

// One message being fetched: the bytes, and the MIME tree parsed only if an
// item needs it (ENVELOPE, BODYSTRUCTURE, a part, HEADER.FIELDS).
class FetchedMessage {
 public:
  explicit FetchedMessage(std::string_view raw) : raw_(raw) {}
  std::string_view raw() const { return raw_; }
  // Where message::parse_headers ends the header: BODY[HEADER] and
  // BODY[TEXT] need no MIME parse.
  std::string_view header() const { return raw_.substr(0, store::header_section_size(raw_)); }
  std::string_view body() const { return raw_.substr(store::header_section_size(raw_)); }
  const mime::Entity& tree() {
    if (!tree_) tree_ = mime::parse_message(raw_);
    return *tree_;
  }

 private:
  std::string_view raw_;
  std::optional<mime::Entity> tree_;
};

// The bytes BODY[section] names, or nullopt (NIL) when the part does not
// exist. A view into the message, or into `scratch` (HEADER.FIELDS).
std::optional<std::string_view> section_content(FetchedMessage& msg, const FetchAtt& att, std::string& scratch) {
  using T = FetchAtt::Text;
  const std::string_view raw = msg.raw();
  if (att.part.empty()) {
    switch (att.text) {
      case T::kNone: return raw;
      case T::kHeader: return msg.header();
      case T::kText: return msg.body();
      default: break;
    }
  }
  const mime::Entity& root = msg.tree();
  const mime::Entity* target = &root;
  if (!att.part.empty()) {
    const mime::Entity* part = mime::find_part(root, att.part);
    if (!part) return std::nullopt;
    if (att.text == T::kNone) return part->body_text(raw);
    if (att.text == T::kMime) return part->header_text(raw);
    // HEADER / TEXT of a part only exist for an encapsulated message.
    if (!part->is_message_rfc822()) return std::string_view();
    target = &part->message.front();
  }
  switch (att.text) {
    case T::kNone: return target->text(raw);
    case T::kHeader: return target->header_text(raw);
    case T::kText: return target->body_text(raw);
    case T::kHeaderFields: scratch = header_fields(target->header, att.fields, false); return std::string_view(scratch);
    case T::kHeaderFieldsNot: scratch = header_fields(target->header, att.fields, true); return std::string_view(scratch);
    case T::kMime: break;
  }
  return std::string_view();
}

// Everything SEARCH may look at for one message, loaded on first need.
struct SearchSubject {
  const MessageInfo* info;
  std::uint32_t seq;
  std::uint32_t max_seq;
  store::Uid max_uid;
  std::function<const std::string&()> raw;
  std::optional<mime::Entity> tree;
  std::optional<std::string> body_text;  // decoded text of every leaf, for BODY / TEXT

  const mime::Entity& entity() {
    if (!tree) tree = mime::parse_message(raw());
    return *tree;
  }
  bool header_contains(std::string_view field, std::string_view needle) {
    bool any = false;
    for (const mime::HeaderField& f : entity().header.fields()) {
      if (!codec::iequals(f.name, field)) continue;
      any = true;
      if (codec::icontains(message::decode_words(f.value), needle) || codec::icontains(f.value, needle))
        return true;
    }
    return any && needle.empty();
  }
  const std::string& body() {
    if (!body_text) {
      body_text.emplace();
      collect(entity());
    }
    return *body_text;
  }
  void collect(const mime::Entity& e) {
    if (e.is_multipart()) {
      for (const mime::Entity& p : e.parts) collect(p);
    } else if (e.is_message_rfc822()) {
      const mime::Entity& m = e.message.front();
      *body_text += m.header_text(raw());
      collect(m);
    } else {
      *body_text += mime::decode_transfer_encoding(e.body_text(raw()), e.encoding);
      *body_text += "\n";
    }
  }
};

bool search_match(const SearchKey& k, SearchSubject& s) {
  using K = SearchKey::Kind;
  const store::Flags& f = s.info->flags;
  switch (k.kind) {
    case K::kAnd:
      for (const SearchKey& c : k.children)
        if (!search_match(c, s)) return false;
      return true;
    case K::kOr: return search_match(k.children[0], s) || search_match(k.children[1], s);
    case K::kNot: return !search_match(k.children[0], s);
    case K::kAll: return true;
    case K::kAnswered: return f.has(SystemFlag::kAnswered);
    case K::kDeleted: return f.has(SystemFlag::kDeleted);
    case K::kDraft: return f.has(SystemFlag::kDraft);
    case K::kFlagged: return f.has(SystemFlag::kFlagged);
    case K::kSeen: return f.has(SystemFlag::kSeen);
    case K::kUnanswered: return !f.has(SystemFlag::kAnswered);
    case K::kUndeleted: return !f.has(SystemFlag::kDeleted);
    case K::kUndraft: return !f.has(SystemFlag::kDraft);
    case K::kUnflagged: return !f.has(SystemFlag::kFlagged);
    case K::kUnseen: return !f.has(SystemFlag::kSeen);
    case K::kRecent: return s.info->recent;
    case K::kNew: return s.info->recent && !f.has(SystemFlag::kSeen);
    case K::kOld: return !s.info->recent;
    case K::kKeyword: return f.keywords.count(k.text) > 0;
    case K::kUnkeyword: return f.keywords.count(k.text) == 0;
    case K::kBcc: return s.header_contains("Bcc", k.text);
    case K::kCc: return s.header_contains("Cc", k.text);
    case K::kFrom: return s.header_contains("From", k.text);
    case K::kTo: return s.header_contains("To", k.text);
    case K::kSubject: return s.header_contains("Subject", k.text);
    case K::kHeader: return s.header_contains(k.field, k.text);
    case K::kBody: return codec::icontains(s.body(), k.text);
    case K::kText: {
      const mime::Entity& e = s.entity();
      return codec::icontains(message::decode_words(e.header_text(s.raw())), k.text) ||
             codec::icontains(s.body(), k.text);
    }
    case K::kBefore: return message::day_of(s.info->internal_date) < k.day;
    case K::kOn: return message::day_of(s.info->internal_date) == k.day;
    case K::kSince: return message::day_of(s.info->internal_date) >= k.day;
    case K::kSentBefore:
    case K::kSentOn:
    case K::kSentSince: {
      const std::string* date = s.entity().header.value("Date");
      auto day = date ? message::parse_date_day(*date) : std::nullopt;
      if (!day) return false;
      if (k.kind == K::kSentBefore) return *day < k.day;
      if (k.kind == K::kSentOn) return *day == k.day;
      return *day >= k.day;
    }
    case K::kLarger: return s.info->size > k.number;
    case K::kSmaller: return s.info->size < k.number;
    case K::kUid: return k.set.contains(s.info->uid, s.max_uid);
    case K::kSequence: return k.set.contains(s.seq, s.max_seq);
  }
  return false;
}

}  // namespace

// ---- the selected folder ----------------------------------------------------

struct ServerSession::View {
  std::string folder;
  bool read_only = false;
  std::vector<MessageInfo> msgs;  // index + 1 = sequence number
  std::vector<bool> gone;         // expunged in the store, EXPUNGE not yet sent
  store::UidValidity uidvalidity = 0;
  std::uint64_t generation = 0;
  std::vector<std::string> keywords;

  store::Uid max_uid() const { return msgs.empty() ? 0 : msgs.back().uid; }
};

// A FETCH in progress: what it asks for and how far it got. Kept between
// calls when config_.output_chunk pauses it (see continue_output()).
struct ServerSession::PendingFetch {
  Command cmd;
  std::vector<std::size_t> idx;  // message indices, in the order asked
  std::size_t next = 0;          // the next entry of idx to answer
  bool wants_uid = false;        // UID FETCH without UID among the items
  bool wants_flags = false;
  bool needs_content = false;    // some item needs the message's bytes
  bool header_only = false;      // ... but only its header section (store::fetch_header)
  bool sets_seen = false;        // a non-PEEK body item on a read-write mailbox
  bool vanished = false;         // some message was expunged meanwhile
  std::string raw;               // the current message, reused
  std::string scratch;           // HEADER.FIELDS text
};

// ---- the command table: every command, the states it is valid in, and
// whether EXPUNGE responses may accompany it (RFC 3501 §7.4.1: not during
// FETCH, STORE or SEARCH, whose replies use sequence numbers) -------------------

namespace {
constexpr unsigned kNotAuth = 1, kAuth = 2, kSel = 4, kAny = kNotAuth | kAuth | kSel;
}

struct ServerSession::Handler {
  std::string_view name;
  unsigned states;
  bool expunge_ok;  // for the non-UID form; UID forms always allow it
  void (ServerSession::*run)(const Command&);
};

const ServerSession::Handler* ServerSession::find_handler(std::string_view name) {
  using S = ServerSession;
  static const Handler kTable[] = {
      // name           valid in      EXPUNGE ok  run
      {"CAPABILITY",    kAny,         true,       &S::cmd_capability},
      {"NOOP",          kAny,         true,       &S::cmd_noop},
      {"LOGOUT",        kAny,         true,       &S::cmd_logout},
      {"ID",            kAny,         true,       &S::cmd_id},
      {"STARTTLS",      kNotAuth,     true,       &S::cmd_starttls},
      {"LOGIN",         kNotAuth,     true,       &S::cmd_login},
      {"AUTHENTICATE",  kNotAuth,     true,       &S::cmd_authenticate},
      {"NAMESPACE",     kAuth | kSel, true,       &S::cmd_namespace},
      {"SELECT",        kAuth | kSel, true,       &S::cmd_select},
      {"EXAMINE",       kAuth | kSel, true,       &S::cmd_select},
      {"CREATE",        kAuth | kSel, true,       &S::cmd_create},
      {"DELETE",        kAuth | kSel, true,       &S::cmd_delete},
      {"RENAME",        kAuth | kSel, true,       &S::cmd_rename},
      {"SUBSCRIBE",     kAuth | kSel, true,       &S::cmd_subscribe},
      {"UNSUBSCRIBE",   kAuth | kSel, true,       &S::cmd_subscribe},
      {"LIST",          kAuth | kSel, true,       &S::cmd_list},
      {"LSUB",          kAuth | kSel, true,       &S::cmd_list},
      {"STATUS",        kAuth | kSel, true,       &S::cmd_status},
      {"APPEND",        kAuth | kSel, true,       &S::cmd_append},
      {"IDLE",          kAuth | kSel, true,       &S::cmd_idle},
      {"CHECK",         kSel,         true,       &S::cmd_check},
      {"CLOSE",         kSel,         true,       &S::cmd_close},
      {"UNSELECT",      kSel,         true,       &S::cmd_close},
      {"EXPUNGE",       kSel,         true,       &S::cmd_expunge},
      {"SEARCH",        kSel,         false,      &S::cmd_search},
      {"FETCH",         kSel,         false,      &S::cmd_fetch},
      {"STORE",         kSel,         false,      &S::cmd_store},
      {"COPY",          kSel,         true,       &S::cmd_copy},
  };
  for (const Handler& h : kTable)
    if (h.name == name) return &h;
  return nullptr;
}

// ---- session plumbing ---------------------------------------------------------

ServerSession::ServerSession(ServerConfig config, store::MailboxStore& store, const store::Credentials& credentials)
    : config_(std::move(config)), store_(store), credentials_(credentials), reader_(config_.limits) {}

ServerSession::~ServerSession() = default;

std::string ServerSession::capabilities() const {
  std::string caps = "IMAP4rev1 SASL-IR LITERAL+ ID IDLE UIDPLUS NAMESPACE UNSELECT";
  if (state_ == ServerState::kNotAuthenticated || state_ == ServerState::kConnected) {
    if (config_.tls_available && !tls_) caps += " STARTTLS";
    if (tls_ || config_.allow_plaintext_login) caps += " AUTH=PLAIN";
    else caps += " LOGINDISABLED";
  }
  return caps;
}

std::string ServerSession::selected_folder() const { return view_ ? view_->folder : std::string(); }

void ServerSession::set_state(ServerState s) {
  if (s == state_) return;
  emit(server_events::StateChanged{state_, s});
  state_ = s;
}

void ServerSession::start() {
  if (state_ != ServerState::kConnected) return;
  if (config_.implicit_tls) {
    tls_ = true;
    emit(server_events::TlsStarted{config_.implicit_tls_info});
  }
  set_state(ServerState::kNotAuthenticated);
  untagged("OK [CAPABILITY " + capabilities() + "] " + config_.hostname + " IMAP4rev1 server ready");
}

std::string ServerSession::take_output() { return std::exchange(out_, std::string()); }

std::optional<ServerEvent> ServerSession::next_event() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ServerSession::receive(std::string_view bytes) {
  if (state_ == ServerState::kLogout || state_ == ServerState::kConnected) return;
  if (mode_ == Mode::kTlsHandshake) {
    // Plaintext after STARTTLS and before the handshake completes is an
    // injection attempt (CVE-2011-0411) or a confused client: never act on it.
    emit(server_events::InputDiscarded{bytes.size(), "sent after STARTTLS (CVE-2011-0411)"});
    return;
  }
  reader_.feed(bytes);
  pump();
}

void ServerSession::pump() {
  if (in_pump_) return;
  in_pump_ = true;
  while (state_ != ServerState::kLogout && mode_ != Mode::kAuthDelay && mode_ != Mode::kTlsHandshake && !fetch_) {
    CommandReader::Item item = reader_.next();
    using K = CommandReader::Kind;
    if (item.kind == K::kNone) break;
    switch (item.kind) {
      case K::kNone: break;
      case K::kContinue: send_raw("+ Ready for literal data\r\n"); break;
      case K::kLiteralTooBig:
        emit(server_events::CommandReceived{item.tag, "", "(literal of " + std::to_string(item.literal_size) +
                                                              " octets announced)"});
        if (item.synchronizing) {
          tagged(item.tag, "NO", "[TOOBIG] Literal too large (" + std::to_string(item.literal_size) + " octets)");
        } else {
          bad(item.tag, "[TOOBIG] Literal too large (" + std::to_string(item.literal_size) + " octets)");
        }
        break;
      case K::kLineTooLong:
        emit(server_events::CommandReceived{item.tag, "", "(command line too long)"});
        bad(item.tag, "[TOOBIG] Command line too long");
        break;
      case K::kCommand: dispatch(std::move(item.text)); break;
    }
  }
  if (mode_ == Mode::kAuthDelay && reader_.buffered() > config_.max_pending_input) {
    bye("Too much input while a reply is pending", "input flood while waiting");
  }
  in_pump_ = false;
}

void ServerSession::send_raw(std::string text) {
  emit(server_events::ResponseSent{summarize_literals(text)});
  if (out_.empty()) out_ = std::move(text);
  else out_ += text;
}

void ServerSession::untagged(std::string_view text) { send_raw("* " + std::string(text) + "\r\n"); }

void ServerSession::tagged(const std::string& tag, std::string_view status, std::string_view text) {
  send_raw(tag + " " + std::string(status) + " " + std::string(text) + "\r\n");
}

void ServerSession::bad(const std::string& tag, std::string_view text) {
  tagged(tag, "BAD", text);
  if (++bad_in_a_row_ >= config_.max_bad_commands) bye("Too many invalid commands", "too many invalid commands");
}

void ServerSession::finish(const Command& cmd, std::string_view status, std::string_view text) {
  if (view_) sync(cmd.uid || !current_ || current_->expunge_ok);
  if (state_ == ServerState::kLogout) return;  // the folder vanished: BYE was sent
  tagged(cmd.tag, status, text);
}

void ServerSession::bye(std::string_view text, std::string reason) {
  if (state_ == ServerState::kLogout) return;
  untagged("BYE " + std::string(text));
  set_state(ServerState::kLogout);
  emit(server_events::SessionClosed{std::move(reason)});
}

void ServerSession::peer_closed() {
  fetch_.reset();
  if (state_ == ServerState::kLogout) return;
  if (mode_ == Mode::kIdle) emit(server_events::IdleEnded{});
  mode_ = Mode::kCommand;
  set_state(ServerState::kLogout);
  emit(server_events::SessionClosed{"peer closed"});
}

void ServerSession::tls_established(const TlsInfo& info) {
  if (mode_ != Mode::kTlsHandshake) return;
  tls_requested_ = false;
  tls_ = true;
  mode_ = Mode::kCommand;
  emit(server_events::TlsStarted{info});
  // No greeting: the client asks CAPABILITY again (RFC 3501 §6.2.1).
}

void ServerSession::tls_failed(std::string_view reason) {
  if (mode_ != Mode::kTlsHandshake) return;
  tls_requested_ = false;
  mode_ = Mode::kCommand;
  // Nothing can be said: the peer expects TLS records now.
  set_state(ServerState::kLogout);
  emit(server_events::SessionClosed{"TLS handshake failed: " + std::string(reason)});
}

void ServerSession::resume() {
  if (mode_ != Mode::kAuthDelay) return;
  mode_ = Mode::kCommand;
  send_raw(std::exchange(held_reply_, std::string()));
  if (held_disconnect_) {
    bye("Too many authentication failures", "too many authentication failures");
    return;
  }
  pump();
}

void ServerSession::mailbox_changed() {
  if (mode_ == Mode::kIdle && view_) sync(true);
}

// ---- dispatch -------------------------------------------------------------------

void ServerSession::dispatch(std::string frame) {
  if (mode_ == Mode::kIdle) {
    std::string_view line = frame;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    emit(server_events::CommandReceived{pending_tag_, "DONE", std::string(line)});
    mode_ = Mode::kCommand;
    emit(server_events::IdleEnded{});
    Command idle;
    idle.tag = pending_tag_;
    idle.name = "IDLE";
    current_ = find_handler("IDLE");
    if (codec::iequals(line, "DONE")) {
      bad_in_a_row_ = 0;
      finish(idle, "OK", "IDLE terminated");
    } else {
      bad(pending_tag_, "Expected DONE to end IDLE");
    }
    return;
  }
  if (mode_ == Mode::kSaslResponse) {
    std::string_view line = frame;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    emit(server_events::CommandReceived{pending_tag_, "SASL", std::string(line)});
    mode_ = Mode::kCommand;
    if (line == "*") {
      bad(pending_tag_, "Authentication cancelled");  // RFC 3501 §6.2.2
      return;
    }
    sasl_plain(pending_tag_, line);
    return;
  }

  ParseResult parsed = parse_command(frame);
  if (!parsed.command) {
    emit(server_events::CommandReceived{parsed.tag, "", summarize_literals(frame)});
    bad(parsed.tag, parsed.error);
    return;
  }
  const Command& cmd = *parsed.command;
  emit(server_events::CommandReceived{cmd.tag, (cmd.uid ? "UID " : "") + cmd.name, summarize_literals(frame)});
  execute(cmd);
}

void ServerSession::execute(const Command& cmd) {
  const Handler* h = find_handler(cmd.name);
  if (!h) {
    bad(cmd.tag, "Unknown command " + cmd.name);
    return;
  }
  unsigned st = state_ == ServerState::kNotAuthenticated ? kNotAuth
                : state_ == ServerState::kAuthenticated  ? kAuth
                                                         : kSel;
  if (!(h->states & st)) {
    if (st == kNotAuth) bad(cmd.tag, cmd.name + " needs login first");
    else if (h->states == kSel) bad(cmd.tag, cmd.name + " needs a selected mailbox (SELECT or EXAMINE first)");
    else bad(cmd.tag, cmd.name + " is not allowed after login");
    return;
  }
  bad_in_a_row_ = 0;
  current_ = h;
  try {
    (this->*(h->run))(cmd);
  } catch (const StoreError& e) {
    store_failed(cmd, e);
  }
}

void ServerSession::store_failed(const Command& cmd, const StoreError& e) {
  std::string code;
  switch (e.code()) {
    case StoreErrc::kNoSuchFolder:
      code = (cmd.name == "APPEND" || cmd.name == "COPY") ? "[TRYCREATE] " : "[NONEXISTENT] ";
      break;
    case StoreErrc::kFolderExists: code = "[ALREADYEXISTS] "; break;
    case StoreErrc::kInboxNotAllowed:
    case StoreErrc::kHasChildren: code = "[CANNOT] "; break;
    case StoreErrc::kTooManyKeywords: code = "[LIMIT] "; break;
    case StoreErrc::kIo: code = "[SERVERBUG] "; break;
    default: break;
  }
  std::string text = e.what();
  finish(cmd, "NO", code + (text.empty() ? "Failed" : text));
}

// ---- any state --------------------------------------------------------------------

void ServerSession::cmd_capability(const Command& cmd) {
  untagged("CAPABILITY " + capabilities());
  finish(cmd, "OK", "CAPABILITY completed");
}

void ServerSession::cmd_noop(const Command& cmd) { finish(cmd, "OK", "NOOP completed"); }

void ServerSession::cmd_logout(const Command& cmd) {
  untagged("BYE " + config_.hostname + " IMAP4rev1 server logging out");
  tagged(cmd.tag, "OK", "LOGOUT completed");
  if (mode_ == Mode::kIdle) emit(server_events::IdleEnded{});
  view_.reset();
  set_state(ServerState::kLogout);
  emit(server_events::SessionClosed{"LOGOUT"});
}

void ServerSession::cmd_id(const Command& cmd) {
  untagged("ID (\"name\" \"mailsim\" \"version\" \"0.1\")");
  finish(cmd, "OK", "ID completed");
}

// ---- not authenticated --------------------------------------------------------------

void ServerSession::cmd_starttls(const Command& cmd) {
  if (!config_.tls_available || tls_) {
    bad(cmd.tag, tls_ ? "TLS is already active" : "STARTTLS is not available");
    return;
  }
  tagged(cmd.tag, "OK", "Begin TLS negotiation now");
  if (std::size_t n = reader_.buffered(); n > 0)
    emit(server_events::InputDiscarded{n, "sent after STARTTLS (CVE-2011-0411)"});
  reader_.discard_input();
  mode_ = Mode::kTlsHandshake;
  tls_requested_ = true;
}

bool ServerSession::plaintext_refused(const std::string& tag) {
  if (tls_ || config_.allow_plaintext_login) return false;
  tagged(tag, "NO", "[PRIVACYREQUIRED] Plaintext login is disabled: use STARTTLS first");
  return true;
}

void ServerSession::cmd_login(const Command& cmd) {
  if (plaintext_refused(cmd.tag)) return;
  try_login(cmd.tag, cmd.args[0], cmd.args[1], "LOGIN");
}

void ServerSession::cmd_authenticate(const Command& cmd) {
  if (cmd.args[0] != "PLAIN") {
    tagged(cmd.tag, "NO", "[CANNOT] Unsupported authentication mechanism " + cmd.args[0]);
    return;
  }
  if (plaintext_refused(cmd.tag)) return;
  if (cmd.args.size() > 1) {
    sasl_plain(cmd.tag, cmd.args[1] == "=" ? std::string_view() : std::string_view(cmd.args[1]));
    return;
  }
  pending_tag_ = cmd.tag;
  mode_ = Mode::kSaslResponse;
  send_raw("+ \r\n");
}

void ServerSession::sasl_plain(const std::string& tag, std::string_view base64) {
  auto decoded = codec::base64_decode(base64);
  if (!decoded) {
    bad(tag, "Invalid base64 in the SASL response");
    return;
  }
  // RFC 4616: [authzid] NUL authcid NUL passwd
  std::size_t a = decoded->find('\0');
  std::size_t b = a == std::string::npos ? a : decoded->find('\0', a + 1);
  if (b == std::string::npos) {
    bad(tag, "Malformed PLAIN response");
    return;
  }
  std::string authzid = decoded->substr(0, a);
  std::string user = decoded->substr(a + 1, b - a - 1);
  std::string password = decoded->substr(b + 1);
  if (!authzid.empty() && authzid != user) {
    // Acting as another user (proxy authorization) is not something we grant.
    try_login(tag, user, std::string("\0", 1) + "\x01", "PLAIN");
    return;
  }
  try_login(tag, user, password, "PLAIN");
}

void ServerSession::try_login(const std::string& tag, const std::string& user, const std::string& password,
                              const std::string& mechanism) {
  if (store::valid_user_name(user) && credentials_.check(user, password)) {
    if (!store_.user_exists(user)) store_.ensure_user(user);
    user_ = user;
    set_state(ServerState::kAuthenticated);
    emit(server_events::Authenticated{user, mechanism});
    tagged(tag, "OK", "[CAPABILITY " + capabilities() + "] Logged in");
    return;
  }
  ++auth_failures_;
  unsigned delay = config_.auth_delay_ms;
  for (unsigned i = 1; i < auth_failures_ && delay < config_.max_auth_delay_ms; ++i) delay *= 2;
  delay = std::min(delay, config_.max_auth_delay_ms);
  held_disconnect_ = auth_failures_ >= config_.max_auth_failures;
  held_reply_ = tag + " NO [AUTHENTICATIONFAILED] Authentication failed\r\n";
  mode_ = Mode::kAuthDelay;
  emit(server_events::AuthFailed{user, mechanism, auth_failures_, delay, held_disconnect_});
}

// ---- authenticated ---------------------------------------------------------------------

void ServerSession::cmd_namespace(const Command& cmd) {
  untagged("NAMESPACE ((\"\" \".\")) NIL NIL");
  finish(cmd, "OK", "NAMESPACE completed");
}

void ServerSession::deselect() {
  view_.reset();
  if (state_ == ServerState::kSelected) set_state(ServerState::kAuthenticated);
}

void ServerSession::cmd_select(const Command& cmd) {
  bool read_only = cmd.name == "EXAMINE";
  // RFC 3501 §6.3.1: SELECT closes the current mailbox first, and a failed
  // SELECT leaves none selected.
  deselect();
  std::string folder = mailbox_name(cmd.args[0]);
  if (!store_.folder_exists(user_, folder)) {
    tagged(cmd.tag, "NO", "[NONEXISTENT] Mailbox does not exist: " + folder);
    return;
  }
  store::FolderSnapshot snap =
      store_.snapshot(user_, folder, read_only ? store::RecentMode::kPeek : store::RecentMode::kClaim);
  auto v = std::make_unique<View>();
  v->folder = folder;
  v->read_only = read_only;
  v->msgs = snap.messages;
  v->gone.assign(v->msgs.size(), false);
  v->uidvalidity = snap.status.uidvalidity;
  v->generation = snap.status.generation;
  v->keywords = snap.status.keywords;

  std::string keywords;
  for (const std::string& k : v->keywords) keywords += " " + k;
  untagged("FLAGS (" + std::string(kSystemFlags) + keywords + ")");
  if (read_only) untagged("OK [PERMANENTFLAGS ()] Read-only mailbox");
  else untagged("OK [PERMANENTFLAGS (" + std::string(kSystemFlags) + keywords + " \\*)] Flags permitted");
  untagged(std::to_string(v->msgs.size()) + " EXISTS");
  std::uint32_t recent = 0;
  for (const MessageInfo& m : v->msgs) recent += m.recent ? 1 : 0;
  untagged(std::to_string(recent) + " RECENT");
  for (std::size_t i = 0; i < v->msgs.size(); ++i) {
    if (!v->msgs[i].flags.has(SystemFlag::kSeen)) {
      untagged("OK [UNSEEN " + std::to_string(i + 1) + "] First unseen message");
      break;
    }
  }
  untagged("OK [UIDVALIDITY " + std::to_string(v->uidvalidity) + "] UIDs valid");
  untagged("OK [UIDNEXT " + std::to_string(snap.status.uidnext) + "] Predicted next UID");
  emit(server_events::Selected{folder, read_only, static_cast<std::uint32_t>(v->msgs.size()), recent,
                               v->uidvalidity});
  view_ = std::move(v);
  set_state(ServerState::kSelected);
  tagged(cmd.tag, "OK", read_only ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

void ServerSession::cmd_create(const Command& cmd) {
  std::string folder = cmd.args[0];
  // A trailing delimiter only says that the name will have children.
  if (folder.size() > 1 && folder.back() == store::MailboxStore::kDelimiter) folder.pop_back();
  folder = mailbox_name(folder);
  if (!store::valid_folder_name(folder)) {
    finish(cmd, "NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  store_.create_folder(user_, folder);
  finish(cmd, "OK", "CREATE completed");
}

void ServerSession::cmd_delete(const Command& cmd) {
  std::string folder = mailbox_name(cmd.args[0]);
  store_.delete_folder(user_, folder);
  finish(cmd, "OK", "DELETE completed");
}

void ServerSession::cmd_rename(const Command& cmd) {
  std::string to = mailbox_name(cmd.args[1]);
  if (!store::valid_folder_name(to)) {
    finish(cmd, "NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  store_.rename_folder(user_, mailbox_name(cmd.args[0]), to);
  finish(cmd, "OK", "RENAME completed");
}

void ServerSession::cmd_subscribe(const Command& cmd) {
  std::string folder = mailbox_name(cmd.args[0]);
  if (cmd.name == "SUBSCRIBE") {
    if (!store_.folder_exists(user_, folder)) {
      finish(cmd, "NO", "[NONEXISTENT] Mailbox does not exist: " + folder);
      return;
    }
    store_.subscribe(user_, folder);
  } else {
    store_.unsubscribe(user_, folder);
  }
  finish(cmd, "OK", cmd.name + " completed");
}

void ServerSession::cmd_list(const Command& cmd) {
  const std::string& reference = cmd.args[0];
  const std::string& pattern = cmd.args[1];
  bool lsub = cmd.name == "LSUB";
  if (pattern.empty()) {
    // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and root.
    untagged(cmd.name + " (\\Noselect) \".\" \"\"");
    finish(cmd, "OK", cmd.name + " completed");
    return;
  }
  std::string full = canonical_pattern(reference + pattern);
  std::vector<store::FolderInfo> folders = store_.list_folders(user_);
  if (lsub) {
    for (const std::string& name : store_.list_subscribed(user_)) {
      if (!list_match(full, name)) continue;
      bool exists = std::any_of(folders.begin(), folders.end(), [&](const auto& f) { return f.name == name; });
      untagged("LSUB (" + std::string(exists ? "" : "\\Noselect") + ") \".\" " + imap_string(name));
    }
  } else {
    for (const store::FolderInfo& f : folders) {
      if (!list_match(full, f.name)) continue;
      untagged(std::string("LIST (") + (f.has_children ? "\\HasChildren" : "\\HasNoChildren") + ") \".\" " +
               imap_string(f.name));
    }
  }
  finish(cmd, "OK", cmd.name + " completed");
}

void ServerSession::cmd_status(const Command& cmd) {
  std::string folder = mailbox_name(cmd.args[0]);
  store::FolderStatus st = store_.status(user_, folder);
  std::string items;
  for (const std::string& item : cmd.items) {
    std::uint64_t v = item == "MESSAGES"      ? st.messages
                      : item == "RECENT"      ? st.recent
                      : item == "UIDNEXT"     ? st.uidnext
                      : item == "UIDVALIDITY" ? st.uidvalidity
                                              : st.unseen;
    if (!items.empty()) items += ' ';
    items += item + " " + std::to_string(v);
  }
  untagged("STATUS " + imap_string(folder) + " (" + items + ")");
  finish(cmd, "OK", "STATUS completed");
}

void ServerSession::cmd_append(const Command& cmd) {
  std::string folder = mailbox_name(cmd.args[0]);
  auto flags = to_store_flags(cmd.flags);
  if (!flags) {
    bad(cmd.tag, "Unknown system flag in APPEND");
    return;
  }
  if (!store_.folder_exists(user_, folder)) {
    finish(cmd, "NO", "[TRYCREATE] Mailbox does not exist: " + folder);
    return;
  }
  std::int64_t date = cmd.date ? *cmd.date : (config_.now ? config_.now() : 0);
  store::AppendResult r = store_.append(user_, folder, cmd.message, *flags, date);
  emit(server_events::MessageAppended{folder, r.uid, cmd.message.size()});
  finish(cmd, "OK",
         "[APPENDUID " + std::to_string(r.uidvalidity) + " " + std::to_string(r.uid) + "] APPEND completed");
}

void ServerSession::cmd_idle(const Command& cmd) {
  pending_tag_ = cmd.tag;
  mode_ = Mode::kIdle;
  send_raw("+ idling\r\n");
  emit(server_events::IdleStarted{});
  if (view_) sync(true);  // changes that arrived before IDLE are reported now
}

// ---- selected ---------------------------------------------------------------------------

void ServerSession::sync(bool allow_expunge) {
  View& v = *view_;
  std::uint64_t gen = 0;
  try {
    gen = store_.generation(user_, v.folder);
  } catch (const StoreError&) {
    // Deleted or renamed away under us: nothing sensible can follow.
    bye("Selected mailbox was deleted or renamed", "selected mailbox vanished");
    view_.reset();
    return;
  }
  std::set<store::Uid> flag_changes;
  std::size_t before = v.msgs.size();
  if (gen != v.generation) {
    store::FolderSnapshot snap =
        store_.snapshot(user_, v.folder, v.read_only ? store::RecentMode::kPeek : store::RecentMode::kClaim);
    std::map<store::Uid, const MessageInfo*> now;
    for (const MessageInfo& m : snap.messages) now[m.uid] = &m;
    for (std::size_t i = 0; i < v.msgs.size(); ++i) {
      if (v.gone[i]) continue;
      auto it = now.find(v.msgs[i].uid);
      if (it == now.end()) {
        v.gone[i] = true;
      } else if (!(it->second->flags == v.msgs[i].flags)) {
        v.msgs[i].flags = it->second->flags;
        flag_changes.insert(v.msgs[i].uid);
      }
    }
    for (const MessageInfo& m : snap.messages) {
      if (m.uid > v.max_uid()) {
        v.msgs.push_back(m);
        v.gone.push_back(false);
      }
    }
    if (snap.status.keywords != v.keywords) {
      v.keywords = snap.status.keywords;
      std::string keywords;
      for (const std::string& k : v.keywords) keywords += " " + k;
      untagged("FLAGS (" + std::string(kSystemFlags) + keywords + ")");
    }
    v.generation = snap.status.generation;
  }
  if (allow_expunge) {
    for (std::size_t i = v.msgs.size(); i-- > 0;) {
      if (!v.gone[i]) continue;
      untagged(std::to_string(i + 1) + " EXPUNGE");
      v.msgs.erase(v.msgs.begin() + static_cast<std::ptrdiff_t>(i));
      v.gone.erase(v.gone.begin() + static_cast<std::ptrdiff_t>(i));
      if (i < before) --before;
    }
  }
  if (v.msgs.size() != before) {
    untagged(std::to_string(v.msgs.size()) + " EXISTS");
    std::uint32_t recent = 0;
    for (const MessageInfo& m : v.msgs) recent += m.recent ? 1 : 0;
    untagged(std::to_string(recent) + " RECENT");
  }
  for (std::size_t i = 0; i < v.msgs.size(); ++i) {
    if (!v.gone[i] && flag_changes.count(v.msgs[i].uid))
      untagged(std::to_string(i + 1) + " FETCH (FLAGS " + flag_list(v.msgs[i]) + ")");
  }
}

std::optional<std::vector<std::size_t>> ServerSession::resolve(const Command& cmd, const SequenceSet& set) {
  View& v = *view_;
  std::vector<std::size_t> out;
  if (cmd.uid) {
    store::Uid star = v.max_uid();
    for (std::size_t i = 0; i < v.msgs.size(); ++i)
      if (set.contains(v.msgs[i].uid, star)) out.push_back(i);
    return out;
  }
  auto n = static_cast<std::uint32_t>(v.msgs.size());
  if (set.largest_explicit() > n || (n == 0 && set.uses_star())) {
    bad(cmd.tag, "Invalid message sequence number (the mailbox has " + std::to_string(n) + " messages)");
    return std::nullopt;
  }
  for (std::uint32_t i = 1; i <= n; ++i)
    if (set.contains(i, n)) out.push_back(i - 1);
  return out;
}

void ServerSession::cmd_check(const Command& cmd) { finish(cmd, "OK", "CHECK completed"); }

void ServerSession::cmd_close(const Command& cmd) {
  // CLOSE expunges silently (RFC 3501 §6.4.2); UNSELECT does not (RFC 3691).
  if (cmd.name == "CLOSE" && !view_->read_only) {
    std::vector<store::Uid> removed = store_.expunge(user_, view_->folder);
    if (!removed.empty()) emit(server_events::MessagesExpunged{view_->folder, removed});
  }
  deselect();
  tagged(cmd.tag, "OK", cmd.name + " completed");
}

void ServerSession::cmd_expunge(const Command& cmd) {
  if (view_->read_only) {
    finish(cmd, "NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  std::optional<std::vector<store::Uid>> only;
  if (cmd.uid) {
    auto idx = resolve(cmd, cmd.set);
    if (!idx) return;
    only.emplace();
    for (std::size_t i : *idx) only->push_back(view_->msgs[i].uid);
  }
  std::vector<store::Uid> removed = store_.expunge(user_, view_->folder, only);
  if (!removed.empty()) emit(server_events::MessagesExpunged{view_->folder, removed});
  finish(cmd, "OK", "EXPUNGE completed");
}

void ServerSession::cmd_search(const Command& cmd) {
  if (cmd.charset && !codec::iequals(*cmd.charset, "UTF-8") && !codec::iequals(*cmd.charset, "US-ASCII")) {
    finish(cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    return;
  }
  View& v = *view_;
  std::string result;
  for (std::size_t i = 0; i < v.msgs.size(); ++i) {
    if (v.gone[i]) continue;
    std::optional<std::string> raw;
    SearchSubject s{&v.msgs[i], static_cast<std::uint32_t>(i + 1), static_cast<std::uint32_t>(v.msgs.size()),
                    v.max_uid(), nullptr, std::nullopt, std::nullopt};
    s.raw = [&]() -> const std::string& {
      if (!raw) {
        try {
          raw = store_.fetch(user_, v.folder, v.msgs[i].uid);
        } catch (const StoreError&) {
          raw.emplace();  // expunged meanwhile: an empty message matches no text
        }
      }
      return *raw;
    };
    if (search_match(cmd.search, s)) result += " " + std::to_string(cmd.uid ? v.msgs[i].uid : i + 1);
  }
  untagged("SEARCH" + result);
  finish(cmd, "OK", "SEARCH completed");
}

void ServerSession::cmd_fetch(const Command& cmd) {
  using K = FetchAtt::Kind;
  auto idx = resolve(cmd, cmd.set);
  if (!idx) return;
  auto f = std::make_unique<PendingFetch>();
  f->cmd = cmd;
  f->idx = std::move(*idx);
  f->wants_uid = cmd.uid && std::none_of(cmd.fetch.begin(), cmd.fetch.end(),
                                         [](const FetchAtt& a) { return a.kind == K::kUid; });
  f->wants_flags = std::any_of(cmd.fetch.begin(), cmd.fetch.end(),
                               [](const FetchAtt& a) { return a.kind == K::kFlags; });
  f->needs_content = std::any_of(cmd.fetch.begin(), cmd.fetch.end(), [](const FetchAtt& a) {
    return a.kind != K::kFlags && a.kind != K::kUid && a.kind != K::kInternalDate && a.kind != K::kRfc822Size;
  });
  // HEADER, HEADER.FIELDS, RFC822.HEADER and ENVELOPE read only the header
  // section, which the store may have at hand without reading the message.
  f->header_only = f->needs_content && std::all_of(cmd.fetch.begin(), cmd.fetch.end(), [](const FetchAtt& a) {
    using T = FetchAtt::Text;
    switch (a.kind) {
      case K::kFlags: case K::kUid: case K::kInternalDate: case K::kRfc822Size:
      case K::kRfc822Header: case K::kEnvelope:
        return true;
      case K::kBodySection:
        return a.part.empty() && (a.text == T::kHeader || a.text == T::kHeaderFields || a.text == T::kHeaderFieldsNot);
      default:
        return false;
    }
  });
  f->sets_seen = !view_->read_only && std::any_of(cmd.fetch.begin(), cmd.fetch.end(), [](const FetchAtt& a) {
    return a.kind == K::kRfc822 || a.kind == K::kRfc822Text || (a.kind == K::kBodySection && !a.peek);
  });
  fetch_ = std::move(f);
  run_fetch();
}

void ServerSession::continue_output() {
  if (!fetch_) return;
  if (state_ == ServerState::kLogout) {
    fetch_.reset();
    return;
  }
  current_ = find_handler("FETCH");
  run_fetch();
  if (!fetch_) pump();  // commands that arrived meanwhile
}

void ServerSession::run_fetch() {
  using K = FetchAtt::Kind;
  PendingFetch& f = *fetch_;
  const Command& cmd = f.cmd;
  View& v = *view_;
  try {
    while (f.next < f.idx.size()) {
      // Pause once a chunk is out. (The host continues only once it took the
      // output, so every call answers at least one message.)
      if (config_.output_chunk != 0 && out_.size() >= config_.output_chunk) return;
      const std::size_t i = f.idx[f.next++];
      if (v.gone[i]) {
        f.vanished = true;
        continue;
      }
      MessageInfo& m = v.msgs[i];
      if (f.needs_content) {
        try {
          f.raw = f.header_only ? store_.fetch_header(user_, v.folder, m.uid) : store_.fetch(user_, v.folder, m.uid);
        } catch (const StoreError& e) {
          if (e.code() != StoreErrc::kNoSuchMessage) throw;
          f.vanished = true;
          continue;
        }
      }
      FetchedMessage msg(f.raw);
      bool add_flags = false;
      if (f.sets_seen && !m.flags.has(SystemFlag::kSeen)) {
        store::Flags seen;
        seen.set(SystemFlag::kSeen);
        auto infos = store_.store_flags(user_, v.folder, {m.uid}, store::FlagOp::kAdd, seen);
        if (!infos.empty()) m.flags = infos.front().flags;
        else m.flags.set(SystemFlag::kSeen);
        emit(server_events::FlagsChanged{v.folder, m.uid, store::format_flags(m.flags)});
        add_flags = !f.wants_flags;  // RFC 3501 §6.4.5: the client learns \Seen was set
      }

      // The response is written in place: literals are copied once, from the
      // message into the reply.
      std::string resp;
      resp.reserve(64 + (f.needs_content ? f.raw.size() : 0));
      resp += "* ";
      resp += std::to_string(i + 1);
      resp += " FETCH (";
      bool first = true;
      std::uint64_t octets = 0;
      auto item = [&](std::string_view s) {
        if (!first) resp += ' ';
        first = false;
        resp += s;
      };
      auto content = [&](std::string_view name, std::string_view bytes) {
        octets += bytes.size();
        item(name);
        resp += " {";
        resp += std::to_string(bytes.size());
        resp += "}\r\n";
        resp += bytes;
      };
      if (f.wants_uid) item("UID " + std::to_string(m.uid));
      for (const FetchAtt& a : cmd.fetch) {
        switch (a.kind) {
          case K::kFlags: item("FLAGS " + flag_list(m)); break;
          case K::kUid: item("UID " + std::to_string(m.uid)); break;
          case K::kInternalDate: item("INTERNALDATE \"" + format_internal_date(m.internal_date) + "\""); break;
          case K::kRfc822Size: item("RFC822.SIZE " + std::to_string(m.size)); break;
          case K::kRfc822: content("RFC822", msg.raw()); break;
          case K::kRfc822Header: content("RFC822.HEADER", msg.header()); break;
          case K::kRfc822Text: content("RFC822.TEXT", msg.body()); break;
          case K::kEnvelope: item("ENVELOPE " + envelope(msg.tree().header)); break;
          case K::kBodyStructure: item("BODYSTRUCTURE " + body_structure(msg.tree(), true)); break;
          case K::kBody: item("BODY " + body_structure(msg.tree(), false)); break;
          case K::kBodySection: {
            auto bytes = section_content(msg, a, f.scratch);
            if (!bytes) {
              item(section_name(a) + " NIL");
              break;
            }
            std::string_view view = *bytes;
            if (a.partial_offset) {
              view = *a.partial_offset >= view.size() ? std::string_view()
                                                      : view.substr(*a.partial_offset, a.partial_length);
            }
            content(section_name(a), view);
            break;
          }
        }
      }
      if (add_flags) item("FLAGS " + flag_list(m));
      resp += ")\r\n";
      send_raw(std::move(resp));
      if (f.needs_content && octets > 0) emit(server_events::MessageFetched{v.folder, m.uid, octets});
    }
  } catch (const StoreError& e) {
    const Command failed = std::move(f.cmd);
    fetch_.reset();
    store_failed(failed, e);
    return;
  }
  const Command done = std::move(f.cmd);
  const bool vanished = f.vanished;
  fetch_.reset();
  if (vanished) finish(done, "NO", "[EXPUNGEISSUED] Some of the requested messages no longer exist");
  else finish(done, "OK", done.uid ? "UID FETCH completed" : "FETCH completed");
}

void ServerSession::cmd_store(const Command& cmd) {
  auto flags = to_store_flags(cmd.flags);
  if (!flags) {
    bad(cmd.tag, "Unknown system flag in STORE");
    return;
  }
  auto idx = resolve(cmd, cmd.set);
  if (!idx) return;
  View& v = *view_;
  if (v.read_only) {
    finish(cmd, "NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  std::vector<store::Uid> uids;
  bool vanished = false;
  for (std::size_t i : *idx) {
    if (v.gone[i]) vanished = true;
    else uids.push_back(v.msgs[i].uid);
  }
  store::FlagOp op = cmd.store_mode == StoreMode::kAdd      ? store::FlagOp::kAdd
                     : cmd.store_mode == StoreMode::kRemove ? store::FlagOp::kRemove
                                                            : store::FlagOp::kReplace;
  std::vector<MessageInfo> updated = uids.empty() ? std::vector<MessageInfo>{}
                                                  : store_.store_flags(user_, v.folder, uids, op, *flags);
  std::map<store::Uid, const MessageInfo*> by_uid;
  for (const MessageInfo& m : updated) by_uid[m.uid] = &m;
  for (std::size_t i : *idx) {
    auto it = by_uid.find(v.msgs[i].uid);
    if (v.gone[i] || it == by_uid.end()) {
      if (!v.gone[i]) vanished = true;
      continue;
    }
    v.msgs[i].flags = it->second->flags;
    emit(server_events::FlagsChanged{v.folder, v.msgs[i].uid, store::format_flags(v.msgs[i].flags)});
    if (!cmd.silent) {
      std::string uid = cmd.uid ? " UID " + std::to_string(v.msgs[i].uid) : "";
      untagged(std::to_string(i + 1) + " FETCH (FLAGS " + flag_list(v.msgs[i]) + uid + ")");
    }
  }
  if (vanished) finish(cmd, "NO", "[EXPUNGEISSUED] Some of the messages no longer exist");
  else finish(cmd, "OK", cmd.uid ? "UID STORE completed" : "STORE completed");
}

void ServerSession::cmd_copy(const Command& cmd) {
  auto idx = resolve(cmd, cmd.set);
  if (!idx) return;
  View& v = *view_;
  std::string to = mailbox_name(cmd.args[0]);
  std::vector<store::Uid> uids;
  for (std::size_t i : *idx)
    if (!v.gone[i]) uids.push_back(v.msgs[i].uid);
  if (!store_.folder_exists(user_, to)) {
    finish(cmd, "NO", "[TRYCREATE] Mailbox does not exist: " + to);
    return;
  }
  if (uids.empty()) {
    finish(cmd, "OK", "COPY completed (nothing to copy)");
    return;
  }
  store::CopyResult r = store_.copy(user_, v.folder, uids, to);
  std::vector<std::uint32_t> src, dst;
  for (auto [s, d] : r.uids) {
    src.push_back(s);
    dst.push_back(d);
  }
  if (src.empty()) {
    finish(cmd, "OK", "COPY completed");
    return;
  }
  finish(cmd, "OK", "[COPYUID " + std::to_string(r.uidvalidity) + " " + format_number_set(src) + " " +
                        format_number_set(dst) + "] COPY completed");
}

}  // namespace mailsim::imap
