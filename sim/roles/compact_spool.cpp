// The simulator's compact queue spool (see compact_spool.h).
#include "sim/roles/compact_spool.h"

namespace mailsim::sim::roles {

// ---- TextPool ---------------------------------------------------------------------

const std::string& TextPool::str(const Text& t) {
  static const std::string empty;
  return t ? *t : empty;
}

TextPool::Text TextPool::intern(const std::string& s) {
  if (s.empty()) return nullptr;
  if (auto it = texts_.find(s); it != texts_.end()) {
    if (auto live = it->second.lock()) return live;
    texts_.erase(it);
  }
  auto node = std::make_shared<Node>(this, s);
  Text text(node, &node->text);
  texts_.emplace(std::string_view(node->text), text);
  return text;
}

// The last holder's release takes the text out of the pool before the
// buffer goes, so no key ever views freed memory.
TextPool::Node::~Node() {
  auto it = pool->texts_.find(text);
  if (it != pool->texts_.end() && it->first.data() == text.data()) pool->texts_.erase(it);
}

// ---- CompactSpool -------------------------------------------------------------------

void CompactSpool::finish(Done done, bool ok) {
  if (!done) return;
  if (latency_ > 0) {
    clock_.schedule(latency_, [done = std::move(done), ok] { done(ok); });
  } else {
    done(ok);
  }
}

void CompactSpool::set(Text& slot, const std::string& s) {
  if (TextPool::str(slot) == s) return;
  slot = pool_.intern(s);
}

void CompactSpool::share(mta::MessageBytes& slot, const mta::MessageBytes& bytes) {
  if (!slot.shares_buffer_with(bytes)) slot = bytes;
}

void CompactSpool::store(Record& r, const mta::QueueEntry& e) {
  set(r.sender, e.sender);
  // Shared buffers: a copy is a count, not an allocation.
  share(r.client, e.client);
  share(r.last_reason, e.last_reason);
  share(r.message, e.message);
  r.recipients.resize(e.recipients.size());
  for (std::size_t i = 0; i < e.recipients.size(); ++i) {
    const auto& from = e.recipients[i];
    auto& to = r.recipients[i];
    set(to.address, from.address);
    set(to.status, from.status);
    share(to.diagnostic, from.diagnostic);
    set(to.remote_mta, from.remote_mta);
    to.state = from.state;
    to.reported = from.reported;
    to.delay_reported = from.delay_reported;
  }
  r.arrival = e.arrival;
  r.next_attempt = e.next_attempt;
  r.attempts = e.attempts;
  r.state = e.state;
}

void CompactSpool::put(const mta::QueueEntry& entry, Done done) {
  store(entries_[entry.id], entry);
  finish(std::move(done), true);
}

// As FileSpool's: the record is appended and `done` runs at once; it reaches
// the disk with the next group sync, so no flush of its own is waited for
// (real/mta/spool.h, file_spool.h).
void CompactSpool::update(const mta::QueueEntry& entry, Done done) {
  auto it = entries_.find(entry.id);
  if (it != entries_.end()) store(it->second, entry);
  if (done) done(it != entries_.end());
}

void CompactSpool::remove(const mta::QueueId& id, Done done) {
  entries_.erase(id);
  if (done) done(true);
}

std::vector<mta::QueueEntry> CompactSpool::load_all() {
  std::vector<mta::QueueEntry> out;
  out.reserve(entries_.size());
  for (const auto& [id, r] : entries_) {
    mta::QueueEntry e;
    e.id = id;
    e.sender = TextPool::str(r.sender);
    e.client = r.client;
    e.last_reason = r.last_reason;
    e.message = r.message;
    for (const auto& from : r.recipients) {
      mta::RecipientStatus to;
      to.address = TextPool::str(from.address);
      to.status = TextPool::str(from.status);
      to.diagnostic = from.diagnostic;
      to.remote_mta = TextPool::str(from.remote_mta);
      to.state = from.state;
      to.reported = from.reported;
      to.delay_reported = from.delay_reported;
      e.recipients.push_back(std::move(to));
    }
    e.arrival = r.arrival;
    e.next_attempt = r.next_attempt;
    e.attempts = r.attempts;
    e.state = r.state;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace mailsim::sim::roles
