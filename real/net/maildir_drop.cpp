// Group-committed Maildir delivery: tmp/ → fsync (in parallel, per batch) →
// link into new/ → one fsync per new/ directory → callbacks. A big batch
// replaces the per-file and per-directory fsyncs with one syncfs() per
// filesystem before the links and one after.
#include "real/net/maildir_drop.h"

#include "real/store/mailbox_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

namespace mailsim::net {

namespace fs = std::filesystem;

struct MaildirDrop::File {
  std::size_t job = 0;
  fs::path tmp;
  fs::path final_path;
  fs::path new_dir;
  std::string disk;  // LF form
  std::string error;
  bool linked = false;
};

namespace {

std::string errno_text(const char* what, const fs::path& p, int err) {
  return std::string(what) + " " + p.string() + ": " + std::strerror(err);
}

// Creates, writes and stamps one tmp/ file; returns its open descriptor, or
// -1 with `error` set (and no file left behind).
int write_file(const fs::path& path, std::string_view bytes, std::int64_t t, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno_text("cannot create", path, errno);
    return -1;
  }
  std::size_t off = 0;
  while (off < bytes.size() && error.empty()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) error = errno_text("cannot write", path, errno);
    else off += static_cast<std::size_t>(n);
  }
  // The mtime is the internal date (what MaildirStore reads back).
  const struct timespec times[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
  if (error.empty() && ::futimens(fd, times) != 0) error = errno_text("cannot set the time of", path, errno);
  if (error.empty()) return fd;
  ::close(fd);
  ::unlink(path.c_str());
  return -1;
}

// The filesystem (device) a directory is on, or 0 if it cannot be read.
dev_t device_of(const fs::path& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? st.st_dev : 0;
}

// fsync() of a directory, or with `whole_filesystem` a syncfs() of the
// filesystem it is on: every write and directory change made there so far
// is on the disk when it returns "" (since Linux 5.8 syncfs also reports a
// write-back error of any file there). Returns "" or the error.
std::string sync_dir(const fs::path& dir, bool whole_filesystem = false) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("cannot open", dir, errno);
  std::string error;
  if (whole_filesystem ? ::syncfs(fd) != 0 : ::fsync(fd) != 0)
    error = errno_text(whole_filesystem ? "cannot sync the filesystem of" : "cannot fsync", dir, errno);
  ::close(fd);
  return error;
}

}  // namespace

MaildirDrop::MaildirDrop(std::string hostname, unsigned fsync_threads, std::size_t max_batch,
                         std::chrono::microseconds linger)
    : hostname_(std::move(hostname)),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      linger_(linger),
      pid_(static_cast<int>(::getpid())) {
  // The committer itself takes part in every fan-out, so n helpers give n+1.
  const unsigned helpers = fsync_threads > 1 ? fsync_threads - 1 : 0;
  for (unsigned i = 0; i < helpers; ++i)
    fsync_threads_.emplace_back([this] {
      ::pthread_setname_np(::pthread_self(), "maildir-fsync");
      fsync_worker();
    });
  committer_thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "maildir-commit");
    committer();
  });
}

MaildirDrop::~MaildirDrop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_thread_.join();
  {
    std::lock_guard lock(pool_mutex_);
    pool_stopping_ = true;
  }
  pool_wake_.notify_all();
  for (auto& t : fsync_threads_) t.join();
}

void MaildirDrop::deliver(std::vector<MaildirCopy> copies, std::int64_t internal_date, Done done) {
  bool wake;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{std::move(copies), internal_date, std::move(done)});
    // The first job wakes the committer, and so does the one that makes a
    // full batch (a lingering committer then goes at once). Otherwise it is
    // committing or lingering, and takes this one along either way.
    wake = queue_.size() == 1 || queue_.size() == max_batch_;
  }
  if (wake) wake_.notify_one();
}

void MaildirDrop::drain() {
  std::unique_lock lock(mutex_);
  draining_ = true;
  wake_.notify_all();  // a lingering committer goes at once
  idle_.wait(lock, [&] { return queue_.empty() && !committing_; });
  draining_ = false;
}

MaildirDropStats MaildirDrop::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void MaildirDrop::committer() {
  std::vector<Job> batch;
  auto last_start = std::chrono::steady_clock::now() - linger_;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      // Let more jobs gather (a stop or a drain does not wait, and neither
      // does a full batch: under a load the linger would cap deliveries at
      // max_batch per linger, and the queue would grow without end).
      if (linger_.count() > 0)
        wake_.wait_until(lock, last_start + linger_,
                         [&] { return stopping_ || draining_ || queue_.size() >= max_batch_; });
      last_start = std::chrono::steady_clock::now();
      if (queue_.empty()) return;  // stopping, and everything was committed
      // Everything that queued up during the previous commit goes into this
      // one: the busier the server, the bigger the batch.
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      committing_ = true;
    }
    commit(batch);
    batch.clear();
    {
      std::lock_guard lock(mutex_);
      committing_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
  }
}

std::string MaildirDrop::unique_name(std::size_t size, std::uint64_t vsize, const std::string& tag) {
  using namespace std::chrono;
  // Seconds and microseconds from one clock reading, taken on the committer
  // thread only: names sort in delivery order, which is the order
  // MaildirStore gives new files their UIDs in. (The internal date, which
  // may be a second older, goes into the mtime, not the name.)
  const auto now = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld.M%06lldP%dQ%08llu", static_cast<long long>(now / 1'000'000),
                static_cast<long long>(now % 1'000'000), pid_,
                static_cast<unsigned long long>(++counter_));
  return std::string(buf) + (tag.empty() ? "" : "K" + tag) + "." + hostname_ + ",S=" + std::to_string(size) + ",W=" + std::to_string(vsize);
}

void MaildirDrop::commit(std::vector<Job>& batch) {
  std::vector<File> files;
  for (std::size_t j = 0; j < batch.size(); ++j) {
    for (auto& copy : batch[j].copies) {
      File f;
      f.job = j;
      f.disk = store::to_lf(copy.crlf_bytes);
      copy.crlf_bytes.clear();
      copy.crlf_bytes.shrink_to_fit();
      const std::string name = unique_name(f.disk.size(), store::crlf_size(f.disk), copy.name_tag);
      f.tmp = copy.maildir / "tmp" / name;
      f.new_dir = copy.maildir / "new";
      f.final_path = f.new_dir / name;
      files.push_back(std::move(f));
    }
  }

  // A batch this big pays for two syncfs() per filesystem (each one journal
  // commit and one disk flush) instead of a flush per file and per new/:
  // with one connection the queue journal's flush per message is what the
  // client waits for, and a flush per delivered file would queue in front
  // of it. (syncfs also writes whatever else is dirty on the filesystem,
  // so small batches, which are what a quiet server makes, keep fsync.)
  const bool whole_fs = files.size() >= kSyncfsBatch;
  std::vector<std::string> job_error(batch.size());
  std::uint64_t syncs = 0;
  std::map<dev_t, std::vector<std::size_t>> on_filesystem;  // device -> its files (a syncfs batch)
  if (whole_fs) {
    std::map<fs::path, dev_t> device;  // one stat per tmp/ folder
    for (std::size_t i = 0; i < files.size(); ++i) {
      auto [it, fresh] = device.try_emplace(files[i].tmp.parent_path(), 0);
      if (fresh) it->second = device_of(it->first);
      on_filesystem[it->second].push_back(i);
    }
  }
  // One syncfs per filesystem; a failure fails every job with a file there.
  auto sync_filesystems = [&] {
    for (const auto& [device, on_it] : on_filesystem) {
      ++syncs;
      const std::string error = sync_dir(files[on_it.front()].tmp.parent_path(), /*whole_filesystem=*/true);
      if (error.empty()) continue;
      for (std::size_t i : on_it)
        if (job_error[files[i].job].empty()) job_error[files[i].job] = error;
    }
  };

  // 1. Every file into tmp/, written here one after the other (creating
  // files in one directory from many threads only makes them queue for its
  // lock), then fsync'ed in parallel, or all of them at once by syncfs.
  std::vector<int> fds(files.size(), -1);
  for (std::size_t i = 0; i < files.size(); ++i)
    fds[i] = write_file(files[i].tmp, files[i].disk, batch[files[i].job].internal_date, files[i].error);
  if (whole_fs) {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  } else {
    syncs += files.size();
    parallel(files.size(), [&](std::size_t i) {
      if (fds[i] < 0) return;
      if (::fsync(fds[i]) != 0) files[i].error = errno_text("cannot fsync", files[i].tmp, errno);
      ::close(fds[i]);
      if (!files[i].error.empty()) ::unlink(files[i].tmp.c_str());
    });
  }
  for (const auto& f : files)
    if (!f.error.empty() && job_error[f.job].empty()) job_error[f.job] = f.error;
  if (whole_fs) sync_filesystems();

  // 2. Into new/ (link refuses to replace an existing name), tmp/ name gone.
  for (auto& f : files) {
    if (!job_error[f.job].empty()) continue;
    if (::link(f.tmp.c_str(), f.final_path.c_str()) != 0) {
      job_error[f.job] = errno_text("cannot move the message into", f.final_path, errno);
    } else {
      f.linked = true;
    }
    ::unlink(f.tmp.c_str());
  }

  // 3. One fsync per new/ directory (or the second syncfs) makes all the
  // links durable.
  if (whole_fs) {
    sync_filesystems();
  } else {
    std::map<fs::path, std::vector<std::size_t>> dirs;  // dir -> jobs with a file there
    for (const auto& f : files)
      if (f.linked) dirs[f.new_dir].push_back(f.job);
    std::vector<std::pair<fs::path, std::string>> dir_results;
    for (auto& [dir, jobs] : dirs) dir_results.emplace_back(dir, "");
    syncs += dir_results.size();
    parallel(dir_results.size(), [&](std::size_t i) { dir_results[i].second = sync_dir(dir_results[i].first); });
    for (const auto& [dir, error] : dir_results) {
      if (error.empty()) continue;
      for (std::size_t j : dirs[dir])
        if (job_error[j].empty()) job_error[j] = error;
    }
  }

  // A failed job leaves no copy behind: the client gets 451 and will send
  // again, so a half-delivered message would be delivered twice.
  for (auto& f : files)
    if (!job_error[f.job].empty()) {
      if (f.linked) ::unlink(f.final_path.c_str());
      ::unlink(f.tmp.c_str());
    }

  {
    std::lock_guard lock(mutex_);
    stats_.batches += 1;
    stats_.jobs += batch.size();
    stats_.files += files.size();
    stats_.syncs += syncs;
  }
  for (std::size_t j = 0; j < batch.size(); ++j) {
    if (!batch[j].done) continue;
    if (job_error[j].empty()) batch[j].done(std::nullopt);
    else batch[j].done(job_error[j]);
  }
}

void MaildirDrop::parallel(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  if (fsync_threads_.empty() || n == 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::unique_lock lock(pool_mutex_);
  task_ = &fn;
  task_size_ = n;
  task_next_ = 0;
  task_finished_ = 0;
  pool_wake_.notify_all();
  while (task_next_ < task_size_) {  // the committer works too
    const std::size_t i = task_next_++;
    lock.unlock();
    fn(i);
    lock.lock();
    ++task_finished_;
  }
  pool_done_.wait(lock, [&] { return task_finished_ == task_size_; });
  task_ = nullptr;
}

void MaildirDrop::fsync_worker() {
  std::unique_lock lock(pool_mutex_);
  for (;;) {
    pool_wake_.wait(lock, [&] { return pool_stopping_ || (task_ != nullptr && task_next_ < task_size_); });
    if (pool_stopping_) return;
    const std::size_t i = task_next_++;
    const auto* fn = task_;
    lock.unlock();
    (*fn)(i);
    lock.lock();
    if (++task_finished_ == task_size_) pool_done_.notify_all();
  }
}

}  // namespace mailsim::net
