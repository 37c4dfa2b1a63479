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
#pragma once

#include <filesystem>
#include <functional>
#include <map>

#include "real/store/mailbox_store.h"

namespace mailsim::store {

struct MaildirOptions {
  std::filesystem::path root;   // created if missing
  std::string hostname;         // for file names; empty: gethostname()
  // Seconds since the epoch, used only to pick new UIDVALIDITYs (as Dovecot
  // does); empty: the system clock. Tests pass a fixed one.
  std::function<std::int64_t()> now;
};

class MaildirStore : public MailboxStore {
 public:
  // Throws StoreError(kIo) if the root cannot be created.
  explicit MaildirStore(MaildirOptions options);

  // Where a user's folder lives on disk (for tests and for `mailsim serve` to
  // print). Does not check that it exists.
  std::filesystem::path folder_path(const std::string& user, const std::string& folder) const;

 protected:
  bool do_user_exists(const std::string& user) const override;
  std::vector<std::string> do_list_users() const override;
  void do_ensure_user(const std::string& user) override;
  std::vector<std::string> do_list_folder_names(const std::string& user) const override;
  void do_create_folder(const std::string& user, const std::string& folder) override;
  void do_delete_folder(const std::string& user, const std::string& folder) override;
  void do_rename_folder(const std::string& user, const std::string& from, const std::string& to) override;
  std::set<std::string> do_subscriptions(const std::string& user) const override;
  void do_set_subscriptions(const std::string& user, const std::set<std::string>& names) override;
  FolderSnapshot do_snapshot(const std::string& user, const std::string& folder, RecentMode recent) override;
  std::uint64_t do_generation(const std::string& user, const std::string& folder) const override;
  std::string do_fetch(const std::string& user, const std::string& folder, Uid uid) const override;
  AppendResult do_append(const std::string& user, const std::string& folder, std::string_view bytes,
                         const Flags& flags, InternalDate internal_date, bool durable) override;
  std::vector<MessageInfo> do_store_flags(const std::string& user, const std::string& folder,
                                          const std::vector<Uid>& uids, FlagOp op, const Flags& flags) override;
  CopyResult do_copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                     const std::string& to) override;
  std::vector<Uid> do_remove(const std::string& user, const std::string& folder,
                             const std::vector<Uid>& uids) override;

 private:
  struct Entry {
    std::string base;       // file name before ":2,"
    std::string file;       // "new/<name>" or "cur/<name>"
    Flags flags;
    std::string other;      // info letters we do not model (e.g. "P"), kept on rename
    InternalDate internal_date = 0;
    std::uint64_t size = 0; // CRLF form
  };
  struct FolderState {
    UidValidity uidvalidity = 0;
    Uid uidnext = 1;
    Uid first_recent = 1;
    std::uint64_t generation = 0;
    std::vector<std::string> keywords;  // index = letter - 'a'
    std::map<Uid, Entry> entries;
  };

  // Reads the folder's uidlist (first time) and directories, bringing the
  // cache up to date; returns the cached state.
  FolderState& scan(const std::string& user, const std::string& folder) const;
  void save_uidlist(const std::string& user, const std::string& folder, const FolderState& st) const;
  UidValidity new_uidvalidity() const;
  std::string unique_name(InternalDate t, std::uint64_t size, std::uint64_t vsize) const;
  // Info letters for flags, allocating keyword letters (kTooManyKeywords).
  std::string info_letters(FolderState& st, const Flags& flags, const std::string& other) const;
  // Writes `disk_bytes` into tmp/, fsyncs, sets mtime, moves it to `subdir`
  // with `info` (nullopt: no ":2," suffix); returns the Entry.
  Entry write_message(const std::filesystem::path& dir, std::string_view disk_bytes, std::uint64_t vsize,
                      InternalDate t, const char* subdir, const std::optional<std::string>& info,
                      bool sync_dir) const;

  MaildirOptions options_;
  mutable std::map<std::string, FolderState> cache_;  // key: user + '/' + folder
  mutable UidValidity last_uidvalidity_ = 0;
  mutable std::uint64_t counter_ = 0;
  std::string random_;  // per-store random part of unique names
};

}  // namespace mailsim::store
