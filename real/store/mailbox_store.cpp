// MailboxStore's shared half: name rules, locking, the RFC 3501 rules for
// CREATE/DELETE/RENAME (§6.3.3–6.3.5) that do not depend on a backend, and
// the change listener. Backends implement only the do_* hooks.
#include "real/store/mailbox_store.h"

#include <algorithm>

#include "real/codec/ascii.h"

namespace mailsim::store {

// ---- flags -----------------------------------------------------------------

namespace {
constexpr std::pair<SystemFlag, std::string_view> kSystemFlags[] = {
    {SystemFlag::kSeen, "\\Seen"},       {SystemFlag::kAnswered, "\\Answered"},
    {SystemFlag::kFlagged, "\\Flagged"}, {SystemFlag::kDeleted, "\\Deleted"},
    {SystemFlag::kDraft, "\\Draft"},
};
}  // namespace

std::optional<SystemFlag> parse_system_flag(std::string_view name) {
  for (const auto& [flag, text] : kSystemFlags)
    if (codec::iequals(name, text)) return flag;
  return std::nullopt;
}

std::string_view system_flag_name(SystemFlag f) {
  for (const auto& [flag, text] : kSystemFlags)
    if (flag == f) return text;
  return {};
}

std::string format_flags(const Flags& flags) {
  std::string out;
  auto add = [&out](std::string_view word) {
    if (!out.empty()) out += ' ';
    out += word;
  };
  for (const auto& [flag, text] : kSystemFlags)
    if (flags.has(flag)) add(text);
  for (const auto& k : flags.keywords) add(k);
  return out;
}

// ---- names ------------------------------------------------------------------

bool valid_folder_name(std::string_view folder) {
  if (folder.empty() || folder.size() > 255) return false;
  if (folder.front() == MailboxStore::kDelimiter || folder.back() == MailboxStore::kDelimiter) return false;
  if (folder.find("..") != std::string_view::npos) return false;
  for (unsigned char c : folder) {
    // '/' would escape the Maildir; '*' and '%' are IMAP LIST wildcards.
    if (c < 0x20 || c == 0x7f || c == '/' || c == '*' || c == '%') return false;
  }
  return true;
}

bool valid_user_name(std::string_view user) {
  if (user.empty() || user.size() > 255 || user.front() == '.') return false;
  for (unsigned char c : user)
    if (c <= 0x20 || c == 0x7f || c == '/') return false;
  return true;
}

// ---- maildrop locks --------------------------------------------------------

MaildropLocks::Lease& MaildropLocks::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = std::exchange(o.owner_, nullptr);
    user_ = std::move(o.user_);
  }
  return *this;
}

void MaildropLocks::Lease::release() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->held_.erase(user_);
  owner_ = nullptr;
}

std::optional<MaildropLocks::Lease> MaildropLocks::try_lock(const std::string& user) {
  std::lock_guard lock(mutex_);
  if (!held_.insert(user).second) return std::nullopt;
  return Lease(this, user);
}

bool MaildropLocks::locked(const std::string& user) const {
  std::lock_guard lock(mutex_);
  return held_.count(user) != 0;
}

// ---- the store -------------------------------------------------------------

std::string MailboxStore::canonical_name(const std::string& folder) {
  return codec::iequals(folder, kInbox) ? std::string(kInbox) : folder;
}

namespace {
std::string checked_folder(const std::string& folder) {
  if (!valid_folder_name(folder)) throw StoreError(StoreErrc::kBadName, "bad folder name: " + folder);
  return MailboxStore::canonical_name(folder);
}

bool is_inferior(const std::string& name, const std::string& parent) {
  return name.size() > parent.size() + 1 && name.compare(0, parent.size(), parent) == 0 &&
         name[parent.size()] == MailboxStore::kDelimiter;
}

std::vector<std::string> parents_of(const std::string& folder) {
  std::vector<std::string> out;
  for (std::size_t p = folder.find(MailboxStore::kDelimiter); p != std::string::npos;
       p = folder.find(MailboxStore::kDelimiter, p + 1))
    out.push_back(folder.substr(0, p));
  return out;
}
}  // namespace

void MailboxStore::require_user(const std::string& user) const {
  if (!valid_user_name(user) || !do_user_exists(user))
    throw StoreError(StoreErrc::kNoSuchUser, "no such user: " + user);
}

void MailboxStore::require_folder(const std::string& user, const std::string& folder) const {
  require_user(user);
  if (!do_folder_exists(user, folder)) throw StoreError(StoreErrc::kNoSuchFolder, "no such folder: " + folder);
}

bool MailboxStore::do_folder_exists(const std::string& user, const std::string& folder) const {
  auto names = do_list_folder_names(user);
  return std::find(names.begin(), names.end(), folder) != names.end();
}

MailboxStore::Changes MailboxStore::changes_in(const std::string& user,
                                               const std::vector<std::string>& folders) const {
  Changes out;
  if (!listener_) return out;
  for (const auto& f : folders) out.emplace_back(f, do_generation(user, f));
  return out;
}

void MailboxStore::notify(std::unique_lock<std::mutex>& lock, const std::string& user, const Changes& changes) {
  ChangeListener listener = listener_;
  lock.unlock();
  if (!listener) return;
  for (const auto& [folder, generation] : changes) listener(user, folder, generation);
}

void MailboxStore::set_change_listener(ChangeListener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

bool MailboxStore::user_exists(const std::string& user) const {
  std::lock_guard lock(mutex_);
  return valid_user_name(user) && do_user_exists(user);
}

std::vector<std::string> MailboxStore::list_users() const {
  std::lock_guard lock(mutex_);
  auto users = do_list_users();
  std::sort(users.begin(), users.end());
  return users;
}

void MailboxStore::ensure_user(const std::string& user) {
  std::lock_guard lock(mutex_);
  if (!valid_user_name(user)) throw StoreError(StoreErrc::kBadName, "bad user name: " + user);
  if (!do_user_exists(user)) do_ensure_user(user);
}

std::vector<FolderInfo> MailboxStore::list_folders(const std::string& user) const {
  std::lock_guard lock(mutex_);
  require_user(user);
  auto names = do_list_folder_names(user);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    if ((a == kInbox) != (b == kInbox)) return a == kInbox;
    return a < b;
  });
  std::vector<FolderInfo> out;
  for (const auto& n : names) {
    bool children = std::any_of(names.begin(), names.end(), [&](const std::string& o) { return is_inferior(o, n); });
    out.push_back({n, children});
  }
  return out;
}

bool MailboxStore::folder_exists(const std::string& user, const std::string& folder) const {
  std::lock_guard lock(mutex_);
  if (!valid_folder_name(folder) || !valid_user_name(user) || !do_user_exists(user)) return false;
  return do_folder_exists(user, canonical_name(folder));
}

void MailboxStore::create_folder(const std::string& user, const std::string& folder_in) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_user(user);
  if (folder == kInbox) throw StoreError(StoreErrc::kInboxNotAllowed, "INBOX always exists");
  auto names = do_list_folder_names(user);
  auto exists = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (exists(folder)) throw StoreError(StoreErrc::kFolderExists, "folder exists: " + folder);
  std::vector<std::string> created;
  for (const auto& parent : parents_of(folder)) {
    const std::string p = canonical_name(parent);
    if (!exists(p)) {
      do_create_folder(user, p);
      names.push_back(p);
      created.push_back(p);
    }
  }
  do_create_folder(user, folder);
  created.push_back(folder);
  auto changes = changes_in(user, created);
  notify(lock, user, changes);
}

void MailboxStore::delete_folder(const std::string& user, const std::string& folder_in) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  if (folder == kInbox) throw StoreError(StoreErrc::kInboxNotAllowed, "INBOX cannot be deleted");
  require_folder(user, folder);
  for (const auto& n : do_list_folder_names(user))
    if (is_inferior(n, folder)) throw StoreError(StoreErrc::kHasChildren, "folder has subfolders: " + folder);
  do_delete_folder(user, folder);
}

void MailboxStore::rename_folder(const std::string& user, const std::string& from_in, const std::string& to_in) {
  std::unique_lock lock(mutex_);
  const std::string from = checked_folder(from_in);
  const std::string to = checked_folder(to_in);
  require_folder(user, from);
  if (to == kInbox) throw StoreError(StoreErrc::kInboxNotAllowed, "cannot rename onto INBOX");
  auto names = do_list_folder_names(user);
  auto exists = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (exists(to)) throw StoreError(StoreErrc::kFolderExists, "folder exists: " + to);
  if (is_inferior(to, from)) throw StoreError(StoreErrc::kBadName, "cannot rename a folder into itself: " + to);

  std::vector<std::string> changed;
  auto create_parents = [&] {
    for (const auto& parent : parents_of(to)) {
      const std::string p = canonical_name(parent);
      if (!exists(p) && p != from) {
        do_create_folder(user, p);
        names.push_back(p);
        changed.push_back(p);
      }
    }
  };

  if (from == kInbox) {
    // RFC 3501 §6.3.5: renaming INBOX moves its messages to a new folder and
    // leaves INBOX, empty, in place. INBOX's subfolders stay where they are.
    create_parents();
    do_create_folder(user, to);
    std::vector<Uid> uids;
    for (const auto& m : do_snapshot(user, from, RecentMode::kPeek).messages) uids.push_back(m.uid);
    do_copy(user, from, uids, to);
    do_remove(user, from, uids);
    changed.push_back(from);
    changed.push_back(to);
  } else {
    // Parents of the target first, then the folder, then its inferiors,
    // which keep their place under the new name.
    std::vector<std::string> inferiors;
    for (const auto& n : names)
      if (is_inferior(n, from)) inferiors.push_back(n);
    for (const auto& n : inferiors)
      if (exists(to + n.substr(from.size()))) throw StoreError(StoreErrc::kFolderExists, "folder exists: " + to + n.substr(from.size()));
    create_parents();
    do_rename_folder(user, from, to);
    changed.push_back(to);
    for (const auto& n : inferiors) {
      do_rename_folder(user, n, to + n.substr(from.size()));
      changed.push_back(to + n.substr(from.size()));
    }
  }
  auto changes = changes_in(user, changed);
  notify(lock, user, changes);
}

void MailboxStore::subscribe(const std::string& user, const std::string& folder_in) {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_user(user);
  auto subs = do_subscriptions(user);
  if (subs.insert(folder).second) do_set_subscriptions(user, subs);
}

void MailboxStore::unsubscribe(const std::string& user, const std::string& folder_in) {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_user(user);
  auto subs = do_subscriptions(user);
  if (subs.erase(folder) != 0) do_set_subscriptions(user, subs);
}

std::vector<std::string> MailboxStore::list_subscribed(const std::string& user) const {
  std::lock_guard lock(mutex_);
  require_user(user);
  auto subs = do_subscriptions(user);
  return {subs.begin(), subs.end()};
}

FolderSnapshot MailboxStore::snapshot(const std::string& user, const std::string& folder_in, RecentMode recent) {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  return do_snapshot(user, folder, recent);
}

FolderStatus MailboxStore::status(const std::string& user, const std::string& folder) {
  return snapshot(user, folder, RecentMode::kPeek).status;
}

std::uint64_t MailboxStore::generation(const std::string& user, const std::string& folder_in) const {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  return do_generation(user, folder);
}

std::string MailboxStore::fetch(const std::string& user, const std::string& folder_in, Uid uid) const {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  return do_fetch(user, folder, uid);
}

std::string MailboxStore::fetch_header(const std::string& user, const std::string& folder_in, Uid uid) const {
  std::lock_guard lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  return do_fetch_header(user, folder, uid);
}

std::string MailboxStore::do_fetch_header(const std::string& user, const std::string& folder, Uid uid) const {
  std::string m = do_fetch(user, folder, uid);
  m.resize(header_section_size(m));
  return m;
}

std::size_t header_section_size(std::string_view message) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (message[pos] == '\n') return pos + 1;
    if (message[pos] == '\r' && pos + 1 < message.size() && message[pos + 1] == '\n') return pos + 2;
    const std::size_t nl = message.find('\n', pos);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return message.size();
}

AppendResult MailboxStore::append(const std::string& user, const std::string& folder_in, std::string_view bytes,
                                  const Flags& flags, InternalDate internal_date) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  auto result = do_append(user, folder, bytes, flags, internal_date, false);
  auto changes = changes_in(user, {folder});
  notify(lock, user, changes);
  return result;
}

Uid MailboxStore::deliver(const std::string& user, std::string_view bytes, InternalDate internal_date) {
  std::unique_lock lock(mutex_);
  require_user(user);
  const std::string inbox(kInbox);
  auto result = do_append(user, inbox, bytes, Flags{}, internal_date, true);
  auto changes = changes_in(user, {inbox});
  notify(lock, user, changes);
  return result.uid;
}

std::vector<MessageInfo> MailboxStore::store_flags(const std::string& user, const std::string& folder_in,
                                                   const std::vector<Uid>& uids, FlagOp op, const Flags& flags) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  const auto before = do_generation(user, folder);
  auto result = do_store_flags(user, folder, uids, op, flags);
  // Setting flags a message already has changes nothing: nobody to wake.
  auto changes = do_generation(user, folder) == before ? Changes{} : changes_in(user, {folder});
  notify(lock, user, changes);
  return result;
}

CopyResult MailboxStore::copy(const std::string& user, const std::string& from_in, const std::vector<Uid>& uids,
                              const std::string& to_in) {
  std::unique_lock lock(mutex_);
  const std::string from = checked_folder(from_in);
  const std::string to = checked_folder(to_in);
  require_folder(user, from);
  require_folder(user, to);
  auto result = do_copy(user, from, uids, to);
  auto changes = result.uids.empty() ? Changes{} : changes_in(user, {to});
  notify(lock, user, changes);
  return result;
}

std::vector<Uid> MailboxStore::expunge(const std::string& user, const std::string& folder_in,
                                       const std::optional<std::vector<Uid>>& only) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  std::vector<Uid> doomed;
  for (const auto& m : do_snapshot(user, folder, RecentMode::kPeek).messages) {
    if (!m.flags.has(SystemFlag::kDeleted)) continue;
    if (only && std::find(only->begin(), only->end(), m.uid) == only->end()) continue;
    doomed.push_back(m.uid);
  }
  auto removed = doomed.empty() ? std::vector<Uid>{} : do_remove(user, folder, doomed);
  auto changes = removed.empty() ? Changes{} : changes_in(user, {folder});
  notify(lock, user, changes);
  return removed;
}

std::vector<Uid> MailboxStore::remove(const std::string& user, const std::string& folder_in,
                                      const std::vector<Uid>& uids) {
  std::unique_lock lock(mutex_);
  const std::string folder = checked_folder(folder_in);
  require_folder(user, folder);
  auto removed = do_remove(user, folder, uids);
  auto changes = removed.empty() ? Changes{} : changes_in(user, {folder});
  notify(lock, user, changes);
  return removed;
}

}  // namespace mailsim::store
