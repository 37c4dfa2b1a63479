// MemoryStore: the MailboxStore backend the simulator uses. Everything lives
// in memory; nothing reads a clock or a random source, so the same calls give
// the same UIDVALIDITYs, UIDs and generations on every run.
#pragma once

#include <map>

#include "real/store/mailbox_store.h"

namespace mailsim::store {

class MemoryStore : public MailboxStore {
 public:
  // UIDVALIDITY values are handed out from one counter per store, starting at
  // `first_uidvalidity`, so a folder deleted and created again never gets its
  // old UIDVALIDITY back (RFC 3501 §2.3.1.1).
  explicit MemoryStore(UidValidity first_uidvalidity = 1) : next_uidvalidity_(first_uidvalidity) {}

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
  struct Message {
    MessageInfo info;  // info.recent unused: recent is uid >= first_recent
    std::string bytes;
  };
  struct Folder {
    UidValidity uidvalidity = 0;
    Uid uidnext = 1;
    Uid first_recent = 1;
    std::uint64_t generation = 0;
    std::set<std::string> keywords;
    std::map<Uid, Message> messages;
  };
  struct User {
    std::map<std::string, Folder> folders;
    std::set<std::string> subscriptions;
  };

  Folder new_folder();
  Folder& folder(const std::string& user, const std::string& name);
  const Folder& folder(const std::string& user, const std::string& name) const;

  std::map<std::string, User> users_;
  UidValidity next_uidvalidity_;
};

}  // namespace mailsim::store
