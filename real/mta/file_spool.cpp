// FileSpool: the queue as an append-only journal with group commit (see
// file_spool.h for the format and the durability promise).
#include "real/mta/file_spool.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

namespace mailsim::mta {

namespace fs = std::filesystem;

// ---- files ----------------------------------------------------------------------

struct FileSpool::Segment {
  std::uint64_t index = 0;
  fs::path path;
  int fd = -1;
  std::uint64_t size = 0;  // bytes allocated
  std::uint64_t used = 0;  // header + records (owner thread only)
  Segment() = default;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

constexpr std::string_view kOldMagic = "mailsim-spool 1\n";
constexpr std::size_t kMaxHeaderLine = 160;
constexpr std::uint64_t kMaxPayload = std::uint64_t{1} << 40;

std::string segment_name(std::uint64_t index) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "segment-%012llu.log", static_cast<unsigned long long>(index));
  return buf;
}

// "segment-000000000012.log" -> 12
std::optional<std::uint64_t> segment_index(const std::string& name) {
  if (name.size() != 24 || !name.starts_with("segment-") || !name.ends_with(".log")) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : std::string_view(name).substr(8, 12)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::string segment_header(std::uint64_t index) {
  return "mailsim-journal 1 segment " + std::to_string(index) + "\n";
}

std::string errno_text(const std::string& what, const fs::path& p, int err) {
  return what + " " + p.string() + ": " + std::strerror(err);
}

bool pwrite_all(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// "" or the error.
std::string fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open", dir, errno);
  std::string error;
  if (::fsync(fd) != 0) error = errno_text("cannot fsync", dir, errno);
  ::close(fd);
  return error;
}

// Deletes files in the given order, each made durable before the next: a
// newer segment's records (removals) must never outlive an older one's.
std::string delete_in_order(const fs::path& dir, const std::vector<fs::path>& files) {
  std::string error;
  for (const auto& p : files) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT && error.empty()) error = errno_text("cannot delete", p, errno);
    if (auto e = fsync_dir(dir); !e.empty() && error.empty()) error = e;
  }
  return error;
}

std::uint32_t record_crc(char kind, std::string_view id, std::uint64_t length, std::uint64_t segment,
                         std::string_view payload) {
  const std::string covered = std::string(1, kind) + " " + std::string(id) + " " + std::to_string(length) + " " +
                              std::to_string(segment);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(covered.data()), static_cast<uInt>(covered.size()));
  // zlib takes at most 4 GiB per call.
  while (!payload.empty()) {
    const std::size_t n = std::min<std::size_t>(payload.size(), 1u << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(n));
    payload.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

std::string make_record(char kind, const std::string& id, std::string_view payload, std::uint64_t segment) {
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", record_crc(kind, id, payload.size(), segment, payload));
  std::string r;
  r.reserve(id.size() + payload.size() + 40);
  r += kind;
  r += ' ';
  r += id;
  r += ' ';
  r += std::to_string(payload.size());
  r += ' ';
  r += crc;
  r += '\n';
  r += payload;
  r += '\n';
  return r;
}

struct Record {
  char kind = 0;
  std::string_view id;
  std::string_view payload;
  std::size_t size = 0;  // header line + payload + '\n'
};

// Parses the record at data[pos]. nullopt: no valid record there, `why` says
// what is wrong ("" when the rest is the segment's unused zero bytes).
std::optional<Record> parse_record(std::string_view data, std::size_t pos, std::uint64_t segment, std::string& why) {
  why.clear();
  const std::string_view rest = data.substr(pos);
  if (rest.empty()) return std::nullopt;
  if (rest.find_first_not_of('\0') == std::string_view::npos) return std::nullopt;  // unused space
  const auto nl = rest.substr(0, kMaxHeaderLine).find('\n');
  if (nl == std::string_view::npos) {
    why = "incomplete record header";
    return std::nullopt;
  }
  const std::string_view line = rest.substr(0, nl);
  // <kind> <id> <length> <crc>
  Record r;
  std::size_t sp1 = line.find(' '), sp2 = std::string_view::npos, sp3 = std::string_view::npos;
  if (sp1 == 1) sp2 = line.find(' ', 2);
  if (sp2 != std::string_view::npos) sp3 = line.find(' ', sp2 + 1);
  if (sp1 != 1 || sp2 == std::string_view::npos || sp3 == std::string_view::npos ||
      (line[0] != 'P' && line[0] != 'U' && line[0] != 'D')) {
    why = "not a record header";
    return std::nullopt;
  }
  r.kind = line[0];
  r.id = line.substr(2, sp2 - 2);
  const std::string_view len_text = line.substr(sp2 + 1, sp3 - sp2 - 1);
  const std::string_view crc_text = line.substr(sp3 + 1);
  if (r.id.empty() || r.id.size() > 64 ||
      !std::all_of(r.id.begin(), r.id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }) ||
      len_text.empty() || len_text.size() > 13 ||
      !std::all_of(len_text.begin(), len_text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      crc_text.size() != 8 || !std::all_of(crc_text.begin(), crc_text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    why = "not a record header";
    return std::nullopt;
  }
  const std::uint64_t length = std::stoull(std::string(len_text));
  if (length > kMaxPayload || nl + 1 + length + 1 > rest.size()) {
    why = "record runs past the end of the segment (torn write)";
    return std::nullopt;
  }
  r.payload = rest.substr(nl + 1, length);
  if (rest[nl + 1 + length] != '\n') {
    why = "record not terminated (torn write)";
    return std::nullopt;
  }
  const auto crc = static_cast<std::uint32_t>(std::stoul(std::string(crc_text), nullptr, 16));
  if (crc != record_crc(r.kind, r.id, length, segment, r.payload)) {
    why = "checksum mismatch";
    return std::nullopt;
  }
  r.size = nl + 1 + length + 1;
  return r;
}

// A P record's payload: envelope JSON \n status JSON \n message.
struct PutPayload {
  std::string_view envelope, status, message;
};
std::optional<PutPayload> split_put(std::string_view payload) {
  const auto a = payload.find('\n');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = payload.find('\n', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  return PutPayload{payload.substr(0, a), payload.substr(a + 1, b - a - 1), payload.substr(b + 1)};
}

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

// The old one-file-per-message format: false when the file is damaged.
bool parse_old_queue_file(const std::string& data, QueueEntry& e) {
  if (data.compare(0, kOldMagic.size(), kOldMagic) != 0) return false;
  std::size_t pos = kOldMagic.size();
  auto line = [&](std::string_view& out) {
    auto nl = data.find('\n', pos);
    if (nl == std::string::npos) return false;
    out = std::string_view(data).substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string_view l;
  if (!line(l) || !l.starts_with("E ") || !envelope_from_json(l.substr(2), e)) return false;
  if (!line(l) || !l.starts_with("M ")) return false;
  std::size_t len = 0;
  try {
    len = std::stoull(std::string(l.substr(2)));
  } catch (...) {
    return false;
  }
  if (pos + len + 1 > data.size() || data[pos + len] != '\n') return false;
  e.message = data.substr(pos, len);
  pos += len + 1;
  bool have_status = false;
  while (line(l)) {
    QueueEntry candidate = e;
    if (l.starts_with("S ") && status_from_json(l.substr(2), candidate)) {
      e = std::move(candidate);
      have_status = true;
    }
  }
  return have_status;
}

// What a replay of the segments found.
struct Replay {
  std::vector<std::uint64_t> segments;  // present, ascending
  std::vector<QueueEntry> entries;      // live, in the order they were first put
  std::vector<std::string> damaged;
};

Replay replay_segments(const fs::path& dir) {
  Replay out;
  for (const auto& de : fs::directory_iterator(dir)) {
    if (auto n = segment_index(de.path().filename().string()); n && de.is_regular_file()) out.segments.push_back(*n);
  }
  std::sort(out.segments.begin(), out.segments.end());
  struct Slot {
    std::uint64_t seq;
    QueueEntry entry;
  };
  std::map<std::string, Slot> live;
  std::uint64_t seq = 0;
  std::string data, why;
  for (const auto index : out.segments) {
    const std::string name = segment_name(index);
    if (!read_file(dir / name, data)) {
      out.damaged.push_back(name + ": cannot be read");
      continue;
    }
    const std::string header = segment_header(index);
    if (data.compare(0, header.size(), header) != 0) {
      // A segment whose creation never finished is all zeros: nothing in it.
      if (data.find_first_not_of('\0') != std::string::npos) out.damaged.push_back(name + ": not a journal segment");
      continue;
    }
    std::size_t pos = header.size();
    for (;;) {
      auto r = parse_record(data, pos, index, why);
      if (!r) {
        if (!why.empty())
          out.damaged.push_back(name + ": damaged record at offset " + std::to_string(pos) + " (" + why + "); " +
                                std::to_string(data.size() - pos) + " bytes after it ignored");
        break;
      }
      const std::string id(r->id);
      if (r->kind == 'P') {
        QueueEntry e;
        auto parts = split_put(r->payload);
        if (!parts || !envelope_from_json(parts->envelope, e) || !status_from_json(parts->status, e) || e.id != id) {
          out.damaged.push_back(name + ": unreadable entry " + id + " at offset " + std::to_string(pos));
        } else {
          e.message = std::string(parts->message);
          auto it = live.find(id);
          if (it != live.end()) {
            it->second.entry = std::move(e);  // a compacted copy: same place in the order
          } else {
            live.emplace(id, Slot{seq++, std::move(e)});
          }
        }
      } else if (r->kind == 'U') {
        if (auto it = live.find(id); it != live.end()) {
          QueueEntry candidate = it->second.entry;
          if (status_from_json(r->payload, candidate)) {
            it->second.entry = std::move(candidate);
          } else {
            out.damaged.push_back(name + ": unreadable status of " + id + " at offset " + std::to_string(pos));
          }
        }
      } else {
        live.erase(id);
      }
      pos += r->size;
    }
  }
  std::vector<Slot*> order;
  for (auto& [id, slot] : live) order.push_back(&slot);
  std::sort(order.begin(), order.end(), [](const Slot* a, const Slot* b) { return a->seq < b->seq; });
  for (auto* s : order) out.entries.push_back(std::move(s->entry));
  return out;
}

}  // namespace

// Creates a segment file at full size, with its header, durably (file and
// directory fsync'ed) before its first record goes in; never resized.
// zero_fill: write the zeros (later fdatasyncs then have no block allocation
// to commit); otherwise posix_fallocate (fast, for when it is needed now).
std::shared_ptr<FileSpool::Segment> FileSpool::create_segment_file(const fs::path& dir, std::uint64_t index,
                                                                   std::uint64_t size, bool zero_fill,
                                                                   std::string& error) {
  auto seg = std::make_shared<FileSpool::Segment>();
  seg->index = index;
  seg->path = dir / segment_name(index);
  seg->size = size;
  const std::string header = segment_header(index);
  seg->used = header.size();
  // O_EXCL: a leftover file of that number (a spare made before a crash) is
  // replaced, never appended to.
  ::unlink(seg->path.c_str());
  seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (seg->fd < 0) {
    error = errno_text("cannot create", seg->path, errno);
    return nullptr;
  }
  bool ok = true;
  if (zero_fill) {
    const std::string zeros(1u << 20, '\0');
    for (std::uint64_t off = 0; ok && off < size; off += zeros.size())
      ok = pwrite_all(seg->fd, std::string_view(zeros).substr(0, std::min<std::uint64_t>(zeros.size(), size - off)), off);
    if (!ok) error = errno_text("cannot fill", seg->path, errno);
  } else if (int e = ::posix_fallocate(seg->fd, 0, static_cast<off_t>(size)); e != 0) {
    ok = false;
    error = errno_text("cannot allocate", seg->path, e);
  }
  if (ok && !pwrite_all(seg->fd, header, 0)) {
    ok = false;
    error = errno_text("cannot write", seg->path, errno);
  }
  if (ok && ::fsync(seg->fd) != 0) {
    ok = false;
    error = errno_text("cannot fsync", seg->path, errno);
  }
  if (ok) error = fsync_dir(dir);
  if (!ok || !error.empty()) {
    ::unlink(seg->path.c_str());
    return nullptr;
  }
  return seg;
}

// ---- the committer thread ---------------------------------------------------------

// Syncs on one thread, creates spare segments and deletes dead ones on
// another (so a sync never waits behind 8 MB of zeros).
struct FileSpool::Committer {
  std::mutex m;
  std::condition_variable wake_sync, wake_house;
  std::condition_variable round_over;  // syncing went back to false
  // Shared with the owner, under m.
  std::vector<std::shared_ptr<Segment>> dirty;
  std::uint64_t written_lsn = 0;
  std::vector<Pending> waiters;
  bool urgent = false;
  std::optional<std::chrono::steady_clock::time_point> lazy_deadline;
  bool held = false;
  bool stopping = false;
  bool syncing = false;  // a round is running (on the sync thread or on a put_concurrent() caller)
  std::vector<fs::path> to_delete;
  std::uint64_t spare_wanted = 0, spare_size = 0;
  bool spare_busy = false;  // the house thread is making spare_wanted now
  std::shared_ptr<Segment> spare;
  std::condition_variable spare_done;

  std::thread sync_thread, house_thread;
};

// One group-commit round; `lock` holds the committer's mutex on entry and on
// return. Everything appended so far goes into it: the longer the previous
// sync took, the more puts share this one.
void FileSpool::sync_round(std::unique_lock<std::mutex>& lock, const std::weak_ptr<int>& alive) {
  Committer& c = *committer_;
  c.syncing = true;
  auto segs = std::move(c.dirty);
  c.dirty.clear();
  auto waiters = std::move(c.waiters);
  c.waiters.clear();
  const std::uint64_t lsn = c.written_lsn;
  c.urgent = false;
  c.lazy_deadline.reset();
  lock.unlock();
  bool ok = true;
  for (const auto& s : segs) ok = ::fdatasync(s->fd) == 0 && ok;
  syncs_.fetch_add(1);  // before the callbacks: a callback sees its own sync counted
  if (ok) {
    // put_concurrent()'s callers hear it here, without waiting for a turn
    // of the owner's thread (their reply is a 250 on a socket). Every
    // waiter taken in this round is covered by `lsn`.
    for (auto& w : waiters)
      if (w.any_thread && w.done) std::exchange(w.done, nullptr)(true);
  }
  options_.post([this, alive, lsn, ok, waiters = std::move(waiters)]() mutable {
    if (alive.expired()) return;
    std::lock_guard owner(owner_mutex_);
    on_synced(lsn, ok, std::move(waiters));
  });
  lock.lock();
  c.syncing = false;
  c.round_over.notify_all();
}

FileSpool::FileSpool(fs::path directory, FileSpoolOptions options)
    : dir_(std::move(directory)), options_(std::move(options)) {
  fs::create_directories(dir_);
  if (!options_.post) return;
  committer_ = std::make_unique<Committer>();
  Committer& c = *committer_;
  std::weak_ptr<int> alive = alive_;
  c.sync_thread = std::thread([this, &c, alive] {
    ::pthread_setname_np(::pthread_self(), "spool-sync");
    std::unique_lock lock(c.m);
    for (;;) {
      const auto ready = [&] {
        if (c.held || c.syncing) return false;
        if (c.urgent) return true;
        return c.lazy_deadline && std::chrono::steady_clock::now() >= *c.lazy_deadline;
      };
      if (c.stopping) return;
      if (!ready()) {
        if (c.lazy_deadline && !c.held && !c.syncing) c.wake_sync.wait_until(lock, *c.lazy_deadline);
        else c.wake_sync.wait(lock);
        continue;
      }
      sync_round(lock, alive);
    }
  });
  c.house_thread = std::thread([this, &c] {
    ::pthread_setname_np(::pthread_self(), "spool-house");
    std::unique_lock lock(c.m);
    for (;;) {
      c.wake_house.wait(lock, [&] {
        return c.stopping || !c.to_delete.empty() || (c.spare_wanted != 0 && !c.spare);
      });
      if (!c.to_delete.empty()) {
        auto files = std::move(c.to_delete);
        c.to_delete.clear();
        lock.unlock();
        if (auto e = delete_in_order(dir_, files); !e.empty()) std::fprintf(stderr, "mailsim spool: %s\n", e.c_str());
        lock.lock();
        continue;
      }
      if (c.stopping) return;
      // Only this thread makes segment spare_wanted while spare_busy; the
      // owner waits for it rather than making the same file at once.
      const std::uint64_t index = c.spare_wanted, size = c.spare_size;
      c.spare_busy = true;
      lock.unlock();
      std::string error;
      auto seg = create_segment_file(dir_, index, size, /*zero_fill=*/true, error);
      lock.lock();
      c.spare_busy = false;
      c.spare_wanted = 0;
      c.spare = std::move(seg);  // null on failure: the owner makes it itself (and reports)
      c.spare_done.notify_all();
    }
  });
}

namespace {
FileSpoolOptions clock_options(Clock* clock, Duration window) {
  FileSpoolOptions o;
  o.clock = clock;
  o.group_commit_window = window;
  return o;
}
}  // namespace

FileSpool::FileSpool(fs::path directory, Clock* clock, Duration group_commit_window)
    : FileSpool(std::move(directory), clock_options(clock, group_commit_window)) {}

FileSpool::~FileSpool() {
  alive_.reset();
  if (commit_scheduled_ && options_.clock) options_.clock->cancel(commit_timer_);
  std::vector<std::shared_ptr<Segment>> segs = std::move(dirty_);
  if (committer_) {
    auto& c = *committer_;
    {
      std::unique_lock lock(c.m);
      c.stopping = true;
      c.round_over.wait(lock, [&] { return !c.syncing; });  // a put_concurrent() caller's round
      for (auto& s : c.dirty) segs.push_back(s);
      c.dirty.clear();
    }
    c.wake_sync.notify_all();
    c.wake_house.notify_all();
    c.sync_thread.join();
    c.house_thread.join();
    // An unused spare would only be deleted at the next start.
    if (c.spare) ::unlink(c.spare->path.c_str());
  }
  // Status records still only in the page cache reach the disk now.
  for (const auto& s : segs) ::fdatasync(s->fd);
}

// ---- opening: replay, import, compaction --------------------------------------------

void FileSpool::fail(const std::string& why) {
  if (!failed_) std::fprintf(stderr, "mailsim spool: %s (the queue refuses new mail from now on)\n", why.c_str());
  failed_ = true;
  if (failure_.empty()) failure_ = why;
}

bool FileSpool::ensure_open() {
  if (!opened_ && !failed_) {
    try {
      open_journal();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }
  return opened_ && !failed_;
}

void FileSpool::open_journal() {
  damaged_.clear();
  if (!fs::is_directory(dir_)) throw std::runtime_error(dir_.string() + ": the queue directory is missing");
  Replay replay = replay_segments(dir_);
  damaged_ = replay.damaged;

  // Queue files of the old format become journal entries; temp files are
  // puts that never completed (nobody was told "queued").
  std::vector<fs::path> old_files;
  std::set<std::string> known;
  for (const auto& e : replay.entries) known.insert(e.id);
  std::vector<fs::path> q_files;
  for (const auto& de : fs::directory_iterator(dir_)) {
    const auto name = de.path().filename().string();
    if (name.starts_with(".") && name.ends_with(".tmp")) old_files.push_back(de.path());
    if (de.is_regular_file() && de.path().extension() == ".q") q_files.push_back(de.path());
  }
  std::sort(q_files.begin(), q_files.end());
  for (const auto& p : q_files) {
    std::string data;
    QueueEntry e;
    if (read_file(p, data) && parse_old_queue_file(data, e) && e.id + ".q" == p.filename().string()) {
      if (known.insert(e.id).second) replay.entries.push_back(std::move(e));
      old_files.push_back(p);
    } else {
      damaged_.push_back(p.filename().string() + ": unreadable queue file (left in place)");
    }
  }

  // A fresh segment after every existing one: never append behind a torn tail.
  const std::uint64_t first = replay.segments.empty() ? 1 : replay.segments.back() + 1;
  std::string error;
  // Zero-filled, as the spares are: in a segment made by posix_fallocate()
  // every first write into a block converts an unwritten extent, so each
  // fdatasync would also have to write the inode (about twice the time of
  // a bare data flush, and the first 8 MB are thousands of messages).
  current_ = create_segment_file(dir_, first, options_.segment_size, /*zero_fill=*/true, error);
  if (!current_) throw std::runtime_error(error);
  segments_[first] = current_;
  stats_.segments_created++;
  opened_ = true;

  // Every live entry is copied into it, synced, then the old files go.
  compacting_ = true;  // nothing to compact among segments made just now
  for (const auto& e : replay.entries) {
    std::string payload = envelope_to_json(e) + "\n" + status_to_json(e) + "\n" + e.message;
    std::uint64_t off = 0, len = 0;
    if (!append('P', e.id, payload, &off, &len)) throw std::runtime_error(failure_);
    live_[e.id] = Live{current_->index, off, len, status_to_json(e)};
    set_home(e.id, current_->index);
  }
  compacting_ = false;
  for (const auto& [index, seg] : segments_)
    if (::fdatasync(seg->fd) != 0) throw std::runtime_error(errno_text("cannot fdatasync", seg->path, errno));
  syncs_.fetch_add(1);
  dirty_.clear();
  durable_lsn_ = written_lsn_;
  std::vector<fs::path> old_segments;
  for (const auto index : replay.segments) old_segments.push_back(dir_ / segment_name(index));
  old_segments.insert(old_segments.end(), old_files.begin(), old_files.end());
  if (auto e = delete_in_order(dir_, old_segments); !e.empty()) throw std::runtime_error(e);
  stats_.segments_deleted += replay.segments.size();
  opened_entries_ = std::move(replay.entries);
  if (committer_) {
    std::lock_guard lock(committer_->m);
    committer_->written_lsn = written_lsn_;
    committer_->spare_wanted = current_->index + 1;
    committer_->spare_size = options_.segment_size;
  }
  if (committer_) committer_->wake_house.notify_all();
}

// What the first open replayed is load_all()'s answer only while nothing has
// changed since.
void FileSpool::forget_opened_entries() {
  opened_entries_taken_ = true;
  opened_entries_.clear();
}

// ---- appending ------------------------------------------------------------------------

bool FileSpool::roll_over(std::uint64_t need) {
  const std::uint64_t next = current_->index + 1;
  const std::uint64_t size = std::max<std::uint64_t>(options_.segment_size, segment_header(next).size() + need);
  std::shared_ptr<Segment> seg;
  if (committer_) {
    std::unique_lock lock(committer_->m);
    // Rare: the segments fill faster than the spare is zero-filled.
    committer_->spare_done.wait(lock, [&] { return !committer_->spare_busy; });
    if (committer_->spare && committer_->spare->index == next && committer_->spare->size >= size) {
      seg = std::move(committer_->spare);
    } else if (committer_->spare) {
      ::unlink(committer_->spare->path.c_str());
    }
    committer_->spare.reset();
    committer_->spare_wanted = 0;
  }
  if (!seg) {
    std::string error;
    seg = create_segment_file(dir_, next, size, /*zero_fill=*/false, error);
    if (!seg) {
      fail(error);
      return false;
    }
  }
  stats_.segments_created++;
  dead_at_[current_->index] = std::max(dead_at_[current_->index], written_lsn_);
  current_ = seg;
  segments_[next] = seg;
  if (committer_) {
    {
      std::lock_guard lock(committer_->m);
      committer_->spare_wanted = next + 1;
      committer_->spare_size = options_.segment_size;
    }
    committer_->wake_house.notify_all();
  }
  // The oldest segment two or more behind: whatever still lives there moves
  // forward, so it can go once that copy is on disk.
  if (!compacting_) {
    const std::uint64_t oldest = segments_.begin()->first;
    if (oldest + 2 <= next && homes_.count(oldest) != 0) compact(oldest);
  }
  return true;
}

bool FileSpool::append(char kind, const QueueId& id, const std::string& payload, std::uint64_t* offset,
                       std::uint64_t* length) {
  if (failed_) return false;
  // The record's size does not depend on the segment it lands in (the CRC is
  // fixed width), so the space check can be made before it is built.
  const std::uint64_t need = id.size() + std::to_string(payload.size()).size() + payload.size() + 14;
  while (current_->used + need > current_->size)
    if (!roll_over(need)) return false;
  const std::string record = make_record(kind, id, payload, current_->index);
  if (!pwrite_all(current_->fd, record, current_->used)) {
    fail(errno_text("cannot write", current_->path, errno));
    return false;
  }
  if (offset) *offset = current_->used;
  if (length) *length = record.size();
  current_->used += record.size();
  written_lsn_ += record.size();
  stats_.records++;
  mark_dirty();
  return true;
}

void FileSpool::compact(std::uint64_t segment) {
  compacting_ = true;
  const auto ids = homes_[segment];  // a copy: moving an entry changes the set
  const auto& seg = segments_.at(segment);
  std::string why;
  for (const auto& id : ids) {
    Live& l = live_.at(id);
    std::string bytes(l.length, '\0');
    const ssize_t n = ::pread(seg->fd, bytes.data(), bytes.size(), static_cast<off_t>(l.offset));
    std::optional<Record> r;
    if (n == static_cast<ssize_t>(bytes.size())) r = parse_record(bytes, 0, segment, why);
    std::optional<PutPayload> parts;
    if (r && r->kind == 'P' && r->id == id) parts = split_put(r->payload);
    if (!parts) {
      // It stays where it is (and keeps the segment); say so once.
      damaged_.push_back(seg->path.filename().string() + ": cannot read back entry " + id + " for compaction");
      continue;
    }
    const std::string payload =
        std::string(parts->envelope) + "\n" + l.status + "\n" + std::string(parts->message);
    std::uint64_t off = 0, len = 0;
    if (!append('P', id, payload, &off, &len)) break;
    drop_home(id);
    Live& moved = live_.at(id);
    moved.home = current_->index;
    moved.offset = off;
    moved.length = len;
    set_home(id, current_->index);
    stats_.entries_compacted++;
  }
  compacting_ = false;
  request_sync(false);
}

void FileSpool::set_home(const QueueId& id, std::uint64_t segment) { homes_[segment].insert(id); }

void FileSpool::drop_home(const QueueId& id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  const std::uint64_t seg = it->second.home;
  auto h = homes_.find(seg);
  if (h == homes_.end()) return;
  h->second.erase(id);
  if (h->second.empty()) {
    homes_.erase(h);
    dead_at_[seg] = std::max(dead_at_[seg], written_lsn_);
  }
}

// ---- the Spool interface ----------------------------------------------------------------

void FileSpool::put(const QueueEntry& entry, Done done) {
  std::lock_guard owner(owner_mutex_);
  put_locked(entry, std::move(done), false);
}

bool FileSpool::put_concurrent(const QueueEntry& entry, Done done, bool sync_here) {
  {
    std::lock_guard owner(owner_mutex_);
    if (live_.count(entry.id) != 0) return false;  // never replace a queued entry
    put_locked(entry, std::move(done), true);
  }
  if (!committer_) return true;
  // With `sync_here` and no round running, this thread syncs at once instead
  // of waking the sync thread and waiting for it to wake this one: two
  // thread hand-offs fewer before the 250 of a lone connection. Otherwise the
  // sync thread takes this record into its next round (group commit).
  Committer& c = *committer_;
  std::unique_lock lock(c.m);
  if (!c.urgent) return true;  // a round took the record already
  if (!sync_here || c.syncing || c.held || c.stopping) {
    lock.unlock();
    c.wake_sync.notify_one();
    return true;
  }
  sync_round(lock, alive_);
  const bool more = c.urgent || c.lazy_deadline.has_value();
  lock.unlock();
  if (more) c.wake_sync.notify_one();
  return true;
}

bool FileSpool::contains(const QueueId& id) const {
  std::lock_guard owner(owner_mutex_);
  return live_.count(id) != 0;
}

void FileSpool::put_locked(const QueueEntry& entry, Done done, bool any_thread) {
  forget_opened_entries();
  if (!ensure_open()) {
    if (done) done(false);
    return;
  }
  std::string status, payload;
  try {
    status = status_to_json(entry);
    payload = envelope_to_json(entry) + "\n" + status + "\n" + entry.message;
  } catch (const std::exception&) {  // e.g. bytes JSON cannot carry
    if (done) done(false);
    return;
  }
  std::uint64_t off = 0, len = 0;
  if (!append('P', entry.id, payload, &off, &len)) {
    if (done) done(false);
    return;
  }
  drop_home(entry.id);  // a put of a known id replaces it
  live_[entry.id] = Live{current_->index, off, len, std::move(status)};
  set_home(entry.id, current_->index);
  if (committer_) {
    {
      std::lock_guard lock(committer_->m);
      committer_->waiters.push_back(Pending{written_lsn_, std::move(done), any_thread});
      committer_->urgent = true;
    }
    if (!any_thread) committer_->wake_sync.notify_one();  // put_concurrent() decides who syncs
  } else {
    waiting_.push_back(Pending{written_lsn_, std::move(done), any_thread});
    request_sync(true);
  }
}

void FileSpool::update(const QueueEntry& entry, Done done) {
  std::lock_guard owner(owner_mutex_);
  forget_opened_entries();
  if (!ensure_open() || live_.count(entry.id) == 0) {
    if (done) done(false);
    return;
  }
  std::string status;
  try {
    status = status_to_json(entry);
  } catch (const std::exception&) {
    if (done) done(false);
    return;
  }
  if (!append('U', entry.id, status)) {
    if (done) done(false);
    return;
  }
  live_.at(entry.id).status = std::move(status);
  request_sync(false);
  if (done) done(true);
}

void FileSpool::remove(const QueueId& id, Done done) {
  std::lock_guard owner(owner_mutex_);
  forget_opened_entries();
  if (!ensure_open()) {
    if (done) done(false);
    return;
  }
  if (live_.count(id) == 0) {
    if (done) done(true);
    return;
  }
  if (!append('D', id, "")) {
    if (done) done(false);
    return;
  }
  drop_home(id);
  live_.erase(id);
  request_sync(false);
  if (done) done(true);
}

std::vector<QueueEntry> FileSpool::load_all() {
  std::lock_guard owner(owner_mutex_);
  if (!ensure_open()) throw std::runtime_error(failure_.empty() ? dir_.string() + ": cannot open the queue" : failure_);
  if (!opened_entries_taken_) {
    opened_entries_taken_ = true;
    return std::move(opened_entries_);
  }
  flush();
  Replay r = replay_segments(dir_);
  damaged_ = r.damaged;
  return std::move(r.entries);
}

// ---- syncing ------------------------------------------------------------------------------

void FileSpool::mark_dirty() {
  if (committer_) {
    std::lock_guard lock(committer_->m);
    if (committer_->dirty.empty() || committer_->dirty.back() != current_) committer_->dirty.push_back(current_);
    committer_->written_lsn = written_lsn_;
  } else if (dirty_.empty() || dirty_.back() != current_) {
    dirty_.push_back(current_);
  }
}

void FileSpool::request_sync(bool urgent) {
  if (committer_) {
    bool news = false;  // does the sync thread learn something from a wake?
    {
      std::lock_guard lock(committer_->m);
      if (urgent) {
        news = !committer_->urgent;
        committer_->urgent = true;
      } else if (!committer_->lazy_deadline && !committer_->urgent) {
        committer_->lazy_deadline = std::chrono::steady_clock::now() + options_.status_sync_delay;
        news = true;
      }
    }
    // A deadline it already waits for, or a round it is about to run, takes
    // this record along: waking it for every status record would only cost
    // a thread switch each (a few per delivered message).
    if (news) committer_->wake_sync.notify_one();
    return;
  }
  if (!options_.clock) return commit_inline();
  if (commit_scheduled_) return;
  commit_scheduled_ = true;
  std::weak_ptr<int> alive = alive_;
  commit_timer_ = options_.clock->schedule(options_.group_commit_window, [this, alive] {
    if (alive.expired()) return;
    std::lock_guard owner(owner_mutex_);
    commit_scheduled_ = false;
    commit_inline();
  });
}

void FileSpool::commit_inline() {
  if (commit_scheduled_ && options_.clock) {
    options_.clock->cancel(commit_timer_);
    commit_scheduled_ = false;
  }
  auto segs = std::move(dirty_);
  dirty_.clear();
  auto waiters = std::move(waiting_);
  waiting_.clear();
  if (segs.empty() && waiters.empty()) return;
  bool ok = true;
  for (const auto& s : segs) ok = ::fdatasync(s->fd) == 0 && ok;
  if (!segs.empty()) syncs_.fetch_add(1);
  on_synced(written_lsn_, ok, std::move(waiters));
}

void FileSpool::flush() {
  std::lock_guard owner(owner_mutex_);
  if (!opened_) return;
  if (!committer_) return commit_inline();
  std::vector<Pending> waiters;
  {
    std::lock_guard lock(committer_->m);
    committer_->dirty.clear();
    waiters = std::move(committer_->waiters);
    committer_->waiters.clear();
    committer_->urgent = false;
  }
  // Every segment, not just the dirty ones: a round of the committer may be
  // syncing some of them right now, and it is not done yet.
  bool ok = true;
  for (const auto& [index, s] : segments_) ok = ::fdatasync(s->fd) == 0 && ok;
  syncs_.fetch_add(1);
  on_synced(written_lsn_, ok, std::move(waiters));
}

void FileSpool::on_synced(std::uint64_t lsn, bool ok, std::vector<Pending> waiters) {
  if (!ok) {
    // After a failed fsync the page cache may say anything (the data may be
    // dropped): nothing written since the last good sync is trusted, and the
    // spool refuses new work. Entries acknowledged before stay on disk.
    fail("an fdatasync of the journal in " + dir_.string() + " failed");
  } else {
    durable_lsn_ = std::max(durable_lsn_, lsn);
  }
  // Rounds may complete out of order with flush(): run only what is covered.
  std::vector<Pending> later;
  for (auto& w : waiters) {
    if (ok && w.lsn > durable_lsn_) {
      later.push_back(std::move(w));
      continue;
    }
    if (w.done) w.done(ok);
  }
  if (!later.empty()) {
    if (committer_) {
      {
        std::lock_guard lock(committer_->m);
        for (auto& w : later) committer_->waiters.push_back(std::move(w));
        committer_->urgent = true;
      }
      committer_->wake_sync.notify_one();
    } else {
      for (auto& w : later) waiting_.push_back(std::move(w));
    }
  }
  if (ok) collect_garbage();
}

void FileSpool::collect_garbage() {
  std::vector<fs::path> doomed;
  while (!segments_.empty()) {
    auto it = segments_.begin();
    const auto& seg = it->second;
    if (seg == current_) break;
    if (!homes_.empty() && homes_.begin()->first <= seg->index) break;
    if (dead_at_[seg->index] > durable_lsn_) break;
    doomed.push_back(seg->path);
    dead_at_.erase(seg->index);
    segments_.erase(it);
    stats_.segments_deleted++;
  }
  if (doomed.empty()) return;
  if (committer_) {
    {
      std::lock_guard lock(committer_->m);
      committer_->to_delete.insert(committer_->to_delete.end(), doomed.begin(), doomed.end());
    }
    committer_->wake_house.notify_all();
  } else if (auto e = delete_in_order(dir_, doomed); !e.empty()) {
    std::fprintf(stderr, "mailsim spool: %s\n", e.c_str());
  }
}

// ---- inspection -------------------------------------------------------------------------

FileSpoolStats FileSpool::stats() const {
  std::lock_guard owner(owner_mutex_);
  FileSpoolStats s = stats_;
  s.syncs = syncs_.load();
  return s;
}

std::vector<std::string> FileSpool::segment_files() const {
  std::vector<std::string> out;
  for (const auto& de : fs::directory_iterator(dir_)) {
    const auto name = de.path().filename().string();
    if (segment_index(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FileSpool::hold_commits(bool held) {
  if (!committer_) return;
  {
    std::lock_guard lock(committer_->m);
    committer_->held = held;
  }
  committer_->wake_sync.notify_one();
}

}  // namespace mailsim::mta
