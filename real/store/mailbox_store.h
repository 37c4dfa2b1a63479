// MailboxStore: the one interface to users' mailboxes that POP3 (RFC 1939),
// IMAP4rev1 (RFC 3501, with UIDPLUS RFC 4315) and local delivery share.
// Backends: MemoryStore (simulator, deterministic, real/store/memory_store.h)
// and MaildirStore (real mode, Maildir++ on disk, real/store/maildir_store.h).
//
// The model, in IMAP terms:
//   user ─┬─ folder "INBOX" (always exists, name matched case-insensitively)
//         ├─ folder "Sent", "Archive", "Archive.2024" ('.' is the hierarchy
//         │   delimiter, as in Maildir++; names are opaque bytes otherwise:
//         │   the IMAP layer passes modified UTF-7 through unchanged)
//         └─ subscriptions (names; may name folders that do not exist)
//   folder: UIDVALIDITY, UIDNEXT, a generation counter, and messages
//   message: UID, flags, internal date, size, bytes
//
// Messages cross this interface in network form: lines end in CRLF, exactly
// as SMTP DATA delivers them (after dot-unstuffing) and as POP3 RETR and IMAP
// FETCH send them. `size` is the size of that form (POP3 LIST, IMAP
// RFC822.SIZE). A backend may store another form on disk (MaildirStore writes
// LF line ends, as mutt expects) but hands back CRLF.
//
// UIDs: assigned in strictly ascending order per folder, starting at 1, never
// reused while UIDVALIDITY stays the same. UIDNEXT is the UID the next message
// will get. An empty, never-used folder has UIDNEXT 1.
//
// \Recent (RFC 3501 §2.3.2) is handled per the RFC: a message is recent for
// exactly one session. Each folder keeps a "first recent UID"; messages with
// UIDs at or above it are recent and unclaimed. The first session that takes a
// snapshot with RecentMode::kClaim (IMAP SELECT, or a later NOOP/IDLE poll by
// that session) gets them as recent and moves the marker to UIDNEXT, so no
// other session sees them as recent. kPeek (EXAMINE, STATUS) only looks.
// Appended and copied messages are recent in their destination, delivered
// ones in INBOX. \Recent is never in Flags: it is MessageInfo::recent.
//
// Generation: every change to a folder (new message, flag change, expunge,
// rename) increases its generation. A session that remembers the generation
// of its last snapshot calls generation() on NOOP/IDLE and, if it moved, takes
// a new snapshot and diffs UIDs (new UIDs → EXISTS, vanished → EXPUNGE, flag
// changes → FETCH). POP3 never does this: its snapshot is fixed at login for
// the whole session (RFC 1939 §8). MaildirStore also notices changes made by
// other programs (mutt, procmail dropping into new/): every call that lists
// a folder (snapshot, status, generation) first checks whether new/, cur/ or
// the uidlist changed on disk and rescans if so (see maildir_store.h).
//
// Threads: every public call is thread-safe (one mutex per store); calls are
// atomic with respect to each other. Calls must not be made from inside a
// backend hook (only the change listener may call back in). The change listener runs after the
// mutex is released, on the thread that made the change.
//
// Errors: calls throw StoreError (below) with a code a protocol maps to a
// reply: kNoSuchFolder → IMAP "NO [TRYCREATE]" on APPEND/COPY or
// "NO [NONEXISTENT]", kFolderExists → "NO [ALREADYEXISTS]", kIo → SMTP 451 /
// POP3 "-ERR [SYS/TEMP]". UIDs in a UID list that do not exist (any more) are
// skipped silently, as IMAP UID commands require; nothing throws for them
// except fetch() of a single missing UID.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "real/codec/line_ends.h"

namespace mailsim::store {

using Uid = std::uint32_t;
using UidValidity = std::uint32_t;
// Seconds since the Unix epoch, UTC. IMAP INTERNALDATE; the backends never
// read a clock to make one: the caller passes it in (deliver, append).
using InternalDate = std::int64_t;

// System flags (RFC 3501 §2.3.2) as bits. \Recent is not one of them here.
enum class SystemFlag : std::uint8_t {
  kSeen = 1 << 0,      // \Seen      Maildir 'S'
  kAnswered = 1 << 1,  // \Answered  Maildir 'R' (replied)
  kFlagged = 1 << 2,   // \Flagged   Maildir 'F'
  kDeleted = 1 << 3,   // \Deleted   Maildir 'T' (trashed)
  kDraft = 1 << 4,     // \Draft     Maildir 'D'
};

// The flags of one message: system flag bits plus keywords (IMAP atoms such
// as "$Forwarded" or "Work"). Keywords are compared exactly (byte for byte);
// the IMAP layer decides about case. Never contains "\Recent".
struct Flags {
  std::uint8_t system = 0;            // OR of SystemFlag bits
  std::set<std::string> keywords;     // sorted, unique

  bool has(SystemFlag f) const { return (system & static_cast<std::uint8_t>(f)) != 0; }
  Flags& set(SystemFlag f) { system |= static_cast<std::uint8_t>(f); return *this; }
  Flags& clear(SystemFlag f) { system &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(f)); return *this; }
  bool empty() const { return system == 0 && keywords.empty(); }
  friend bool operator==(const Flags&, const Flags&) = default;
};

// Parses one IMAP system flag name ("\Seen", case-insensitive) to its bit;
// nullopt for keywords, "\Recent" and anything else.
std::optional<SystemFlag> parse_system_flag(std::string_view name);
// "\Seen", "\Answered", ... for a single bit.
std::string_view system_flag_name(SystemFlag f);
// All flags as IMAP writes them in a flag list, system flags first in the
// order Seen Answered Flagged Deleted Draft, then keywords: "\Seen $Work".
std::string format_flags(const Flags& flags);

// How store_flags() combines the given flags with a message's flags (IMAP
// STORE FLAGS / +FLAGS / -FLAGS).
enum class FlagOp { kReplace, kAdd, kRemove };

// One message as listed in a folder snapshot.
struct MessageInfo {
  Uid uid = 0;
  Flags flags;
  InternalDate internal_date = 0;
  std::uint64_t size = 0;   // octets in CRLF network form
  bool recent = false;      // \Recent for the caller (see RecentMode)
  friend bool operator==(const MessageInfo&, const MessageInfo&) = default;
};

struct FolderStatus {
  UidValidity uidvalidity = 0;
  Uid uidnext = 1;
  std::uint32_t messages = 0;   // IMAP EXISTS
  std::uint32_t recent = 0;     // messages recent for the caller (kClaim) or unclaimed (kPeek)
  std::uint32_t unseen = 0;     // messages without \Seen (IMAP STATUS UNSEEN)
  std::uint64_t generation = 0; // see "Generation" above
  // Keywords that messages of this folder use or have used, for the IMAP
  // FLAGS response. Sorted.
  std::vector<std::string> keywords;
};

// A folder at one moment: status and all messages in ascending UID order,
// taken under one lock, so the two agree.
struct FolderSnapshot {
  FolderStatus status;
  std::vector<MessageInfo> messages;
};

enum class RecentMode {
  kPeek,   // report unclaimed recent messages, change nothing (EXAMINE, STATUS)
  kClaim,  // take them: they are recent for this caller only (SELECT, its polls)
};

// One folder in list_folders(), for IMAP LIST/LSUB.
struct FolderInfo {
  std::string name;          // "INBOX", "Sent", "Archive.2024"
  bool has_children = false; // another folder's name starts with name + '.'
  friend bool operator==(const FolderInfo&, const FolderInfo&) = default;
};

// APPEND result, for UIDPLUS "[APPENDUID uidvalidity uid]".
struct AppendResult {
  UidValidity uidvalidity = 0;
  Uid uid = 0;
};

// COPY result, for UIDPLUS "[COPYUID uidvalidity src-uids dst-uids]": pairs in
// ascending source-UID order; source UIDs that did not exist are left out.
struct CopyResult {
  UidValidity uidvalidity = 0;  // of the destination
  std::vector<std::pair<Uid, Uid>> uids;  // (source uid, new destination uid)
};

enum class StoreErrc {
  kNoSuchUser,        // the user has no mailbox (call ensure_user first)
  kNoSuchFolder,      // the folder does not exist
  kNoSuchMessage,     // fetch() of a UID that is not in the folder
  kFolderExists,      // create/rename onto an existing name
  kBadName,           // empty, "/", control characters, leading or trailing or doubled "."
  kInboxNotAllowed,   // deleting INBOX, or creating/renaming onto INBOX
  kHasChildren,       // delete of a folder that has subfolders (delete those first)
  kTooManyKeywords,   // MaildirStore keeps at most 26 keywords per folder (letters a-z)
  kIo,                // the disk failed; the message says how (errno text)
};

class StoreError : public std::runtime_error {
 public:
  StoreError(StoreErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  StoreErrc code() const { return code_; }

 private:
  StoreErrc code_;
};

// RFC 1939 §8 exclusive access to a maildrop: one POP3 session per user. One
// registry per store (MailboxStore::maildrop_locks()), so every POP3 session
// of a host shares it. In-process only: MaildirStore does not take a file lock
// that other programs would honour.
class MaildropLocks {
 public:
  // RAII holder; releases on destruction. Movable, not copyable. A default
  // constructed or moved-from lease holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), user_(std::move(o.user_)) {}
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    bool held() const { return owner_ != nullptr; }
    void release();

   private:
    friend class MaildropLocks;
    Lease(MaildropLocks* owner, std::string user) : owner_(owner), user_(std::move(user)) {}
    MaildropLocks* owner_ = nullptr;
    std::string user_;
  };

  // A lease that holds the user's maildrop, or nullopt if another holds it
  // (POP3 "-ERR [IN-USE]"). The registry must outlive its leases.
  std::optional<Lease> try_lock(const std::string& user);
  bool locked(const std::string& user) const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> held_;
};

// Called after a change to a folder: (user, folder, its new generation).
// Used by hosts to wake IMAP IDLE sessions. Runs outside the store's lock; it
// may call back into the store.
using ChangeListener =
    std::function<void(const std::string& user, const std::string& folder, std::uint64_t generation)>;

// The interface. Public calls lock the store's mutex and call the backend's
// do_* hooks (non-virtual interface), so backends never lock themselves.
// `user` names a mailbox owner (opaque; no '/', not empty, not starting with
// '.'); `folder` a folder name as in the model above.
class MailboxStore {
 public:
  virtual ~MailboxStore() = default;
  MailboxStore() = default;
  MailboxStore(const MailboxStore&) = delete;
  MailboxStore& operator=(const MailboxStore&) = delete;

  // ---- users -------------------------------------------------------------
  bool user_exists(const std::string& user) const;
  std::vector<std::string> list_users() const;  // sorted
  // Creates the user's mailbox (with INBOX) if missing; no-op otherwise.
  void ensure_user(const std::string& user);

  // ---- folders -----------------------------------------------------------
  // All folders of the user, INBOX first, then sorted by name.
  std::vector<FolderInfo> list_folders(const std::string& user) const;
  bool folder_exists(const std::string& user, const std::string& folder) const;
  // Creates the folder and any missing parents ("A.B" creates "A").
  // Throws kFolderExists, kBadName, kInboxNotAllowed.
  void create_folder(const std::string& user, const std::string& folder);
  // Deletes the folder and its messages. Throws kInboxNotAllowed for INBOX,
  // kHasChildren if subfolders exist, kNoSuchFolder. Removes no subscription.
  void delete_folder(const std::string& user, const std::string& folder);
  // Renames the folder and its subfolders ("A" → "B" moves "A.x" to "B.x"),
  // keeping UIDs and UIDVALIDITY. Renaming INBOX (RFC 3501 §6.3.5) moves all
  // its messages into the new folder (new UIDs there) and leaves INBOX empty.
  // Throws kNoSuchFolder, kFolderExists, kBadName, kInboxNotAllowed.
  void rename_folder(const std::string& user, const std::string& from, const std::string& to);

  void subscribe(const std::string& user, const std::string& folder);
  void unsubscribe(const std::string& user, const std::string& folder);  // absent: no-op
  std::vector<std::string> list_subscribed(const std::string& user) const;  // sorted

  // ---- one folder --------------------------------------------------------
  FolderSnapshot snapshot(const std::string& user, const std::string& folder,
                          RecentMode recent = RecentMode::kPeek);
  FolderStatus status(const std::string& user, const std::string& folder);  // kPeek
  std::uint64_t generation(const std::string& user, const std::string& folder) const;
  // The message bytes (CRLF form). Throws kNoSuchMessage.
  std::string fetch(const std::string& user, const std::string& folder, Uid uid) const;
  // Only the header section of the message: fetch() cut after
  // header_section_size(). For IMAP items that need nothing else
  // (BODY[HEADER], HEADER.FIELDS, ENVELOPE); MaildirStore keeps these in
  // memory once read, as Dovecot keeps them in its index cache.
  std::string fetch_header(const std::string& user, const std::string& folder, Uid uid) const;

  // Adds a message (IMAP APPEND). The message is recent in the folder.
  AppendResult append(const std::string& user, const std::string& folder, std::string_view bytes,
                      const Flags& flags, InternalDate internal_date);
  // Local delivery (SMTP, LMTP): append to INBOX with no flags. MaildirStore
  // returns only once the message is durable (tmp/ → fsync → rename into
  // new/ → fsync new/). Throws kNoSuchUser, kIo.
  Uid deliver(const std::string& user, std::string_view bytes, InternalDate internal_date);

  // Changes flags of the listed messages; returns the messages that exist,
  // with their new flags, ascending UID (for IMAP untagged FETCH).
  std::vector<MessageInfo> store_flags(const std::string& user, const std::string& folder,
                                       const std::vector<Uid>& uids, FlagOp op, const Flags& flags);
  // Copies messages with their flags and internal dates (IMAP COPY). Throws
  // kNoSuchFolder for either folder (destination: IMAP answers [TRYCREATE]).
  CopyResult copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                  const std::string& to);
  // Removes messages flagged \Deleted — all of them (IMAP EXPUNGE, CLOSE) or
  // only those in `only` (UIDPLUS UID EXPUNGE). Returns the removed UIDs,
  // ascending.
  std::vector<Uid> expunge(const std::string& user, const std::string& folder,
                           const std::optional<std::vector<Uid>>& only = std::nullopt);
  // Removes the listed messages whatever their flags (POP3 UPDATE state).
  // Returns the removed UIDs, ascending.
  std::vector<Uid> remove(const std::string& user, const std::string& folder, const std::vector<Uid>& uids);

  // ---- shared objects ----------------------------------------------------
  MaildropLocks& maildrop_locks() { return locks_; }
  // Replaces the listener (empty function: none). Not called for changes a
  // MaildirStore discovers on disk.
  void set_change_listener(ChangeListener listener);

  // The hierarchy delimiter of folder names (IMAP LIST's second field).
  static constexpr char kDelimiter = '.';
  static constexpr std::string_view kInbox = "INBOX";
  // "INBOX" for any case of inbox, the name unchanged otherwise.
  static std::string canonical_name(const std::string& folder);

 protected:
  // Backend hooks. Called with the store's mutex held and names already
  // validated and canonicalised (folder "inbox" arrives as "INBOX"); a
  // mutating hook returns the folders it changed (for the listener) where
  // noted. Same semantics and errors as the public calls.
  virtual bool do_user_exists(const std::string& user) const = 0;
  virtual std::vector<std::string> do_list_users() const = 0;
  virtual void do_ensure_user(const std::string& user) = 0;
  virtual std::vector<std::string> do_list_folder_names(const std::string& user) const = 0;  // any order
  // Whether `folder` (valid, canonical) of an existing user exists. The
  // default looks it up in do_list_folder_names(); a backend may answer more
  // cheaply (MaildirStore: one stat), since every fetch() asks.
  virtual bool do_folder_exists(const std::string& user, const std::string& folder) const;
  virtual void do_create_folder(const std::string& user, const std::string& folder) = 0;   // parents handled by caller
  virtual void do_delete_folder(const std::string& user, const std::string& folder) = 0;   // checks done by caller
  // Renames exactly one folder (children handled by the caller); `from` is not INBOX.
  virtual void do_rename_folder(const std::string& user, const std::string& from, const std::string& to) = 0;
  virtual std::set<std::string> do_subscriptions(const std::string& user) const = 0;
  virtual void do_set_subscriptions(const std::string& user, const std::set<std::string>& names) = 0;
  virtual FolderSnapshot do_snapshot(const std::string& user, const std::string& folder, RecentMode recent) = 0;
  virtual std::uint64_t do_generation(const std::string& user, const std::string& folder) const = 0;
  virtual std::string do_fetch(const std::string& user, const std::string& folder, Uid uid) const = 0;
  // Default: do_fetch() cut after header_section_size().
  virtual std::string do_fetch_header(const std::string& user, const std::string& folder, Uid uid) const;
  // `durable`: deliver() semantics (fsync before returning) rather than append.
  virtual AppendResult do_append(const std::string& user, const std::string& folder, std::string_view bytes,
                                 const Flags& flags, InternalDate internal_date, bool durable) = 0;
  virtual std::vector<MessageInfo> do_store_flags(const std::string& user, const std::string& folder,
                                                  const std::vector<Uid>& uids, FlagOp op, const Flags& flags) = 0;
  virtual CopyResult do_copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                             const std::string& to) = 0;
  // Removes exactly the listed UIDs that exist; returns them ascending.
  virtual std::vector<Uid> do_remove(const std::string& user, const std::string& folder,
                                     const std::vector<Uid>& uids) = 0;

 private:
  void require_user(const std::string& user) const;
  void require_folder(const std::string& user, const std::string& folder) const;
  // Generations of the changed folders, read under the lock, for notify().
  using Changes = std::vector<std::pair<std::string, std::uint64_t>>;
  Changes changes_in(const std::string& user, const std::vector<std::string>& folders) const;
  void notify(std::unique_lock<std::mutex>& lock, const std::string& user, const Changes& changes);

  mutable std::mutex mutex_;
  MaildropLocks locks_;
  ChangeListener listener_;
};

// Validates a folder name (StoreErrc::kBadName on failure). Exposed so the
// IMAP layer can answer "NO" before touching the store.
bool valid_folder_name(std::string_view folder);
bool valid_user_name(std::string_view user);

// Converts between network form (CRLF) and Unix form (LF): what MaildirStore
// writes and reads. to_lf turns every CRLF into LF and leaves bare CR; to_crlf
// turns every LF not preceded by CR into CRLF. crlf_size(x) == to_crlf(x).size().
// They are real/codec/line_ends.h's, named here for the store's users.
using codec::crlf_size;
using codec::to_crlf;
using codec::to_lf;

// Octets of `message` up to and including the empty line that ends its
// header section (RFC 5322 §2.1): where message::parse_headers and so
// mime::Entity::body_begin put it; the whole message if there is no empty
// line. CRLF or bare LF line ends.
std::size_t header_section_size(std::string_view message);

}  // namespace mailsim::store
