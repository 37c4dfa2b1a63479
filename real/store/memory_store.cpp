// MemoryStore: MailboxStore kept in maps, deterministic for the simulator.
#include "real/store/memory_store.h"

#include <algorithm>

namespace mailsim::store {

namespace {
Flags combine(const Flags& old, FlagOp op, const Flags& given) {
  Flags out = old;
  switch (op) {
    case FlagOp::kReplace: out = given; break;
    case FlagOp::kAdd:
      out.system |= given.system;
      out.keywords.insert(given.keywords.begin(), given.keywords.end());
      break;
    case FlagOp::kRemove:
      out.system &= static_cast<std::uint8_t>(~given.system);
      for (const auto& k : given.keywords) out.keywords.erase(k);
      break;
  }
  return out;
}
}  // namespace

MemoryStore::Folder MemoryStore::new_folder() {
  Folder f;
  f.uidvalidity = next_uidvalidity_++;
  return f;
}

MemoryStore::Folder& MemoryStore::folder(const std::string& user, const std::string& name) {
  return users_.at(user).folders.at(name);  // the base class checked both exist
}

const MemoryStore::Folder& MemoryStore::folder(const std::string& user, const std::string& name) const {
  return users_.at(user).folders.at(name);
}

bool MemoryStore::do_user_exists(const std::string& user) const { return users_.count(user) != 0; }

std::vector<std::string> MemoryStore::do_list_users() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : users_) out.push_back(name);
  return out;
}

void MemoryStore::do_ensure_user(const std::string& user) {
  users_[user].folders.emplace(std::string(kInbox), new_folder());
}

std::vector<std::string> MemoryStore::do_list_folder_names(const std::string& user) const {
  std::vector<std::string> out;
  for (const auto& [name, _] : users_.at(user).folders) out.push_back(name);
  return out;
}

void MemoryStore::do_create_folder(const std::string& user, const std::string& name) {
  users_.at(user).folders.emplace(name, new_folder());
}

void MemoryStore::do_delete_folder(const std::string& user, const std::string& name) {
  users_.at(user).folders.erase(name);
}

void MemoryStore::do_rename_folder(const std::string& user, const std::string& from, const std::string& to) {
  auto& folders = users_.at(user).folders;
  auto node = folders.extract(from);
  node.key() = to;
  node.mapped().generation++;
  folders.insert(std::move(node));
}

std::set<std::string> MemoryStore::do_subscriptions(const std::string& user) const {
  return users_.at(user).subscriptions;
}

void MemoryStore::do_set_subscriptions(const std::string& user, const std::set<std::string>& names) {
  users_.at(user).subscriptions = names;
}

FolderSnapshot MemoryStore::do_snapshot(const std::string& user, const std::string& name, RecentMode recent) {
  Folder& f = folder(user, name);
  FolderSnapshot s;
  s.status.uidvalidity = f.uidvalidity;
  s.status.uidnext = f.uidnext;
  s.status.generation = f.generation;
  s.status.keywords.assign(f.keywords.begin(), f.keywords.end());
  for (const auto& [uid, m] : f.messages) {
    MessageInfo info = m.info;
    info.recent = uid >= f.first_recent;
    s.status.messages++;
    if (info.recent) s.status.recent++;
    if (!info.flags.has(SystemFlag::kSeen)) s.status.unseen++;
    s.messages.push_back(std::move(info));
  }
  // Claiming recent is not a change others need to hear about: \Recent is
  // per session, so the generation stays.
  if (recent == RecentMode::kClaim) f.first_recent = f.uidnext;
  return s;
}

std::uint64_t MemoryStore::do_generation(const std::string& user, const std::string& name) const {
  return folder(user, name).generation;
}

std::string MemoryStore::do_fetch(const std::string& user, const std::string& name, Uid uid) const {
  const Folder& f = folder(user, name);
  auto it = f.messages.find(uid);
  if (it == f.messages.end())
    throw StoreError(StoreErrc::kNoSuchMessage, "no message with UID " + std::to_string(uid) + " in " + name);
  return it->second.bytes;
}

AppendResult MemoryStore::do_append(const std::string& user, const std::string& name, std::string_view bytes,
                                    const Flags& flags, InternalDate internal_date, bool /*durable*/) {
  Folder& f = folder(user, name);
  Message m;
  m.info.uid = f.uidnext++;
  m.info.flags = flags;
  m.info.internal_date = internal_date;
  m.info.size = bytes.size();
  m.bytes.assign(bytes);
  f.keywords.insert(flags.keywords.begin(), flags.keywords.end());
  f.generation++;
  const Uid uid = m.info.uid;
  // UIDs only grow: the new message goes last, with no walk down the tree.
  f.messages.emplace_hint(f.messages.end(), uid, std::move(m));
  return {f.uidvalidity, uid};
}

std::vector<MessageInfo> MemoryStore::do_store_flags(const std::string& user, const std::string& name,
                                                     const std::vector<Uid>& uids, FlagOp op, const Flags& flags) {
  Folder& f = folder(user, name);
  std::vector<Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<MessageInfo> out;
  bool changed = false;
  for (Uid uid : sorted) {
    auto it = f.messages.find(uid);
    if (it == f.messages.end()) continue;
    Flags next = combine(it->second.info.flags, op, flags);
    if (next != it->second.info.flags) changed = true;
    it->second.info.flags = std::move(next);
    MessageInfo info = it->second.info;
    info.recent = uid >= f.first_recent;
    out.push_back(std::move(info));
  }
  f.keywords.insert(flags.keywords.begin(), flags.keywords.end());
  if (changed) f.generation++;
  return out;
}

CopyResult MemoryStore::do_copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                                const std::string& to) {
  std::vector<Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  CopyResult out;
  out.uidvalidity = folder(user, to).uidvalidity;
  // Collect first: copying a folder onto itself must not see its own copies.
  std::vector<Message> picked;
  for (Uid uid : sorted) {
    const Folder& src = folder(user, from);
    auto it = src.messages.find(uid);
    if (it != src.messages.end()) picked.push_back(it->second);
  }
  for (const auto& m : picked) {
    auto r = do_append(user, to, m.bytes, m.info.flags, m.info.internal_date, false);
    out.uids.emplace_back(m.info.uid, r.uid);
  }
  return out;
}

std::vector<Uid> MemoryStore::do_remove(const std::string& user, const std::string& name,
                                        const std::vector<Uid>& uids) {
  Folder& f = folder(user, name);
  std::vector<Uid> out;
  for (Uid uid : uids)
    if (f.messages.erase(uid) != 0) out.push_back(uid);
  std::sort(out.begin(), out.end());
  if (!out.empty()) f.generation++;
  return out;
}

}  // namespace mailsim::store
