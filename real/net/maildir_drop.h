// Durable delivery into Maildir new/ folders with group commit: the Maildir
// delivery protocol (https://cr.yp.to/proto/maildir.html: write into tmp/,
// fsync, link into new/, fsync new/) done for a whole batch of messages at a
// time, so the disk's fsync rate stops being the server's message rate.
//
// One committer thread takes every job queued so far, writes all their files
// into tmp/, fsyncs them in parallel (the kernel's journal folds concurrent
// fsyncs into one commit), links them into new/, fsyncs each new/ directory
// once, and only then reports every job of the batch done. A batch of
// kSyncfsBatch files or more is made durable by one syncfs() of each
// filesystem before the links and one after, which costs the disk two
// flushes instead of one per file. A job is all the
// copies of one message (one per recipient), so a message is either durable
// for all its recipients or reported failed.
//
// Files are written in the form MaildirStore reads (LF line ends, mtime =
// internal date, names "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<crlf size>"
// taken from one clock reading on the committer thread, so they sort in
// delivery order),
// so the store picks them up on its next scan (new files get the next UIDs),
// as it does for files mutt or procmail drop there.
//
// Thread-safe; Boost-free.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mailsim::net {

struct MaildirCopy {
  std::filesystem::path maildir;  // the folder holding tmp/ new/ cur/ (must exist)
  std::string crlf_bytes;         // the message in network form (CRLF)
  // Letters and digits put into the file name as "...Q<n>K<tag>.<host>"
  // so the copy can be recognised later (a repeated delivery); may be empty.
  std::string name_tag;
};

struct MaildirDropStats {
  std::uint64_t batches = 0;
  std::uint64_t jobs = 0;
  std::uint64_t files = 0;
  std::uint64_t syncs = 0;  // fsync() and syncfs() calls made for them
};

class MaildirDrop {
 public:
  // `done` gets nullopt when every copy is durable in new/, or the error.
  using Done = std::function<void(std::optional<std::string> error)>;

  // `hostname` goes into file names; `fsync_threads` (>= 1) run fsyncs of a
  // batch in parallel; `max_batch` bounds how many jobs one commit takes.
  // `linger`: at least this long between the starts of two commits, so that
  // deliveries nobody waits for (the MTA's, after 250) make few, big batches
  // and leave the disk's flushes to the queue's journal; 0 for deliveries a
  // client waits for. A full batch (`max_batch` jobs waiting) goes at once.
  MaildirDrop(std::string hostname, unsigned fsync_threads = 8, std::size_t max_batch = 256,
              std::chrono::microseconds linger = std::chrono::microseconds(0));
  // Finishes every queued job (their callbacks run), then stops the threads.
  ~MaildirDrop();
  MaildirDrop(const MaildirDrop&) = delete;
  MaildirDrop& operator=(const MaildirDrop&) = delete;

  // Queues one job. `done` runs on the committer thread, exactly once; it
  // must not block for long (post the answer elsewhere).
  void deliver(std::vector<MaildirCopy> copies, std::int64_t internal_date, Done done);

  MaildirDropStats stats() const;

  // Commits what is queued now, without the linger, and returns once every
  // job queued before the call is done (its callback has run).
  void drain();

  // From this many files up, a batch is made durable by syncfs() (twice per
  // filesystem) instead of an fsync per file and per new/ directory.
  static constexpr std::size_t kSyncfsBatch = 4;

 private:
  struct Job {
    std::vector<MaildirCopy> copies;
    std::int64_t internal_date = 0;
    Done done;
  };
  struct File;  // one copy being written

  void committer();
  void commit(std::vector<Job>& batch);
  // Runs fn(i) for i in [0, n) on the fsync threads and waits.
  void parallel(std::size_t n, const std::function<void(std::size_t)>& fn);
  void fsync_worker();
  std::string unique_name(std::size_t size, std::uint64_t vsize, const std::string& tag);

  std::string hostname_;
  std::size_t max_batch_;
  std::chrono::microseconds linger_;
  int pid_;  // for file names

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  bool draining_ = false;      // drain() waits: no linger
  bool committing_ = false;    // a commit() runs with jobs taken from queue_
  std::condition_variable idle_;  // queue_ empty and nothing committing
  MaildirDropStats stats_;
  std::uint64_t counter_ = 0;  // committer thread only

  // The fsync helpers: one task at a time, fanned out to all of them.
  std::mutex pool_mutex_;
  std::condition_variable pool_wake_;
  std::condition_variable pool_done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t task_size_ = 0;
  std::size_t task_next_ = 0;
  std::size_t task_finished_ = 0;
  bool pool_stopping_ = false;
  std::vector<std::thread> fsync_threads_;

  std::thread committer_thread_;
};

}  // namespace mailsim::net
