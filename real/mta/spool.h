// The queue's durable store. An MTA may say "250 Ok: queued" only once the
// message is safe from a crash (RFC 5321 §6.1: "it MUST NOT lose the message
// for frivolous reasons"), so put() reports success only when the entry is
// durable. Two backends: MemorySpool (the simulator; survives a simulated
// restart of the MTA object, not of the process) and FileSpool (file_spool.h,
// real mode: a journal, fdatasync before put()'s callback).
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "real/mta/queue_entry.h"
#include "real/mta/services.h"

namespace mailsim::mta {

class Spool {
 public:
  // ok=false: the entry could not be made durable (disk full, I/O error).
  using Done = std::function<void(bool ok)>;
  virtual ~Spool() = default;

  // Stores a new entry (envelope, message, status). `done` runs once it is
  // durable — possibly later, after a group commit (see flush()).
  virtual void put(const QueueEntry& entry, Done done) = 0;
  // Records the entry's new state and recipient statuses (the message bytes
  // and envelope never change after put()). Before `done` the record survives
  // a crash of the process; on disk it may follow a moment later, with the
  // next group commit (FileSpool: see file_spool.h). The MTA tolerates losing
  // the last updates to a power cut: a delivery may be repeated, never lost.
  virtual void update(const QueueEntry& entry, Done done) = 0;
  // Forgets the entry (all recipients done); durable as update().
  virtual void remove(const QueueId& id, Done done) = 0;
  // Every stored entry as last updated; called once at startup, synchronous.
  virtual std::vector<QueueEntry> load_all() = 0;
  // Completes pending group commits now (their callbacks run inside).
  virtual void flush() {}
};

// After a restart: an entry that was being received or delivered when the
// process stopped goes back to the deferred queue, ready at once; recipients
// keep their states (a delivered recipient is never delivered twice).
void recover_entry(QueueEntry& entry, TimePoint now);

// In-memory spool for the simulator and tests. With a clock and a latency,
// put() models the time a real fsync takes (so the trace shows "spooled" a
// moment after DATA ends); without, its callback runs inside the call.
// update() and remove() always answer inside the call, as FileSpool's do.
class MemorySpool final : public Spool {
 public:
  MemorySpool() = default;
  MemorySpool(Clock& clock, Duration fsync_latency) : clock_(&clock), latency_(fsync_latency) {}

  void put(const QueueEntry& entry, Done done) override;
  void update(const QueueEntry& entry, Done done) override;
  void remove(const QueueId& id, Done done) override;
  std::vector<QueueEntry> load_all() override;

  // Inspection for tests and the view.
  std::size_t size() const { return entries_.size(); }
  const QueueEntry* find(const QueueId& id) const;
  // Make every following put()/update() fail (models a full disk).
  void set_failing(bool failing) { failing_ = failing; }

 private:
  void finish(Done done, bool ok);

  Clock* clock_ = nullptr;
  Duration latency_ = 0;
  bool failing_ = false;
  std::map<QueueId, QueueEntry> entries_;
};

}  // namespace mailsim::mta
