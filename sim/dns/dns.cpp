// Simulated DNS database and caching resolver (see dns.h).
#include "sim/dns/dns.h"

#include "real/codec/ascii.h"

#include <algorithm>
#include <array>

namespace mailsim::sim {
namespace {

constexpr std::array<std::pair<DnsType, std::string_view>, 4> kTypeNames{
    {{DnsType::kA, "A"}, {DnsType::kMx, "MX"}, {DnsType::kTxt, "TXT"}, {DnsType::kPtr, "PTR"}}};

bool is_at_or_below(std::string_view name, std::string_view ancestor) {
  if (name == ancestor) return true;
  return name.size() > ancestor.size() && name.ends_with(ancestor) &&
         name[name.size() - ancestor.size() - 1] == '.';
}

// "4.3.2.1" -> 1.2.3.4 (the address part of a blocklist query).
std::optional<Ipv4> unreverse(std::string_view labels) {
  std::array<std::string_view, 4> parts;
  std::size_t n = 0;
  while (n < 4) {
    const auto dot = labels.find('.');
    parts[n++] = labels.substr(0, dot);
    if (dot == std::string_view::npos) break;
    labels.remove_prefix(dot + 1);
    if (n == 4) return std::nullopt;  // more than four labels
  }
  if (n != 4) return std::nullopt;
  return Ipv4::parse(std::string(parts[3]) + "." + std::string(parts[2]) + "." + std::string(parts[1]) + "." +
                     std::string(parts[0]));
}

DnsRecordData to_trace(const DnsRecord& r) {
  return DnsRecordData{r.name, std::string(dns_type_name(r.type)), r.ttl, r.preference, r.value};
}

}  // namespace

std::string_view dns_type_name(DnsType type) {
  for (const auto& [t, name] : kTypeNames)
    if (t == type) return name;
  return "?";
}

std::optional<DnsType> dns_type_from_name(std::string_view name) {
  for (const auto& [t, n] : kTypeNames)
    if (n == name) return t;
  return std::nullopt;
}

std::string_view rcode_name(Rcode rcode) {
  switch (rcode) {
    case Rcode::kNoError: return "NOERROR";
    case Rcode::kNxDomain: return "NXDOMAIN";
    case Rcode::kServFail: return "SERVFAIL";
  }
  return "?";
}

std::string reverse_name(Ipv4 a) {
  const auto v = a.value;
  return std::to_string(v & 0xFF) + '.' + std::to_string((v >> 8) & 0xFF) + '.' + std::to_string((v >> 16) & 0xFF) +
         '.' + std::to_string(v >> 24) + ".in-addr.arpa";
}

std::string normalize_dns_name(std::string_view name) {
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  return codec::to_lower(name);  // ASCII only, as DNS compares names (RFC 4343 §3)
}

void DnsDatabase::add(DnsRecord record) {
  record.name = normalize_dns_name(record.name);
  if (record.type == DnsType::kMx || record.type == DnsType::kPtr) record.value = normalize_dns_name(record.value);
  by_name_[record.name].push_back(records_.size());
  existing_.insert(record.name);
  for (std::size_t dot = record.name.find('.'); dot != std::string::npos; dot = record.name.find('.', dot + 1))
    existing_.insert(record.name.substr(dot + 1));
  records_.push_back(std::move(record));
}

void DnsDatabase::add_blocklist(std::string zone, std::vector<Cidr> listed, std::string reason) {
  blocklists_.push_back(Blocklist{normalize_dns_name(zone), std::move(listed), std::move(reason)});
}

DnsAnswer DnsDatabase::lookup(std::string_view raw_name, DnsType type) const {
  return lookup_normalized(normalize_dns_name(raw_name), type);
}

DnsAnswer DnsDatabase::lookup_normalized(const std::string& name, DnsType type) const {
  DnsAnswer answer;
  for (const auto& bl : blocklists_) {
    if (!is_at_or_below(name, bl.zone)) continue;
    if (name == bl.zone) return answer;  // the zone apex exists, no data
    const auto address = unreverse(std::string_view(name).substr(0, name.size() - bl.zone.size() - 1));
    const bool listed = address && std::any_of(bl.listed.begin(), bl.listed.end(),
                                               [&](const Cidr& c) { return c.contains(*address); });
    if (!listed) {
      answer.rcode = Rcode::kNxDomain;
      return answer;
    }
    if (type == DnsType::kA) answer.records.push_back(DnsRecord{name, DnsType::kA, 300, 0, "127.0.0.2"});
    if (type == DnsType::kTxt) answer.records.push_back(DnsRecord{name, DnsType::kTxt, 300, 0, bl.reason});
    return answer;
  }
  // The name exists when it or a name below it has records.
  if (!existing_.contains(name)) {
    answer.rcode = Rcode::kNxDomain;
  } else if (const auto it = by_name_.find(name); it != by_name_.end()) {
    for (const std::size_t i : it->second)
      if (records_[i].type == type) answer.records.push_back(records_[i]);
  }
  if (type == DnsType::kMx)
    std::stable_sort(answer.records.begin(), answer.records.end(),
                     [](const DnsRecord& a, const DnsRecord& b) { return a.preference < b.preference; });
  return answer;
}

DnsResolver::DnsResolver(Network& network, const DnsDatabase& database, HostId host, std::optional<HostId> server,
                         ResolverConfig config)
    : network_(network), database_(database), host_(host), server_(server), config_(config) {}

const std::optional<Time>& DnsResolver::round_trip_to_server() {
  if (round_trip_.generation != network_.topology_generation()) {
    round_trip_.generation = network_.topology_generation();
    const auto there = network_.route_latency(host_, *server_);
    const auto back = network_.route_latency(*server_, host_);
    round_trip_.time = there && back ? std::optional<Time>(*there + *back) : std::nullopt;
  }
  return round_trip_.time;
}

DnsResolver::Cached* DnsResolver::find_cached(std::size_t hash, const std::string& name, DnsType type) {
  if (cache_index_.empty()) return nullptr;
  const std::size_t mask = cache_index_.size() - 1;
  const std::uint32_t tag = hash_tag(hash);
  for (std::size_t i = hash & mask; cache_index_[i].position != 0; i = (i + 1) & mask) {
    if (cache_index_[i].tag != tag) continue;
    CacheEntry& e = cache_[cache_index_[i].position - 1];
    if (e.hash == hash && e.type == type && e.name == name) return &e.cached;
  }
  return nullptr;
}

DnsResolver::Cached& DnsResolver::cache_entry(const std::string& name, DnsType type, Time now) {
  const std::size_t hash = cache_hash(name, type);
  if (Cached* c = find_cached(hash, name, type)) return *c;
  // At most three quarters full: probes stay short.
  if ((cache_size() + 1) * 4 > cache_index_.size() * 3) {
    // Forget what has expired (its entries wait in free_entries_ for the
    // next names). Grow unless that left the index at most half full, so
    // the next sweep is a quarter of the index's insertions away.
    for (std::size_t n = 0; n < cache_.size(); ++n) {
      CacheEntry& e = cache_[n];
      if (e.hash != 0 && e.cached.expires <= now) {
        e.hash = 0;
        free_entries_.push_back(static_cast<std::uint32_t>(n));
      }
    }
    const bool grow = (cache_size() + 1) * 2 > cache_index_.size();
    rebuild_index(grow ? std::max<std::size_t>(16, cache_index_.size() * 2) : cache_index_.size());
  }
  std::size_t n;
  if (!free_entries_.empty()) {
    n = free_entries_.back();
    free_entries_.pop_back();
    CacheEntry& e = cache_[n];
    e.hash = hash;
    e.type = type;
    e.name = name;  // into the room the forgotten name left
  } else {
    n = cache_.size();
    cache_.push_back(CacheEntry{hash, type, name, {}});
  }
  free_index_slot(hash) = IndexSlot{static_cast<std::uint32_t>(n + 1), hash_tag(hash)};
  return cache_[n].cached;
}

void DnsResolver::rebuild_index(std::size_t size) {
  cache_index_.assign(size, IndexSlot{});
  for (std::size_t n = 0; n < cache_.size(); ++n) {
    const std::size_t hash = cache_[n].hash;
    if (hash != 0) free_index_slot(hash) = IndexSlot{static_cast<std::uint32_t>(n + 1), hash_tag(hash)};
  }
}

DnsResolver::IndexSlot& DnsResolver::free_index_slot(std::size_t hash) {
  const std::size_t mask = cache_index_.size() - 1;
  std::size_t i = hash & mask;
  while (cache_index_[i].position != 0) i = (i + 1) & mask;
  return cache_index_[i];
}

std::uint64_t DnsResolver::query(std::string_view raw_name, DnsType type, Callback done) {
  std::pair<std::string, DnsType> key{normalize_dns_name(raw_name), type};
  const std::string& name = key.first;
  const std::uint64_t id = (static_cast<std::uint64_t>(host_) << 32) | next_query_++;
  Engine& engine = network_.engine();

  const Cached* hit = find_cached(cache_hash(name, type), name, type);
  // An expired answer is not used; its entry stays, to be overwritten by
  // the fresh answer (most letters of a day find their answer expired:
  // erasing and adding the entry again cost two allocations each time),
  // until the cache fills up and forgets it (cache_entry).
  if (hit != nullptr && hit->expires <= engine.now()) hit = nullptr;
  if (network_.trace().wants(EventKind::kDnsQuery)) {
    DnsPayload q;
    q.name = name;
    q.type = std::string(dns_type_name(type));
    q.server = server_ ? network_.host(*server_).name : "";
    q.query_id = id;
    q.cached = hit != nullptr;
    network_.trace().record(EventKind::kDnsQuery, network_.host(host_).name, 0, q);
  } else {
    network_.trace().count(EventKind::kDnsQuery);
  }

  // The answer, the name and the callback move into the event that
  // delivers them (a query is asked for every delivery attempt).
  if (hit != nullptr) {
    DnsAnswer a = hit->answer;
    a.from_cache = true;
    // TTLs count down while cached (RFC 1035 §3.2.1).
    const auto elapsed = static_cast<std::uint32_t>((engine.now() - hit->stored) / kSecond);
    for (auto& r : a.records) r.ttl = r.ttl > elapsed ? r.ttl - elapsed : 0;
    engine.schedule_in(
        0,
        [this, id, key = std::move(key), a = std::move(a), done = std::move(done)]() mutable {
          answer(id, key.first, key.second, std::move(a), done);
        },
        "dns cache hit");
    return id;
  }

  Time delay = config_.local_delay;
  bool reachable = true;
  if (server_ && *server_ != host_) {
    const auto& rtt = round_trip_to_server();
    reachable = rtt && network_.host(*server_).up;
    delay = reachable ? *rtt : config_.timeout;
  } else if (server_ && !network_.host(*server_).up) {
    reachable = false;
    delay = config_.timeout;
  }
  DnsAnswer a;
  if (reachable) {
    a = database_.lookup_normalized(name, type);
  } else {
    a.rcode = Rcode::kServFail;
  }
  engine.schedule_in(
      delay,
      [this, id, key = std::move(key), a = std::move(a), done = std::move(done)]() mutable {
        if (a.rcode != Rcode::kServFail) {
          Time ttl = static_cast<Time>(database_.negative_ttl()) * kSecond;
          if (!a.records.empty()) {
            ttl = static_cast<Time>(a.records.front().ttl) * kSecond;
            for (const auto& r : a.records) ttl = std::min(ttl, static_cast<Time>(r.ttl) * kSecond);
          }
          const Time now = network_.engine().now();
          if (ttl > 0) {
            // Assigned member by member: an expired entry's records and
            // their strings keep their room, and the copy allocates nothing.
            Cached& c = cache_entry(key.first, key.second, now);
            c.answer = a;
            c.expires = now + ttl;
            c.stored = now;
          }
        }
        answer(id, key.first, key.second, std::move(a), done);
      },
      "dns answer");
  return id;
}

void DnsResolver::answer(std::uint64_t id, const std::string& name, DnsType type, DnsAnswer a, const Callback& done) {
  if (!network_.trace().wants(EventKind::kDnsAnswer)) {
    network_.trace().count(EventKind::kDnsAnswer);
    if (done) done(a);
    return;
  }
  DnsPayload p;
  p.name = name;
  p.type = std::string(dns_type_name(type));
  p.server = server_ ? network_.host(*server_).name : "";
  p.cached = a.from_cache;
  p.rcode = std::string(rcode_name(a.rcode));
  p.query_id = id;
  for (const auto& r : a.records) p.records.push_back(to_trace(r));
  network_.trace().record(EventKind::kDnsAnswer, network_.host(host_).name, 0, std::move(p));
  if (done) done(a);
}

}  // namespace mailsim::sim
