// Simulated DNS (RFC 1034/1035 semantics, not wire format): one authoritative
// database for the whole simulated internet, and a caching stub resolver per
// host. Record types: A, MX (RFC 5321 §5.1, null MX RFC 7505), TXT, PTR, and
// DNS blocklist zones (RFC 5782: 2.0.0.127.<zone> style lookups).
#pragma once

#include "sim/engine/engine.h"
#include "sim/net/address.h"
#include "sim/net/network.h"
#include "sim/trace/trace.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mailsim::sim {

enum class DnsType { kA, kMx, kTxt, kPtr };
std::string_view dns_type_name(DnsType type);  // "A", "MX", "TXT", "PTR"
std::optional<DnsType> dns_type_from_name(std::string_view name);

struct DnsRecord {
  std::string name;        // lower case, no trailing dot
  DnsType type = DnsType::kA;
  std::uint32_t ttl = 300;  // seconds
  int preference = 0;      // MX only
  std::string value;       // A: address; MX: exchange ("." = null MX); TXT: text; PTR: name
};

enum class Rcode { kNoError, kNxDomain, kServFail };
std::string_view rcode_name(Rcode rcode);  // "NOERROR", "NXDOMAIN", "SERVFAIL"

struct DnsAnswer {
  Rcode rcode = Rcode::kNoError;
  std::vector<DnsRecord> records;  // empty with NOERROR: the name exists, no data of this type
  bool from_cache = false;
};

// "4.3.2.1.in-addr.arpa" for 1.2.3.4 (RFC 1035 §3.5).
std::string reverse_name(Ipv4 address);
// Lower case without a trailing dot: the form names are compared in.
std::string normalize_dns_name(std::string_view name);

class DnsDatabase {
 public:
  // Adds a record (name normalised). MX values are normalised too.
  void add(DnsRecord record);
  // A blocklist zone: <reversed address>.<zone> answers A 127.0.0.2 and a TXT
  // with `reason` for every listed address or network, NXDOMAIN otherwise.
  void add_blocklist(std::string zone, std::vector<Cidr> listed, std::string reason);
  // TTL of negative answers (RFC 2308), seconds.
  void set_negative_ttl(std::uint32_t seconds) { negative_ttl_ = seconds; }
  std::uint32_t negative_ttl() const { return negative_ttl_; }

  // The authoritative answer. NXDOMAIN when neither the name nor any name
  // below it has records; NOERROR with no records when only other types exist.
  DnsAnswer lookup(std::string_view name, DnsType type) const;
  // The same for a name already as normalize_dns_name() gives it (the
  // resolver's, which it normalized for its cache).
  DnsAnswer lookup_normalized(const std::string& name, DnsType type) const;

  const std::vector<DnsRecord>& records() const { return records_; }

  struct Blocklist {
    std::string zone;
    std::vector<Cidr> listed;
    std::string reason;
  };
  const std::vector<Blocklist>& blocklists() const { return blocklists_; }

 private:
  std::vector<DnsRecord> records_;
  // Indexes over records_: a lookup costs the same with 10 names or 10,000.
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_;  // record indexes, in order
  std::unordered_set<std::string> existing_;  // every record name and every name above one
  std::vector<Blocklist> blocklists_;
  std::uint32_t negative_ttl_ = 300;
};

struct ResolverConfig {
  Time timeout = 5 * kSecond;          // no answer from the server: SERVFAIL
  Time local_delay = 1 * kMillisecond; // when there is no DNS server host
};

// A host's caching stub resolver. Queries go to `server` (a host of the
// network: the answer takes a round trip, and fails after `timeout` when the
// server is down or unreachable) or, without one, are answered after
// `local_delay`. Positive answers are cached for the smallest TTL of their
// records, negative ones for the negative TTL; failures are not cached.
// Every query and answer is recorded in the trace (dns_query / dns_answer).
class DnsResolver {
 public:
  using Callback = std::function<void(const DnsAnswer&)>;

  // `network` and `database` must outlive the resolver.
  DnsResolver(Network& network, const DnsDatabase& database, HostId host, std::optional<HostId> server,
              ResolverConfig config = {});

  // Asks; `done` runs later in an engine event (never inside this call).
  // Returns the query id used in the trace (`query_id`).
  std::uint64_t query(std::string_view name, DnsType type, Callback done);

  void flush_cache() {
    cache_.clear();
    cache_index_.clear();
    free_entries_.clear();
  }
  // Answers held, expired ones included until they are forgotten (when the
  // cache fills up) or overwritten by a fresh answer for their name.
  std::size_t cache_size() const { return cache_.size() - free_entries_.size(); }
  HostId host() const { return host_; }

 private:
  struct Cached {
    DnsAnswer answer;
    Time expires = 0;
    Time stored = 0;
  };
  void answer(std::uint64_t id, const std::string& name, DnsType type, DnsAnswer a, const Callback& done);

  Network& network_;
  const DnsDatabase& database_;
  HostId host_;
  std::optional<HostId> server_;
  ResolverConfig config_;
  // The cache, by (name, type): looked up for every delivery attempt, never
  // walked. The entries lie in one vector, found through an open-addressing
  // index of their positions. A resolver's cache is cold when its host's
  // next letter asks (a thousand hosts take turns): this finds an answer in
  // the index's line and the entry's, where a hash table's bucket, the node
  // before and the node itself lay apart.
  struct CacheEntry {
    std::size_t hash = 0;
    DnsType type{};
    std::string name;
    Cached cached;
  };
  // Never 0: an entry with hash 0 is a forgotten one.
  static std::size_t cache_hash(const std::string& name, DnsType type) {
    const std::size_t h = std::hash<std::string>{}(name) * 31 + static_cast<std::size_t>(type);
    return h == 0 ? 1 : h;
  }
  // The entry for (name, type), whose cache_hash() is `hash`; nullptr if there is none.
  Cached* find_cached(std::size_t hash, const std::string& name, DnsType type);
  // The entry for (name, type), added (empty) if there is none. Makes room
  // first when the cache is full: answers expired by `now` are forgotten,
  // and the index grows only if that freed too little.
  Cached& cache_entry(const std::string& name, DnsType type, Time now);
  // A place in the index: the entry's position in cache_ + 1 (0: free), and
  // the top half of its hash, so a probe passes other names without reading
  // their entries (cold: each of a thousand resolvers is asked now and then).
  struct IndexSlot {
    std::uint32_t position = 0;
    std::uint32_t tag = 0;
  };
  static std::uint32_t hash_tag(std::size_t hash) { return static_cast<std::uint32_t>(hash >> 32); }
  // Puts every entry in use into an index of `size` places.
  void rebuild_index(std::size_t size);
  // The first free place in cache_index_ on `hash`'s probe sequence.
  IndexSlot& free_index_slot(std::size_t hash);
  std::vector<CacheEntry> cache_;
  std::vector<IndexSlot> cache_index_;  // power-of-two size
  // Entries whose answers expired and were forgotten: reused by the next
  // names, their strings and records keeping their room (a day of letters
  // asks for far more names than are ever fresh at once).
  std::vector<std::uint32_t> free_entries_;
  // The round trip to the server, as of a topology generation: every query
  // not answered from the cache needs it, and routes rarely change.
  struct RoundTrip {
    std::uint64_t generation = ~std::uint64_t{0};
    std::optional<Time> time;  // nullopt: no route there or back
  };
  RoundTrip round_trip_;
  const std::optional<Time>& round_trip_to_server();
  std::uint64_t next_query_ = 1;  // ids are (host << 32) | n: unique in a run, reproducible
};

}  // namespace mailsim::sim
