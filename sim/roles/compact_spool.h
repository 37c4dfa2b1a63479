// The simulator's queue spool: real/mta's Spool contract (durable put,
// update, remove, load_all after a restart of the MTA object) kept in memory
// like mta::MemorySpool, but compactly, because a large run holds tens of
// thousands of letters at once. An entry keeps its message bytes, its client,
// its last reason and its recipients' diagnostics shared with the MTA's own
// copy (mta::MessageBytes, mta::SharedText: the MTA already hands equal texts
// one buffer, so the hundred letters deferred with "421 4.4.2 ... connection
// refused" hold one copy of it), and its other texts (sender, addresses,
// status codes, the remote MTA) as references into a TextPool that the whole
// run shares.
#pragma once

#include "real/mta/spool.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mailsim::sim::roles {

// Immutable texts, one buffer per distinct text still in use; a text leaves
// the pool when its last holder lets go. Single-threaded; must outlive every
// Text it handed out.
class TextPool {
 public:
  using Text = std::shared_ptr<const std::string>;
  // A shared buffer holding `s`; nullptr for the empty text.
  Text intern(const std::string& s);
  static const std::string& str(const Text& t);
  std::size_t size() const { return texts_.size(); }

 private:
  // A pooled text and the count of its holders in one allocation; the text
  // is handed out through an aliasing pointer. Its destructor erases its key.
  struct Node {
    Node(TextPool* p, const std::string& s) : pool(p), text(s) {}
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();
    TextPool* pool;
    std::string text;
  };
  // Keys view the pooled buffers; a node erases its key before its text goes.
  std::unordered_map<std::string_view, std::weak_ptr<const std::string>> texts_;
};

class CompactSpool final : public mta::Spool {
 public:
  // `pool` must outlive the spool. put()'s callback runs `fsync_latency` later
  // on `clock`; update()'s and remove()'s run inside the call, as FileSpool's.
  CompactSpool(TextPool& pool, mta::Clock& clock, mta::Duration fsync_latency)
      : pool_(pool), clock_(clock), latency_(fsync_latency) {}

  void put(const mta::QueueEntry& entry, Done done) override;
  void update(const mta::QueueEntry& entry, Done done) override;
  void remove(const mta::QueueId& id, Done done) override;
  std::vector<mta::QueueEntry> load_all() override;

  std::size_t size() const { return entries_.size(); }

 private:
  using Text = TextPool::Text;
  struct Recipient {
    Text address, status, remote_mta;
    mta::SharedText diagnostic;
    mta::RecipientState state = mta::RecipientState::pending;
    bool reported = false;
    bool delay_reported = false;
  };
  struct Record {
    Text sender;
    mta::SharedText client, last_reason;
    mta::MessageBytes message;
    std::vector<Recipient> recipients;
    mta::TimePoint arrival = 0, next_attempt = 0;
    int attempts = 0;
    mta::QueueState state = mta::QueueState::incoming;
  };
  // Keeps `slot` when it already says `s` (an update rarely changes a text).
  void set(Text& slot, const std::string& s);
  // Takes the entry's buffer (an empty text has none).
  static void share(mta::MessageBytes& slot, const mta::MessageBytes& bytes);
  void store(Record& r, const mta::QueueEntry& e);
  void finish(Done done, bool ok);

  TextPool& pool_;
  mta::Clock& clock_;
  mta::Duration latency_;
  std::map<mta::QueueId, Record> entries_;
};

}  // namespace mailsim::sim::roles
