// MaildirStore: Maildir++ on disk (see maildir_store.h for the layout). Every
// write that must survive a crash goes tmp/ → fsync → rename → fsync(dir),
// the Maildir delivery protocol (cr.yp.to/proto/maildir.html).
#include "real/store/maildir_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mailsim::store {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void io_error(const std::string& what, const fs::path& p, int err = errno) {
  throw StoreError(StoreErrc::kIo, what + " " + p.string() + ": " + std::strerror(err));
}

// The system-flag letters of the Maildir info, in the ASCII order the spec
// requires.
constexpr std::pair<char, SystemFlag> kLetters[] = {
    {'D', SystemFlag::kDraft}, {'F', SystemFlag::kFlagged}, {'R', SystemFlag::kAnswered},
    {'S', SystemFlag::kSeen},  {'T', SystemFlag::kDeleted},
};

std::vector<std::string> list_dir(const fs::path& dir, bool dirs_only) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    io_error("cannot read directory", dir);
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (dirs_only) {
      struct stat st {};
      if (::stat((dir / name).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    }
    out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

void fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) io_error("cannot open", p);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    io_error("cannot fsync", p, err);
  }
  ::close(fd);
}

void fsync_dir(const fs::path& dir) { fsync_path(dir, O_RDONLY | O_DIRECTORY); }

void write_all(int fd, std::string_view data, const fs::path& p) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("cannot write", p);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Replaces `path` with `content` atomically and durably.
void write_file_atomic(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) io_error("cannot create", tmp);
  try {
    write_all(fd, content, tmp);
    if (::fsync(fd) != 0) io_error("cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) io_error("cannot rename onto", path);
  fsync_dir(path.parent_path());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) io_error("cannot read", p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void make_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) io_error("cannot create directory", p);
}

void make_maildir(const fs::path& p, bool subfolder) {
  make_dir(p);
  for (const char* sub : {"cur", "new", "tmp"}) make_dir(p / sub);
  if (subfolder) {
    // Maildir++ marks a subfolder with an empty "maildirfolder" file.
    int fd = ::open((p / "maildirfolder").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) io_error("cannot create", p / "maildirfolder");
    ::close(fd);
  }
  fsync_dir(p);
  fsync_dir(p.parent_path());
}

// Host part of a Maildir file name: '/' and ':' cannot appear (the spec's
// \057 and \072 escapes), nor '.' which separates the name's parts... except
// that real host names have dots, and readers only split on the first two,
// so dots stay.
std::string safe_host(std::string host) {
  std::string out;
  for (char c : host) {
    if (c == '/') out += "\\057";
    else if (c == ':') out += "\\072";
    else out += c;
  }
  return out.empty() ? "localhost" : out;
}

// Reads ",W=<n>" or ",S=<n>" from a base name.
std::optional<std::uint64_t> size_field(const std::string& base, const char* key) {
  auto p = base.find(key);
  if (p == std::string::npos) return std::nullopt;
  p += std::strlen(key);
  std::uint64_t v = 0;
  bool any = false;
  while (p < base.size() && base[p] >= '0' && base[p] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(base[p++] - '0');
    any = true;
  }
  return any ? std::optional(v) : std::nullopt;
}

}  // namespace

MaildirStore::MaildirStore(MaildirOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.root, ec);
  if (ec) throw StoreError(StoreErrc::kIo, "cannot create " + options_.root.string() + ": " + ec.message());
  if (options_.hostname.empty()) {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    options_.hostname = buf;
  }
  options_.hostname = safe_host(options_.hostname);
  if (!options_.now) {
    options_.now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  unsigned char r[4];
  if (RAND_bytes(r, sizeof r) != 1) throw StoreError(StoreErrc::kIo, "no randomness for Maildir names");
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : r) {
    random_ += kHex[c >> 4];
    random_ += kHex[c & 15];
  }
}

fs::path MaildirStore::folder_path(const std::string& user, const std::string& folder) const {
  fs::path p = options_.root / user / "Maildir";
  return folder == kInbox ? p : p / ("." + folder);
}

UidValidity MaildirStore::new_uidvalidity() const {
  auto now = static_cast<UidValidity>(options_.now());
  last_uidvalidity_ = std::max(now, last_uidvalidity_ + 1);
  return last_uidvalidity_;
}

std::string MaildirStore::unique_name(InternalDate t, std::uint64_t size, std::uint64_t vsize) const {
  return std::to_string(t) + ".P" + std::to_string(::getpid()) + "Q" + std::to_string(++counter_) + "R" + random_ +
         "." + options_.hostname + ",S=" + std::to_string(size) + ",W=" + std::to_string(vsize);
}

// ---- users and folders -----------------------------------------------------

bool MaildirStore::do_user_exists(const std::string& user) const {
  struct stat st {};
  return ::stat((options_.root / user / "Maildir").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> MaildirStore::do_list_users() const {
  std::vector<std::string> out;
  for (auto& name : list_dir(options_.root, true))
    if (valid_user_name(name) && do_user_exists(name)) out.push_back(name);
  return out;
}

void MaildirStore::do_ensure_user(const std::string& user) {
  make_dir(options_.root / user);
  make_maildir(options_.root / user / "Maildir", false);
}

std::vector<std::string> MaildirStore::do_list_folder_names(const std::string& user) const {
  std::vector<std::string> out{std::string(kInbox)};
  for (auto& name : list_dir(options_.root / user / "Maildir", true)) {
    if (name.size() < 2 || name[0] != '.') continue;
    std::string folder = name.substr(1);
    if (valid_folder_name(folder) && canonical_name(folder) != kInbox) out.push_back(std::move(folder));
  }
  return out;
}

void MaildirStore::do_create_folder(const std::string& user, const std::string& folder) {
  make_maildir(folder_path(user, folder), true);
  cache_.erase(user + '/' + folder);
}

void MaildirStore::do_delete_folder(const std::string& user, const std::string& folder) {
  std::error_code ec;
  fs::remove_all(folder_path(user, folder), ec);
  if (ec) throw StoreError(StoreErrc::kIo, "cannot delete folder " + folder + ": " + ec.message());
  cache_.erase(user + '/' + folder);
}

void MaildirStore::do_rename_folder(const std::string& user, const std::string& from, const std::string& to) {
  const fs::path a = folder_path(user, from), b = folder_path(user, to);
  if (::rename(a.c_str(), b.c_str()) != 0) io_error("cannot rename folder to", b);
  fsync_dir(b.parent_path());
  auto node = cache_.extract(user + '/' + from);
  cache_.erase(user + '/' + to);
  if (!node.empty()) {
    node.key() = user + '/' + to;
    node.mapped().generation++;
    cache_.insert(std::move(node));
  }
}

std::set<std::string> MaildirStore::do_subscriptions(const std::string& user) const {
  std::set<std::string> out;
  std::ifstream in(options_.root / user / "Maildir" / "subscriptions");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(line);
  return out;
}

void MaildirStore::do_set_subscriptions(const std::string& user, const std::set<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += n + "\n";
  write_file_atomic(options_.root / user / "Maildir" / "subscriptions", text);
}

// ---- the uidlist and the scan ----------------------------------------------

void MaildirStore::save_uidlist(const std::string& user, const std::string& folder, const FolderState& st) const {
  std::string text = "mailsim-uidlist 1\nV " + std::to_string(st.uidvalidity) + " N " + std::to_string(st.uidnext) +
                     " R " + std::to_string(st.first_recent) + "\n";
  for (std::size_t i = 0; i < st.keywords.size(); ++i) text += "K " + std::to_string(i) + " " + st.keywords[i] + "\n";
  for (const auto& [uid, e] : st.entries) text += std::to_string(uid) + " " + e.base + "\n";
  write_file_atomic(folder_path(user, folder) / "mailsim-uidlist", text);
}

MaildirStore::FolderState& MaildirStore::scan(const std::string& user, const std::string& folder) const {
  const fs::path dir = folder_path(user, folder);
  const std::string key = user + '/' + folder;
  bool dirty = false;  // the uidlist on disk must be rewritten

  auto [it, fresh] = cache_.try_emplace(key);
  FolderState& st = it->second;
  std::map<std::string, Uid> known;  // base → uid, from the list
  if (fresh) {
    std::ifstream in(dir / "mailsim-uidlist");
    std::string line;
    if (in && std::getline(in, line) && line == "mailsim-uidlist 1" && std::getline(in, line)) {
      std::istringstream hdr(line);
      std::string v, n, r;
      hdr >> v >> st.uidvalidity >> n >> st.uidnext >> r >> st.first_recent;
      while (std::getline(in, line)) {
        std::istringstream ls(line);
        if (line.rfind("K ", 0) == 0) {
          std::string k;
          std::size_t idx = 0;
          ls >> k >> idx >> k;
          if (idx < 26) {
            if (st.keywords.size() <= idx) st.keywords.resize(idx + 1);
            st.keywords[idx] = k;
          }
          continue;
        }
        Uid uid = 0;
        std::string base;
        if (ls >> uid >> base && uid > 0) known.emplace(base, uid);
      }
    }
    if (st.uidvalidity == 0) {
      // No list (a new folder, or a Maildir written by another program): start
      // a fresh UID space. Existing files become UIDs 1, 2, ... below.
      st.uidvalidity = new_uidvalidity();
      st.uidnext = 1;
      st.first_recent = 1;
      dirty = true;
    }
  } else {
    for (const auto& [uid, e] : st.entries) known.emplace(e.base, uid);
  }

  // What is on disk now: base name → (file, info).
  struct OnDisk {
    std::string file;
    std::optional<std::string> info;
  };
  std::map<std::string, OnDisk> disk;
  for (const char* sub : {"new", "cur"}) {
    for (auto& name : list_dir(dir / sub, false)) {
      if (name.empty() || name[0] == '.') continue;
      auto colon = name.find(":2,");
      std::string base = name.substr(0, colon);
      std::optional<std::string> info;
      if (colon != std::string::npos) info = name.substr(colon + 3);
      disk[base] = {std::string(sub) + "/" + name, info};
    }
  }

  auto fill = [&](Entry& e, const OnDisk& d) {
    e.file = d.file;
    e.flags = Flags{};
    e.other.clear();
    for (char c : d.info.value_or("")) {
      bool system = false;
      for (const auto& [letter, flag] : kLetters)
        if (c == letter) {
          e.flags.set(flag);
          system = true;
        }
      if (system) continue;
      if (c >= 'a' && c <= 'z') {
        std::size_t idx = static_cast<std::size_t>(c - 'a');
        if (idx < st.keywords.size() && !st.keywords[idx].empty()) e.flags.keywords.insert(st.keywords[idx]);
      } else if (e.other.find(c) == std::string::npos) {
        e.other += c;
      }
    }
  };

  bool changed = false;
  // Vanished or renamed files.
  for (auto e = st.entries.begin(); e != st.entries.end();) {
    auto d = disk.find(e->second.base);
    if (d == disk.end()) {
      e = st.entries.erase(e);
      changed = dirty = true;
      continue;
    }
    if (d->second.file != e->second.file) {
      Flags before = e->second.flags;
      fill(e->second, d->second);
      if (e->second.flags != before) changed = true;
    }
    ++e;
  }

  // Files the cache does not hold: known to the list (first scan after
  // start) or new (UIDs in file-name order, which starts with the time).
  std::vector<std::string> unknown;
  for (const auto& [base, d] : disk) {
    auto k = known.find(base);
    if (k != known.end() && st.entries.count(k->second) != 0) continue;
    if (k == known.end()) {
      unknown.push_back(base);
      continue;
    }
    Entry e;
    e.base = base;
    fill(e, d);
    st.entries.emplace(k->second, std::move(e));
    changed = true;
  }
  if (fresh && known.size() != st.entries.size()) dirty = true;  // list named files that are gone
  for (const auto& base : unknown) {
    Entry e;
    e.base = base;
    fill(e, disk[base]);
    st.entries.emplace(st.uidnext++, std::move(e));
    changed = dirty = true;
  }

  // Sizes and dates of entries not yet measured.
  for (auto& [uid, e] : st.entries) {
    if (e.internal_date != 0 || e.size != 0) continue;
    struct stat sb {};
    if (::stat((dir / e.file).c_str(), &sb) == 0) e.internal_date = sb.st_mtim.tv_sec;
    if (auto w = size_field(e.base, ",W=")) e.size = *w;
    else e.size = crlf_size(read_file(dir / e.file));
  }

  if (changed && !fresh) st.generation++;
  if (dirty) save_uidlist(user, folder, st);
  return st;
}

// ---- reading ---------------------------------------------------------------

FolderSnapshot MaildirStore::do_snapshot(const std::string& user, const std::string& folder, RecentMode recent) {
  FolderState& st = scan(user, folder);
  FolderSnapshot s;
  s.status.uidvalidity = st.uidvalidity;
  s.status.uidnext = st.uidnext;
  s.status.generation = st.generation;
  for (const auto& k : st.keywords)
    if (!k.empty()) s.status.keywords.push_back(k);
  std::sort(s.status.keywords.begin(), s.status.keywords.end());
  for (const auto& [uid, e] : st.entries) {
    MessageInfo m{uid, e.flags, e.internal_date, e.size, uid >= st.first_recent};
    s.status.messages++;
    if (m.recent) s.status.recent++;
    if (!m.flags.has(SystemFlag::kSeen)) s.status.unseen++;
    s.messages.push_back(std::move(m));
  }
  if (recent == RecentMode::kClaim && st.first_recent != st.uidnext) {
    st.first_recent = st.uidnext;
    save_uidlist(user, folder, st);
  }
  return s;
}

std::uint64_t MaildirStore::do_generation(const std::string& user, const std::string& folder) const {
  return scan(user, folder).generation;
}

std::string MaildirStore::do_fetch(const std::string& user, const std::string& folder, Uid uid) const {
  // A reader such as mutt may rename the file between our scan and the read;
  // one rescan finds its new name.
  for (int attempt = 0; attempt < 2; ++attempt) {
    FolderState& st = scan(user, folder);
    auto it = st.entries.find(uid);
    if (it == st.entries.end()) break;
    std::ifstream in(folder_path(user, folder) / it->second.file, std::ios::binary);
    if (!in) continue;
    std::ostringstream ss;
    ss << in.rdbuf();
    return to_crlf(ss.str());
  }
  throw StoreError(StoreErrc::kNoSuchMessage, "no message with UID " + std::to_string(uid) + " in " + folder);
}

// ---- writing ---------------------------------------------------------------

std::string MaildirStore::info_letters(FolderState& st, const Flags& flags, const std::string& other) const {
  std::string letters = other;
  for (const auto& [letter, flag] : kLetters)
    if (flags.has(flag)) letters += letter;
  for (const auto& k : flags.keywords) {
    auto pos = std::find(st.keywords.begin(), st.keywords.end(), k);
    if (pos == st.keywords.end()) {
      pos = std::find(st.keywords.begin(), st.keywords.end(), std::string());
      if (pos == st.keywords.end()) {
        if (st.keywords.size() >= 26)
          throw StoreError(StoreErrc::kTooManyKeywords, "a Maildir folder holds at most 26 keywords");
        st.keywords.push_back(k);
        pos = st.keywords.end() - 1;
      } else {
        *pos = k;
      }
    }
    letters += static_cast<char>('a' + (pos - st.keywords.begin()));
  }
  std::sort(letters.begin(), letters.end());
  return letters;
}

MaildirStore::Entry MaildirStore::write_message(const fs::path& dir, std::string_view disk_bytes, std::uint64_t vsize,
                                                InternalDate t, const char* subdir,
                                                const std::optional<std::string>& info, bool sync_dir) const {
  Entry e;
  e.base = unique_name(t, disk_bytes.size(), vsize);
  const fs::path tmp = dir / "tmp" / e.base;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) io_error("cannot create", tmp);
  try {
    write_all(fd, disk_bytes, tmp);
    // The mtime is the internal date; set before the file becomes visible.
    struct timespec times[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
    if (::futimens(fd, times) != 0) io_error("cannot set time of", tmp);
    if (::fsync(fd) != 0) io_error("cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  e.file = std::string(subdir) + "/" + e.base + (info ? ":2," + *info : "");
  // link() rather than rename(): it refuses to replace an existing name.
  if (::link(tmp.c_str(), (dir / e.file).c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    io_error("cannot move message into", dir / e.file, err);
  }
  ::unlink(tmp.c_str());
  if (sync_dir) fsync_dir(dir / subdir);
  e.internal_date = t;
  e.size = vsize;
  return e;
}

AppendResult MaildirStore::do_append(const std::string& user, const std::string& folder, std::string_view bytes,
                                     const Flags& flags, InternalDate internal_date, bool durable) {
  FolderState& st = scan(user, folder);
  const std::string disk = to_lf(bytes);
  const std::uint64_t vsize = crlf_size(disk);
  Entry e;
  if (durable) {
    // Delivery: into new/, where mail readers look for unseen mail.
    e = write_message(folder_path(user, folder), disk, vsize, internal_date, "new", std::nullopt, true);
  } else {
    const std::string letters = info_letters(st, flags, "");
    e = write_message(folder_path(user, folder), disk, vsize, internal_date, "cur", letters, true);
  }
  e.flags = flags;
  const Uid uid = st.uidnext++;
  st.entries.emplace(uid, std::move(e));
  st.generation++;
  save_uidlist(user, folder, st);
  return {st.uidvalidity, uid};
}

std::vector<MessageInfo> MaildirStore::do_store_flags(const std::string& user, const std::string& folder,
                                                      const std::vector<Uid>& uids, FlagOp op, const Flags& flags) {
  FolderState& st = scan(user, folder);
  const fs::path dir = folder_path(user, folder);
  std::vector<Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const std::size_t keywords_before = st.keywords.size();
  std::vector<MessageInfo> out;
  bool changed = false;
  for (Uid uid : sorted) {
    auto it = st.entries.find(uid);
    if (it == st.entries.end()) continue;
    Entry& e = it->second;
    Flags next = e.flags;
    switch (op) {
      case FlagOp::kReplace: next = flags; break;
      case FlagOp::kAdd:
        next.system |= flags.system;
        next.keywords.insert(flags.keywords.begin(), flags.keywords.end());
        break;
      case FlagOp::kRemove:
        next.system &= static_cast<std::uint8_t>(~flags.system);
        for (const auto& k : flags.keywords) next.keywords.erase(k);
        break;
    }
    if (next != e.flags) {
      // A flag change moves the file to cur/ with the new info (rename is
      // atomic: a reader sees the old name or the new one).
      const std::string file = "cur/" + e.base + ":2," + info_letters(st, next, e.other);
      if (file != e.file) {
        if (::rename((dir / e.file).c_str(), (dir / file).c_str()) != 0) io_error("cannot rename", dir / e.file);
        e.file = file;
      }
      e.flags = std::move(next);
      changed = true;
    }
    out.push_back({uid, e.flags, e.internal_date, e.size, uid >= st.first_recent});
  }
  if (changed) st.generation++;
  if (st.keywords.size() != keywords_before) save_uidlist(user, folder, st);
  return out;
}

CopyResult MaildirStore::do_copy(const std::string& user, const std::string& from, const std::vector<Uid>& uids,
                                 const std::string& to) {
  std::vector<Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  // Read everything first: copying a folder onto itself must not see its copies.
  struct Picked {
    Uid uid;
    std::string disk;
    Flags flags;
    InternalDate date;
    std::uint64_t size;
  };
  std::vector<Picked> picked;
  {
    FolderState& src = scan(user, from);
    for (Uid uid : sorted) {
      auto it = src.entries.find(uid);
      if (it == src.entries.end()) continue;
      picked.push_back({uid, read_file(folder_path(user, from) / it->second.file), it->second.flags,
                        it->second.internal_date, it->second.size});
    }
  }
  FolderState& dst = scan(user, to);
  CopyResult out;
  out.uidvalidity = dst.uidvalidity;
  const fs::path dir = folder_path(user, to);
  for (std::size_t i = 0; i < picked.size(); ++i) {
    const auto& p = picked[i];
    Entry e = write_message(dir, p.disk, p.size, p.date, "cur", info_letters(dst, p.flags, ""),
                            i + 1 == picked.size());
    e.flags = p.flags;
    const Uid uid = dst.uidnext++;
    dst.entries.emplace(uid, std::move(e));
    out.uids.emplace_back(p.uid, uid);
  }
  if (!picked.empty()) {
    dst.generation++;
    save_uidlist(user, to, dst);
  }
  return out;
}

std::vector<Uid> MaildirStore::do_remove(const std::string& user, const std::string& folder,
                                         const std::vector<Uid>& uids) {
  FolderState& st = scan(user, folder);
  const fs::path dir = folder_path(user, folder);
  std::vector<Uid> out;
  for (Uid uid : uids) {
    auto it = st.entries.find(uid);
    if (it == st.entries.end()) continue;
    if (::unlink((dir / it->second.file).c_str()) != 0 && errno != ENOENT) io_error("cannot delete", dir / it->second.file);
    st.entries.erase(it);
    out.push_back(uid);
  }
  std::sort(out.begin(), out.end());
  if (!out.empty()) {
    st.generation++;
    fsync_dir(dir / "cur");
    fsync_dir(dir / "new");
    save_uidlist(user, folder, st);
  }
  return out;
}

}  // namespace mailsim::store
