// FileSpool: crash-safe queue files (write temp, fsync, rename, fsync dir).
#include "real/mta/file_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace mailsim::mta {

namespace {

constexpr std::string_view kMagic = "mailsim-spool 1\n";

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_path(const std::filesystem::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string status_record(const QueueEntry& e) { return "S " + status_to_json(e) + "\n"; }

// Parses a whole spool file; false when the envelope or message is damaged.
bool parse_file(const std::string& data, QueueEntry& e) {
  if (data.compare(0, kMagic.size(), kMagic) != 0) return false;
  std::size_t pos = kMagic.size();
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
  // Status records: the last one that is complete (newline-terminated) and
  // parses wins. A crash in the middle of an append leaves a torn last line.
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

}  // namespace

FileSpool::FileSpool(std::filesystem::path directory, Clock* clock, Duration group_commit_window)
    : dir_(std::move(directory)), clock_(clock), window_(group_commit_window) {
  std::filesystem::create_directories(dir_);
}

FileSpool::~FileSpool() {
  if (flush_scheduled_ && clock_) clock_->cancel(flush_timer_);
  // Callbacks still pending would refer to an MTA that is going away too; the
  // files are renamed already, so only the directory sync is left to do.
  if (!pending_.empty()) fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

std::filesystem::path FileSpool::file_for(const QueueId& id) const { return dir_ / (id + ".q"); }

void FileSpool::put(const QueueEntry& entry, Done done) {
  auto tmp = dir_ / ("." + entry.id + ".tmp");
  std::string data(kMagic);
  data += "E " + envelope_to_json(entry) + "\n";
  data += "M " + std::to_string(entry.message.size()) + "\n";
  data += entry.message;
  data += "\n";
  data += status_record(entry);

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) ok = write_all(fd, data) && ::fsync(fd) == 0;
  if (fd >= 0) ok = (::close(fd) == 0) && ok;
  if (ok) ok = ::rename(tmp.c_str(), file_for(entry.id).c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    if (done) done(false);
    return;
  }
  pending_.push_back(std::move(done));
  if (!clock_) {
    flush();
  } else if (!flush_scheduled_) {
    flush_scheduled_ = true;
    flush_timer_ = clock_->schedule(window_, [this] {
      flush_scheduled_ = false;
      flush();
    });
  }
}

void FileSpool::flush() {
  if (flush_scheduled_ && clock_) {
    clock_->cancel(flush_timer_);
    flush_scheduled_ = false;
  }
  if (pending_.empty()) return;
  bool ok = fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  ++directory_syncs_;
  auto callbacks = std::move(pending_);
  pending_.clear();
  for (auto& cb : callbacks)
    if (cb) cb(ok);
}

void FileSpool::update(const QueueEntry& entry, Done done) {
  int fd = ::open(file_for(entry.id).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  bool ok = fd >= 0;
  if (ok) ok = write_all(fd, status_record(entry)) && ::fdatasync(fd) == 0;
  if (fd >= 0) ok = (::close(fd) == 0) && ok;
  if (done) done(ok);
}

void FileSpool::remove(const QueueId& id, Done done) {
  bool ok = ::unlink(file_for(id).c_str()) == 0 || errno == ENOENT;
  if (done) done(ok);
}

std::vector<QueueEntry> FileSpool::load_all() {
  std::vector<QueueEntry> out;
  damaged_.clear();
  std::vector<std::filesystem::path> files;
  for (const auto& de : std::filesystem::directory_iterator(dir_)) {
    const auto name = de.path().filename().string();
    // A temp file is a put() that never completed: nobody was told "queued".
    if (name.starts_with(".") && name.ends_with(".tmp")) {
      std::filesystem::remove(de.path());
      continue;
    }
    if (de.is_regular_file() && de.path().extension() == ".q") files.push_back(de.path());
  }
  std::sort(files.begin(), files.end());  // deterministic order
  for (const auto& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    QueueEntry e;
    if (parse_file(ss.str(), e) && e.id + ".q" == p.filename().string()) {
      out.push_back(std::move(e));
    } else {
      damaged_.push_back(p.filename().string());
    }
  }
  return out;
}

}  // namespace mailsim::mta
