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
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
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
  drop_cached(user + '/' + folder);
}

void MaildirStore::do_delete_folder(const std::string& user, const std::string& folder) {
  std::error_code ec;
  fs::remove_all(folder_path(user, folder), ec);
  if (ec) throw StoreError(StoreErrc::kIo, "cannot delete folder " + folder + ": " + ec.message());
  drop_cached(user + '/' + folder);
}

void MaildirStore::do_rename_folder(const std::string& user, const std::string& from, const std::string& to) {
  const fs::path a = folder_path(user, from), b = folder_path(user, to);
  if (::rename(a.c_str(), b.c_str()) != 0) io_error("cannot rename folder to", b);
  fsync_dir(b.parent_path());
  auto node = cache_.extract(user + '/' + from);
  drop_cached(user + '/' + to);
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

namespace {

constexpr const char* kUidlistName = "mailsim-uidlist";

std::int64_t wall_clock_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Appends `text` to `out` with every LF not preceded by CR made CRLF (as
// codec::to_crlf does), a run of bytes at a time.
void append_crlf(std::string& out, std::string_view text) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) {
      out.append(p, end);
      break;
    }
    out.append(p, nl);
    if (nl == begin || nl[-1] != '\r') out += '\r';
    out += '\n';
    p = nl + 1;
  }
}

}  // namespace

void MaildirStore::save_uidlist(const std::string& user, const std::string& folder, FolderState& st) const {
  std::string text = "mailsim-uidlist 1\nV " + std::to_string(st.uidvalidity) + " N " + std::to_string(st.uidnext) +
                     " R " + std::to_string(st.first_recent) + "\n";
  for (std::size_t i = 0; i < st.keywords.size(); ++i) text += "K " + std::to_string(i) + " " + st.keywords[i] + "\n";
  for (const auto& [uid, e] : st.entries) {
    text += std::to_string(uid);
    text += ' ';
    text += e.base;
    text += '\n';
  }
  const fs::path path = folder_path(user, folder) / kUidlistName;
  write_file_atomic(path, text);
  // Our own write is no news; another program's later write will be.
  struct stat sb {};
  st.uidlist = ::stat(path.c_str(), &sb) == 0
                   ? Stamp{static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec,
                           static_cast<std::uint64_t>(sb.st_ino), static_cast<std::int64_t>(sb.st_size)}
                   : Stamp{};
}

void MaildirStore::drop_cached(const std::string& key) const {
  auto it = cache_.find(key);
  if (it == cache_.end()) return;
  header_cache_used_ -= it->second.header_bytes;
  cache_.erase(it);
}

std::map<Uid, MaildirStore::Entry>::iterator MaildirStore::erase_entry(FolderState& st,
                                                                       std::map<Uid, Entry>::iterator it) const {
  st.header_bytes -= it->second.header.size();
  header_cache_used_ -= it->second.header.size();
  st.by_base.erase(it->second.base);
  return st.entries.erase(it);
}

MaildirStore::FolderState& MaildirStore::cached(const std::string& user, const std::string& folder) const {
  auto it = cache_.find(user + '/' + folder);
  return it != cache_.end() ? it->second : scan(user, folder);
}

MaildirStore::FolderState& MaildirStore::scan(const std::string& user, const std::string& folder, bool force) const {
  const fs::path dir = folder_path(user, folder);
  auto stamp = [](const fs::path& p) {
    struct stat sb {};
    if (::stat(p.c_str(), &sb) != 0) return Stamp{};
    return Stamp{static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec,
                 static_cast<std::uint64_t>(sb.st_ino), static_cast<std::int64_t>(sb.st_size)};
  };

  auto [it, fresh] = cache_.try_emplace(user + '/' + folder);
  FolderState& st = it->second;
  if (!fresh) {
    if (stamp(dir / kUidlistName) != st.uidlist) {
      // Another program rewrote the list: start from it again. The generation
      // only moves forward, so sessions notice.
      const std::uint64_t generation = st.generation + 1;
      header_cache_used_ -= st.header_bytes;
      st = FolderState{};
      st.generation = generation;
      fresh = true;
    } else {
      // Unchanged directories, last changed well before the scan that read
      // them: the cache is what is on disk (see maildir_store.h).
      const Stamp n = stamp(dir / "new"), c = stamp(dir / "cur");
      auto settled = [&](const Stamp& s) { return s.mtime_ns + kSettleNs <= st.scanned_at_ns; };
      if (!force && n == st.new_dir && c == st.cur_dir && settled(n) && settled(c)) return st;
    }
  }

  // Stamps before reading: a change made while we read shows at the next call.
  const std::int64_t started = wall_clock_ns();
  const Stamp new_stamp = stamp(dir / "new"), cur_stamp = stamp(dir / "cur");
  bool dirty = false;  // the uidlist on disk must be rewritten
  std::unordered_map<std::string, Uid> known;  // base → uid, from the list (fresh only)
  if (fresh) {
    st.uidlist = stamp(dir / kUidlistName);
    std::ifstream in(dir / kUidlistName);
    std::string line;
    if (in && std::getline(in, line) && line == "mailsim-uidlist 1" && std::getline(in, line)) {
      std::istringstream hdr(line);
      std::string v, n, r;
      hdr >> v >> st.uidvalidity >> n >> st.uidnext >> r >> st.first_recent;
      while (std::getline(in, line)) {
        if (line.rfind("K ", 0) == 0) {
          std::istringstream ls(line);
          std::string k;
          std::size_t idx = 0;
          ls >> k >> idx >> k;
          if (idx < 26) {
            if (st.keywords.size() <= idx) st.keywords.resize(idx + 1);
            st.keywords[idx] = k;
          }
          continue;
        }
        // "<uid> <base>"
        const auto sp = line.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size()) continue;
        Uid uid = 0;
        auto [p, ec] = std::from_chars(line.data(), line.data() + sp, uid);
        if (ec != std::errc() || p != line.data() + sp || uid == 0) continue;
        known.emplace(line.substr(sp + 1), uid);
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
  }

  // Flags from the info after ":2,".
  auto fill = [&](Entry& e, std::string file) {
    e.flags = Flags{};
    e.other.clear();
    const auto colon = file.find(":2,");
    if (colon != std::string::npos) {
      for (char c : std::string_view(file).substr(colon + 3)) {
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
    }
    e.file = std::move(file);
  };

  bool changed = false;
  const std::uint64_t pass = ++st.scans;
  std::vector<std::pair<std::string, std::string>> unknown;  // (base, file) of files without a UID
  for (const char* sub : {"new", "cur"}) {
    for (auto& name : list_dir(dir / sub, false)) {
      if (name.empty() || name[0] == '.') continue;
      std::string base = name.substr(0, name.find(":2,"));
      std::string file = std::string(sub) + "/" + name;
      if (auto b = st.by_base.find(base); b != st.by_base.end()) {
        Entry& e = st.entries.at(b->second);
        e.seen = pass;
        if (e.file != file) {  // renamed: flags changed, or moved from new/ to cur/
          const Flags before = e.flags;
          fill(e, std::move(file));
          if (e.flags != before) changed = true;
        }
        continue;
      }
      if (auto k = known.find(base); k != known.end() && st.entries.count(k->second) == 0) {
        Entry e;
        e.base = base;
        e.seen = pass;
        fill(e, std::move(file));
        st.entries.emplace(k->second, std::move(e));
        st.by_base.emplace(std::move(base), k->second);
        changed = true;
        continue;
      }
      unknown.emplace_back(std::move(base), std::move(file));
    }
  }
  if (fresh && known.size() != st.entries.size()) dirty = true;  // the list named files that are gone

  // Vanished files.
  for (auto e = st.entries.begin(); e != st.entries.end();) {
    if (e->second.seen == pass) {
      ++e;
      continue;
    }
    e = erase_entry(st, e);
    changed = dirty = true;
  }

  // New files get the next UIDs in file-name order (names start with the
  // time). The same name in new/ and cur/ (a crash mid-move) is one message:
  // the cur/ one, listed later, wins.
  std::stable_sort(unknown.begin(), unknown.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    if (i + 1 < unknown.size() && unknown[i + 1].first == unknown[i].first) continue;
    Entry e;
    e.base = unknown[i].first;
    e.seen = pass;
    fill(e, std::move(unknown[i].second));
    const Uid uid = st.uidnext++;
    st.by_base.emplace(e.base, uid);
    st.entries.emplace(uid, std::move(e));
    changed = dirty = true;
  }

  // Sizes and dates of entries not yet measured.
  for (auto& [uid, e] : st.entries) {
    if (e.measured) continue;
    struct stat sb {};
    if (::stat((dir / e.file).c_str(), &sb) == 0) e.internal_date = sb.st_mtim.tv_sec;
    if (auto w = size_field(e.base, ",W=")) e.size = *w;
    else e.size = crlf_size(read_file(dir / e.file));
    e.measured = true;
  }

  st.new_dir = new_stamp;
  st.cur_dir = cur_stamp;
  st.scanned_at_ns = started;
  if (changed && !fresh) st.generation++;
  if (dirty) save_uidlist(user, folder, st);
  return st;
}

bool MaildirStore::do_folder_exists(const std::string& user, const std::string& folder) const {
  if (folder == kInbox) return true;  // the caller checked that the user (so INBOX) exists
  struct stat sb {};
  return ::stat(folder_path(user, folder).c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

bool MaildirStore::read_message(const std::string& file, const Entry& entry, std::string& out) const {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    io_error("cannot read", file);
  }
  // The size on disk: ",S=" in the name says it (mailsim, Dovecot and most
  // delivery agents write it), else fstat. read() is asked for one octet
  // more, so a file of exactly that size comes back in one short read and
  // needs no second read() to meet the end (message files never change).
  std::size_t expect = 0;
  if (auto s = size_field(entry.base, ",S=")) {
    expect = static_cast<std::size_t>(*s);
  } else {
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) {
      int err = errno;
      ::close(fd);
      io_error("cannot read", file, err);
    }
    expect = static_cast<std::size_t>(sb.st_size);
  }
  std::string& buf = read_buffer_;
  buf.resize(expect + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == buf.size()) buf.resize(buf.size() * 2);  // larger than the name said
    ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      io_error("cannot read", file, err);
    }
    got += static_cast<std::size_t>(n);
    if (n == 0 || got == expect) break;  // the end, or exactly what was expected in a short read
  }
  ::close(fd);
  out.clear();
  out.reserve(std::max<std::size_t>(static_cast<std::size_t>(entry.size), got));
  append_crlf(out, std::string_view(buf.data(), got));
  return true;
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
  s.messages.reserve(st.entries.size());
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
  // Message files never change content, only name; the cached name is tried
  // first. A reader such as mutt may have renamed (or deleted) the file since
  // our last scan: one rescan finds its new name.
  std::string dir = folder_path(user, folder).native();
  dir += '/';
  std::string out, path;
  for (int attempt = 0; attempt < 2; ++attempt) {
    FolderState& st = attempt == 0 ? cached(user, folder) : scan(user, folder, true);
    auto it = st.entries.find(uid);
    if (it == st.entries.end()) {
      if (attempt == 0) continue;  // perhaps a file dropped in since the last scan
      break;
    }
    path.assign(dir).append(it->second.file);
    if (read_message(path, it->second, out)) return out;
  }
  throw StoreError(StoreErrc::kNoSuchMessage, "no message with UID " + std::to_string(uid) + " in " + folder);
}

std::string MaildirStore::do_fetch_header(const std::string& user, const std::string& folder, Uid uid) const {
  {
    FolderState& st = cached(user, folder);
    auto it = st.entries.find(uid);
    if (it != st.entries.end() && !it->second.header.empty()) return it->second.header;
  }
  std::string header = do_fetch(user, folder, uid);
  header.resize(header_section_size(header));
  // do_fetch may have rescanned: look the entry up again.
  FolderState& st = cached(user, folder);
  auto it = st.entries.find(uid);
  if (it != st.entries.end() && header_cache_used_ + header.size() <= options_.header_cache_bytes) {
    it->second.header = header;
    st.header_bytes += header.size();
    header_cache_used_ += header.size();
  }
  return header;
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
  e.measured = true;
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
  st.by_base.emplace(e.base, uid);
  st.entries.emplace(uid, std::move(e));
  st.generation++;
  save_uidlist(user, folder, st);
  return {st.uidvalidity, uid};
}

std::vector<MessageInfo> MaildirStore::do_store_flags(const std::string& user, const std::string& folder,
                                                      const std::vector<Uid>& uids, FlagOp op, const Flags& flags) {
  // The cached names and flags are used as they are (IMAP FETCH sets \Seen
  // one message at a time: no directory read per message). A file another
  // program renamed since our last scan fails with ENOENT: rescan, once.
  FolderState* st = &cached(user, folder);
  bool rescanned = false;
  const fs::path dir = folder_path(user, folder);
  std::vector<Uid> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const std::size_t keywords_before = st->keywords.size();
  std::vector<MessageInfo> out;
  bool changed = false;
  for (Uid uid : sorted) {
    for (;;) {
      auto it = st->entries.find(uid);
      if (it == st->entries.end()) break;
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
        std::string file = "cur/" + e.base + ":2," + info_letters(*st, next, e.other);
        if (file != e.file) {
          if (::rename((dir / e.file).c_str(), (dir / file).c_str()) != 0) {
            if (errno != ENOENT || rescanned) io_error("cannot rename", dir / e.file);
            st = &scan(user, folder, true);
            rescanned = true;
            continue;  // this message again, with what is on disk now
          }
          e.file = std::move(file);
        }
        e.flags = std::move(next);
        changed = true;
      }
      out.push_back({uid, e.flags, e.internal_date, e.size, uid >= st->first_recent});
      break;
    }
  }
  if (changed) st->generation++;
  if (st->keywords.size() != keywords_before) save_uidlist(user, folder, *st);
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
    dst.by_base.emplace(e.base, uid);
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
    erase_entry(st, it);
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
