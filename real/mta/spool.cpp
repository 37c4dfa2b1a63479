// MemorySpool and restart recovery.
#include "real/mta/spool.h"

namespace mailsim::mta {

void recover_entry(QueueEntry& entry, TimePoint now) {
  if (entry.state == QueueState::incoming || entry.state == QueueState::active) {
    entry.state = QueueState::deferred;
    entry.next_attempt = now;
  }
}

void MemorySpool::finish(Done done, bool ok) {
  if (!done) return;
  if (clock_ && latency_ > 0) {
    clock_->schedule(latency_, [done = std::move(done), ok] { done(ok); });
  } else {
    done(ok);
  }
}

void MemorySpool::put(const QueueEntry& entry, Done done) {
  if (failing_) return finish(std::move(done), false);
  entries_[entry.id] = entry;
  finish(std::move(done), true);
}

// update() and remove() answer at once, as FileSpool's do: their records
// wait for the next group sync instead of a flush of their own (spool.h).
void MemorySpool::update(const QueueEntry& entry, Done done) {
  auto it = entries_.find(entry.id);
  const bool ok = !failing_ && it != entries_.end();
  if (ok) it->second = entry;
  if (done) done(ok);
}

void MemorySpool::remove(const QueueId& id, Done done) {
  entries_.erase(id);
  if (done) done(true);
}

std::vector<QueueEntry> MemorySpool::load_all() {
  std::vector<QueueEntry> out;
  for (const auto& [id, e] : entries_) out.push_back(e);
  return out;
}

const QueueEntry* MemorySpool::find(const QueueId& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace mailsim::mta
