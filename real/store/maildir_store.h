// MaildirStore: MailboxStore on disk in Maildir++ form, the layout Courier,
// Dovecot and mutt read (https://cr.yp.to/proto/maildir.html, Maildir++).
//
//   <root>/<user>/Maildir/              INBOX
//       cur/ new/ tmp/                  messages; new/ = not yet seen by a reader
//       mailsim-uidlist                 UIDVALIDITY, UIDNEXT, UID ↔ file, keywords
//       subscriptions                   one subscribed folder name per line
//       .Sent/  .Archive.2024/          folders "Sent", "Archive.2024", each with
//                                       cur/ new/ tmp/, maildirfolder, mailsim-uidlist
//
// Message files are named <time>.P<pid>Q<n>R<random>.<host>,S=<size>,W=<vsize>
// with the Maildir info ":2,<flags>" once in cur/: D draft, F flagged,
// R replied (\Answered), S seen, T trashed (\Deleted), and the letters a–z for
// the folder's keywords (numbered in mailsim-uidlist, as Dovecot numbers them
// in dovecot-keywords). Other letters a program sets (P passed) are kept.
// S= is the file size; W= the size in CRLF form. Files are written with LF
// line ends, as mutt expects; fetch() returns CRLF. A file's mtime is the
// message's internal date.
//
// The uidlist file (text, rewritten atomically: write, fsync, rename):
//   mailsim-uidlist 1
//   V <uidvalidity> N <uidnext> R <first recent uid>
//   K <index> <keyword>          (zero or more)
//   <uid> <file base name>       (the name before ":2,"; one per message)
// Files in new/ or cur/ that the list does not know (dropped there by another
// program, or by mailsim before a crash) get the next UIDs, in file-name order,
// the next time the folder is read.
//
// The cache: each folder's scan (UID → file name, flags, size, internal date)
// stays in memory. A call that lists a folder (snapshot, status, generation,
// append) first stats new/, cur/ and mailsim-uidlist — three stat() calls —
// and reads the directories again only if one changed, so a folder of 10,000
// messages is not re-read for every command. A directory's mtime only tells
// apart changes one timestamp tick apart (ns on ext4/xfs/btrfs/tmpfs, but
// taken from a coarse clock; 1 s on some filesystems), so a directory that
// changed less than kSettleNs before the last scan began is read again on
// every listing call until a scan begins later than that (Dovecot's maildir
// does the same with MAILDIR_SYNC_SECS). A uidlist rewritten by another
// program (a second mailsim on the same Maildir) is read again.
// Calls that name a message by UID (fetch, store_flags) use the cached file
// name without looking at the directories; if another program renamed or
// removed the file meanwhile (ENOENT), they rescan and try once more.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <unordered_map>

#include "real/store/mailbox_store.h"

namespace mailsim::store {

struct MaildirOptions {
  std::filesystem::path root;   // created if missing
  std::string hostname;         // for file names; empty: gethostname()
  // Seconds since the epoch, used only to pick new UIDVALIDITYs (as Dovecot
  // does); empty: the system clock. Tests pass a fixed one.
  std::function<std::int64_t()> now;
  // Header sections kept in memory (fetch_header), all folders together;
  // past this, further headers are read from disk each time.
  std::size_t header_cache_bytes = 64 * 1024 * 1024;
};

class MaildirStore : public MailboxStore {
 public:
  // Throws StoreError(kIo) if the root cannot be created.
  explicit MaildirStore(MaildirOptions options);

  // Where a user's folder lives on disk (for tests and for `mailsim serve` to
  // print). Does not check that it exists.
  std::filesystem::path folder_path(const std::string& user, const std::string& folder) const;

  // How long after a directory's last change its mtime is trusted (see the
  // cache, above).
  static constexpr std::int64_t kSettleNs = 1'000'000'000;

 protected:
  bool do_user_exists(const std::string& user) const override;
  std::vector<std::string> do_list_users() const override;
  void do_ensure_user(const std::string& user) override;
  std::vector<std::string> do_list_folder_names(const std::string& user) const override;
  bool do_folder_exists(const std::string& user, const std::string& folder) const override;
  void do_create_folder(const std::string& user, const std::string& folder) override;
  void do_delete_folder(const std::string& user, const std::string& folder) override;
  void do_rename_folder(const std::string& user, const std::string& from, const std::string& to) override;
  std::set<std::string> do_subscriptions(const std::string& user) const override;
  void do_set_subscriptions(const std::string& user, const std::set<std::string>& names) override;
  FolderSnapshot do_snapshot(const std::string& user, const std::string& folder, RecentMode recent) override;
  std::uint64_t do_generation(const std::string& user, const std::string& folder) const override;
  std::string do_fetch(const std::string& user, const std::string& folder, Uid uid) const override;
  std::string do_fetch_header(const std::string& user, const std::string& folder, Uid uid) const override;
  AppendResult do_append(const std::string& user, const std::string& folder, std::string_view bytes,
                         const Flags& flags, InternalDate internal_date, bool durable) override;
  std::vector<MessageInfo> do_store_flags(const std::string& user, const std::string& folder,
                                          const std::vector<Uid>& uids, FlagOp op, const Flags& flags) override;
  CopyResult do_copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                     const std::string& to) override;
  std::vector<Uid> do_remove(const std::string& user, const std::string& folder,
                             const std::vector<Uid>& uids) override;

 private:
  // What a file or directory looked like on disk: a change in any field
  // means it changed. All zero for a missing path.
  struct Stamp {
    std::int64_t mtime_ns = 0;
    std::uint64_t ino = 0;
    std::int64_t size = 0;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  };
  struct Entry {
    std::string base;       // file name before ":2,"
    std::string file;       // "new/<name>" or "cur/<name>"
    Flags flags;
    std::string other;      // info letters we do not model (e.g. "P"), kept on rename
    InternalDate internal_date = 0;
    std::uint64_t size = 0; // CRLF form
    bool measured = false;  // internal_date and size are known
    std::string header;     // the header section (CRLF) once fetch_header() read it; files never change
    std::uint64_t seen = 0; // number of the last scan that found the file
  };
  struct FolderState {
    UidValidity uidvalidity = 0;
    Uid uidnext = 1;
    Uid first_recent = 1;
    std::uint64_t generation = 0;
    std::vector<std::string> keywords;  // index = letter - 'a'
    std::map<Uid, Entry> entries;
    std::unordered_map<std::string, Uid> by_base;  // Entry::base → UID, same set as entries
    Stamp new_dir, cur_dir;   // as the last scan found them
    Stamp uidlist;            // as we last read or wrote it
    std::int64_t scanned_at_ns = 0;  // wall clock when the last scan began
    std::uint64_t scans = 0;
    std::size_t header_bytes = 0;  // of the headers its entries cache
  };

  // The folder's state, brought up to date with the disk first if new/, cur/
  // or the uidlist changed (or the folder was not read yet); `force`: read
  // the directories whatever their stamps say (a cached file name failed).
  FolderState& scan(const std::string& user, const std::string& folder, bool force = false) const;
  // The folder's state as cached, without looking at the disk (read first if
  // not cached yet). For calls that address messages by UID.
  FolderState& cached(const std::string& user, const std::string& folder) const;
  // Forgets a cached folder (and its headers' share of the cache budget).
  void drop_cached(const std::string& key) const;
  // Removes an entry from a folder's state (and its cached header).
  std::map<Uid, Entry>::iterator erase_entry(FolderState& st, std::map<Uid, Entry>::iterator it) const;
  // Writes the uidlist and records its stamp.
  void save_uidlist(const std::string& user, const std::string& folder, FolderState& st) const;
  UidValidity new_uidvalidity() const;
  std::string unique_name(InternalDate t, std::uint64_t size, std::uint64_t vsize) const;
  // Info letters for flags, allocating keyword letters (kTooManyKeywords).
  std::string info_letters(FolderState& st, const Flags& flags, const std::string& other) const;
  // Writes `disk_bytes` into tmp/, fsyncs, sets mtime, moves it to `subdir`
  // with `info` (nullopt: no ":2," suffix); returns the Entry.
  Entry write_message(const std::filesystem::path& dir, std::string_view disk_bytes, std::uint64_t vsize,
                      InternalDate t, const char* subdir, const std::optional<std::string>& info,
                      bool sync_dir) const;
  // Reads a message file into `out` in CRLF form; `entry` tells the sizes
  // to expect (a hint). False if the file is gone (ENOENT); throws kIo
  // otherwise.
  bool read_message(const std::string& file, const Entry& entry, std::string& out) const;

  MaildirOptions options_;
  mutable std::map<std::string, FolderState> cache_;  // key: user + '/' + folder
  mutable UidValidity last_uidvalidity_ = 0;
  mutable std::uint64_t counter_ = 0;
  std::string random_;  // per-store random part of unique names
  mutable std::size_t header_cache_used_ = 0;  // octets of headers cached, all folders
  mutable std::string read_buffer_;  // file bytes before CRLF conversion, reused (calls hold the store's mutex)
};

}  // namespace mailsim::store
