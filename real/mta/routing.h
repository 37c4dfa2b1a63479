// Choosing the next hop for a domain (RFC 5321 §5.1): the part of an address
// after '@' is looked up in DNS as MX records; hosts are tried from the lowest
// preference number up, hosts of equal preference in random order (spreading
// load), a domain without MX is its own mail host (the "implicit MX"), a null
// MX (RFC 7505) says the domain takes no mail. A server that is itself one of
// the MX hosts (a backup MX) only ever passes mail to more preferred hosts,
// so that mail cannot go round in circles.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "real/mta/config.h"
#include "real/mta/reply.h"
#include "real/mta/services.h"

namespace mailsim::mta {

struct NextHop {
  std::string host;             // name to resolve with A, or an address literal
  std::uint16_t port = 25;
  std::uint16_t preference = 0;
  bool implicit = false;        // the domain's own address (no MX record)
  bool smart_host = false;      // the configured relay host (AUTH/TLS settings apply)
};

struct Route {
  enum class Kind {
    local,    // deliver into our mailboxes
    remote,   // try `hops` in order
    bounce,   // permanent: `failure` says why (NXDOMAIN, null MX, loop)
    defer,    // temporary: `failure` says why (DNS trouble)
  };
  Kind kind = Kind::remote;
  std::vector<NextHop> hops;
  Reply failure;       // for bounce/defer: code, enhanced status, text
  bool loop = false;   // bounce because the mail would come back to us
  std::string note;    // a sentence for the trace, e.g. "no MX record: implicit MX"
};

// Who "we" are when reading an MX list.
struct SelfNames {
  std::vector<std::string> names;  // our hostname and aliases

  bool is_self(std::string_view host) const;
};

// The deterministic generator that orders MX hosts of equal preference. Uses
// its own arithmetic (not std::shuffle) so the order is the same with every
// standard library.
class MxShuffler {
 public:
  explicit MxShuffler(std::uint64_t seed) : rng_(seed) {}
  // Sorts by preference, then shuffles each run of equal preference.
  void order(std::vector<MxRecord>& records);

 private:
  std::mt19937_64 rng_;
};

// The pure part of routing: the route for `domain` given its MX answer.
// Handles NXDOMAIN (bounce 5.1.2), temporary failure (defer 4.4.3), null MX
// (bounce 5.1.10), no MX (implicit MX: the domain itself), preference order
// with shuffling, and dropping ourselves and every host not better than us
// (bounce 5.4.6 "loops back to myself" when nothing is left).
Route route_from_mx(const std::string& domain, const MxAnswer& answer, const SelfNames& self,
                    MxShuffler& shuffler, std::uint16_t port);

// The asynchronous part: local domains, the relay host, and the MX lookup.
class Router {
 public:
  Router(const MtaConfig& config, Resolver& resolver);

  bool is_local_domain(std::string_view domain) const;
  bool is_relay_domain(std::string_view domain) const;
  const SelfNames& self() const { return self_; }

  // Calls `done` with the route for `domain` (lower-case), maybe inside the call.
  void route(const std::string& domain, std::function<void(Route)> done);

 private:
  const MtaConfig& config_;
  Resolver& resolver_;
  SelfNames self_;
  MxShuffler shuffler_;
};

}  // namespace mailsim::mta
