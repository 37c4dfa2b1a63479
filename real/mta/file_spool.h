// FileSpool: the queue on disk for `mailsim serve`, kept as an append-only
// journal (the write-ahead log of databases, Postfix's queue files folded
// into one stream) so that "250 Ok: queued" costs ONE fdatasync shared by
// every message that arrived meanwhile (group commit), not a new file, an
// fsync and a directory fsync per message. RFC 5321 §6.1: once the server
// has said 250 it must not lose the message; this is where that promise is
// kept.
//
// Files in the spool directory:
//   segment-<12 digits>.log   journal segments, oldest first. Each is created
//                             at its full size (zero-filled, so a later
//                             fdatasync has no block allocation to commit),
//                             fsync'ed, and its name made durable by a
//                             directory fsync BEFORE the first record goes in.
//   <id>.q                    queue files of the old one-file-per-message
//                             format; imported into the journal on first open.
//
// Segment format (text, readable with less; the zero bytes after the last
// record are the unused part of the segment):
//   mailsim-journal 1 segment <n>\n
//   <kind> <id> <payload length> <crc32 in 8 hex digits>\n<payload>\n   ...
// kinds: P  put: the whole entry. Payload: envelope JSON \n status JSON \n
//           message bytes. A later P of the same id replaces it (compaction).
//        U  update: payload is the status JSON (recipient states etc.).
//        D  remove: empty payload.
// The CRC-32 (zlib) covers "<kind> <id> <length>", the segment number and the
// payload, so a torn record (a crash in the middle of write()) or a damaged
// one is recognised: replay stops reading that segment there.
//
// Durability, precisely:
//   put()      appends the P record with write(); `done` runs after an
//              fdatasync that covers it. Concurrent puts share the sync.
//   update(),  append the record with write() and run `done` at once: from
//   remove()   then on the record survives a crash of the PROCESS (it is in
//              the kernel's page cache). It reaches the DISK with the next
//              group sync, at the latest `status_sync_delay` later, so a
//              power cut may lose the last few status changes (a delivery
//              may then be repeated; MaildirMailboxes recognises the copy
//              it already stored and does not store it twice).
//
// Space: a segment is deleted (oldest first, so a newer record never outlives
// the older ones it overrides) once no live entry's P record is in it and the
// records that made it dead are on disk. An entry that stays queued (a
// deferred message) would pin its segment and all newer ones, so when a new
// segment starts, the entries still living in a segment two or more behind it
// are copied forward as fresh P records (compaction); on open, every live
// entry is copied into a fresh segment and all older segments go.
//
// Threads: calls come from one thread, the owner's (the MTA thread), with one
// exception: put_concurrent() and contains() may be called from any thread
// (real/net's SMTP connections write their messages themselves, so the 250
// needs no round trip through the MTA thread). A mutex orders the appends.
// With `post` set, a committer thread runs the fdatasyncs, segment deletions
// and the zero-filling of the next segment, and hands completions back to the
// owner through `post` (put_concurrent's it runs itself, at once); the
// owner only ever does write()s. Without it, everything runs on the calling
// thread (tests, tools).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "real/mta/spool.h"

namespace mailsim::mta {

struct FileSpoolOptions {
  // Bytes per segment (a bigger record gets a segment of its own size).
  std::uint64_t segment_size = 8u << 20;

  // Group commit. With `post`: a committer thread syncs whatever was appended
  // while it synced last time; `post` must run the function on the owner's
  // thread, later (an event loop's post). Otherwise with `clock`: a put is
  // committed `group_commit_window` after the first pending one (0: on the
  // next turn of the loop), so puts of one turn share a sync. Neither: every
  // call syncs at once.
  std::function<void(std::function<void()>)> post;
  Clock* clock = nullptr;
  Duration group_commit_window = 0;

  // Longest time an update()/remove() record waits for a sync when no put
  // comes along to share one (committer thread only).
  std::chrono::milliseconds status_sync_delay{20};
};

struct FileSpoolStats {
  std::uint64_t records = 0;            // appended this run
  std::uint64_t syncs = 0;              // fdatasync rounds (each covers >= 1 record)
  std::uint64_t segments_created = 0;
  std::uint64_t segments_deleted = 0;
  std::uint64_t entries_compacted = 0;  // P records copied forward
};

class FileSpool final : public Spool {
 public:
  // Creates `directory` if needed; the journal is opened (replayed, compacted)
  // by the first call of any kind. Throws std::filesystem_error when the
  // directory cannot be made.
  explicit FileSpool(std::filesystem::path directory, FileSpoolOptions options = {});
  FileSpool(std::filesystem::path directory, Clock* clock, Duration group_commit_window);
  // Syncs what was appended (without running pending callbacks: their owner
  // is going away too) and stops the committer.
  ~FileSpool() override;
  FileSpool(const FileSpool&) = delete;
  FileSpool& operator=(const FileSpool&) = delete;

  void put(const QueueEntry& entry, Done done) override;
  // put() for a new entry from any thread. `done` runs once: with true right
  // after the fdatasync that covers the record, on the thread that ran it
  // (with `sync_here` and no sync running: the caller's own, inside this
  // call, which then blocks for the fdatasync; else the committer's; without
  // a committer: whichever thread syncs), with false on the
  // owner's thread (or at once) when the spool failed. It must be quick and
  // thread-safe (post somewhere). Returns false, and never calls `done`,
  // when an entry with this id is queued already (ids must be new: this
  // never replaces one).
  bool put_concurrent(const QueueEntry& entry, Done done, bool sync_here = false);
  // Is an entry with this id queued? Any thread.
  bool contains(const QueueId& id) const;
  void update(const QueueEntry& entry, Done done) override;
  void remove(const QueueId& id, Done done) override;
  // First call: replays the journal, copies the live entries into a new
  // segment, syncs, deletes the old segments. Later calls: syncs, then replays
  // the files as they are (a consistency check for tests and tools).
  // Throws std::runtime_error when the journal cannot be opened.
  std::vector<QueueEntry> load_all() override;
  // Syncs everything appended so far on the calling thread; pending put
  // callbacks run inside.
  void flush() override;

  const std::filesystem::path& directory() const { return dir_; }
  // fdatasync rounds so far (group commit makes this smaller than puts).
  std::uint64_t syncs() const { return syncs_.load(); }
  FileSpoolStats stats() const;
  // Segment file names present now, oldest first.
  std::vector<std::string> segment_files() const;
  // What load_all() could not read: "segment-000000000003.log: damaged record
  // at offset 1234 (checksum mismatch); 567 bytes after it ignored".
  const std::vector<std::string>& damaged() const { return damaged_; }
  // For tests: while held, the committer thread does not sync, so puts pile
  // up; releasing lets it take them all in one round.
  void hold_commits(bool held);

 private:
  struct Segment;
  struct Committer;
  struct Live {
    std::uint64_t home = 0;      // segment of the entry's latest P record
    std::uint64_t offset = 0;    // where that record starts
    std::uint64_t length = 0;    // its size, header line included
    std::string status;          // latest status JSON
  };
  struct Pending {
    std::uint64_t lsn;  // durable once the sync covers this many appended bytes
    Done done;
    bool any_thread = false;  // put_concurrent(): the committer may run `done`
  };

  void put_locked(const QueueEntry& entry, Done done, bool any_thread);
  bool ensure_open();
  void forget_opened_entries();
  void open_journal();
  static std::shared_ptr<Segment> create_segment_file(const std::filesystem::path& dir, std::uint64_t index,
                                                      std::uint64_t size, bool zero_fill, std::string& error);
  // Appends one record to the current segment (rolling over when full);
  // returns false (and marks the spool failed) on an I/O error.
  bool append(char kind, const QueueId& id, const std::string& payload, std::uint64_t* offset = nullptr,
              std::uint64_t* length = nullptr);
  bool roll_over(std::uint64_t need);
  void compact(std::uint64_t segment);
  void set_home(const QueueId& id, std::uint64_t segment);
  void drop_home(const QueueId& id);
  // Sync bookkeeping: what is appended and not synced, who waits for it.
  void mark_dirty();
  void request_sync(bool urgent);
  void commit_inline();
  void sync_round(std::unique_lock<std::mutex>& lock, const std::weak_ptr<int>& alive);
  void on_synced(std::uint64_t lsn, bool ok, std::vector<Pending> waiters);
  void collect_garbage();
  void fail(const std::string& why);

  std::filesystem::path dir_;
  FileSpoolOptions options_;
  // Held by every public call and by the completions posted to the owner:
  // the owner's state below is shared with put_concurrent() callers.
  // Recursive: a completion's callback may call update()/remove() (or, in
  // inline mode, a put's sync completes inside put()).
  mutable std::recursive_mutex owner_mutex_;
  bool opened_ = false;
  bool failed_ = false;
  std::string failure_;
  std::vector<QueueEntry> opened_entries_;  // what the first open replayed
  bool opened_entries_taken_ = false;

  std::map<std::uint64_t, std::shared_ptr<Segment>> segments_;  // all present, by number
  std::shared_ptr<Segment> current_;
  std::map<QueueId, Live> live_;
  std::map<std::uint64_t, std::set<QueueId>> homes_;  // segment -> live entries whose P is there
  std::map<std::uint64_t, std::uint64_t> dead_at_;    // segment -> lsn when it last lost a home / stopped being current
  bool compacting_ = false;

  std::uint64_t written_lsn_ = 0;  // bytes appended so far (all segments)
  std::uint64_t durable_lsn_ = 0;  // bytes known to be on disk
  std::vector<std::shared_ptr<Segment>> dirty_;  // inline mode: written since the last sync
  std::vector<Pending> waiting_;                 // inline mode
  bool commit_scheduled_ = false;
  TimerId commit_timer_ = 0;

  std::atomic<std::uint64_t> syncs_{0};
  FileSpoolStats stats_;
  std::vector<std::string> damaged_;

  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::unique_ptr<Committer> committer_;
};

}  // namespace mailsim::mta
