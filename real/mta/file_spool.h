// FileSpool: the queue on disk for `mailsim serve`, one file per message, in
// the way Postfix and qmail make a queue crash-safe:
//   put():    write <dir>/.<id>.tmp, fsync it, rename to <dir>/<id>.q, then
//             fsync the directory so the new name survives a power cut. The
//             directory fsync is shared by every put() of the same moment
//             (group commit): callbacks wait for flush(), which runs by itself
//             a short window later when the spool has a clock.
//   update(): append one status record to <id>.q and fdatasync it; on
//             recovery the last complete record wins, a torn one is ignored.
//   remove(): unlink <id>.q.
//
// File format (text, readable with less):
//   mailsim-spool 1\n
//   E <envelope JSON>\n
//   M <byte count>\n<message bytes>\n
//   S <status JSON>\n        (one or more; the last complete one counts)
//
// I/O is synchronous (open/write/fsync): the callbacks keep the interface
// asynchronous so a host may move the work to a thread pool later.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "real/mta/spool.h"

namespace mailsim::mta {

class FileSpool final : public Spool {
 public:
  // Creates `directory` if needed. With `clock`, pending puts are committed
  // `group_commit_window` after the first of them (0: on the next turn of the
  // event loop, so puts of the same turn share one directory fsync). Without a
  // clock, every put() commits at once.
  explicit FileSpool(std::filesystem::path directory, Clock* clock = nullptr,
                     Duration group_commit_window = 0);
  ~FileSpool() override;

  void put(const QueueEntry& entry, Done done) override;
  void update(const QueueEntry& entry, Done done) override;
  void remove(const QueueId& id, Done done) override;
  std::vector<QueueEntry> load_all() override;
  void flush() override;

  const std::filesystem::path& directory() const { return dir_; }
  // How many directory fsyncs ran (group commit makes this < puts).
  std::size_t directory_syncs() const { return directory_syncs_; }
  // Entries load_all() skipped because their file was unreadable.
  const std::vector<std::string>& damaged() const { return damaged_; }

 private:
  std::filesystem::path file_for(const QueueId& id) const;

  std::filesystem::path dir_;
  Clock* clock_;
  Duration window_;
  bool flush_scheduled_ = false;
  TimerId flush_timer_ = 0;
  std::vector<Done> pending_;  // puts renamed but not yet directory-synced
  std::size_t directory_syncs_ = 0;
  std::vector<std::string> damaged_;
};

}  // namespace mailsim::mta
