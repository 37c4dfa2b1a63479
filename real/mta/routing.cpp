// Next-hop selection by MX (RFC 5321 §5.1, RFC 7505 null MX).
#include "real/mta/routing.h"

#include <algorithm>

#include "real/mta/address.h"

namespace mailsim::mta {

bool SelfNames::is_self(std::string_view host) const {
  return std::any_of(names.begin(), names.end(), [&](const auto& n) { return same_domain(n, host); });
}

void MxShuffler::order(std::vector<MxRecord>& records) {
  std::stable_sort(records.begin(), records.end(),
                   [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  for (std::size_t start = 0; start < records.size();) {
    std::size_t end = start;
    while (end < records.size() && records[end].preference == records[start].preference) ++end;
    // Fisher–Yates over [start, end).
    for (std::size_t i = end - 1; i > start; --i) {
      std::size_t j = start + static_cast<std::size_t>(rng_() % (i - start + 1));
      std::swap(records[i], records[j]);
    }
    start = end;
  }
}

Route route_from_mx(const std::string& domain, const MxAnswer& answer, const SelfNames& self,
                    MxShuffler& shuffler, std::uint16_t port) {
  Route r;
  switch (answer.status) {
    case DnsStatus::nxdomain:
      r.kind = Route::Kind::bounce;
      r.failure = make_reply(550, "5.1.2",
                             "Host or domain name not found. Name service error for name=" + domain +
                                 " type=MX: Host not found");
      r.note = "the domain " + domain + " does not exist (NXDOMAIN)";
      return r;
    case DnsStatus::temp_fail:
      r.kind = Route::Kind::defer;
      r.failure = make_reply(451, "4.4.3",
                             "Host or domain name not found. Name service error for name=" + domain +
                                 " type=MX: Host not found, try again");
      r.note = "DNS did not answer for " + domain + "; will try again later";
      return r;
    case DnsStatus::no_data:
    case DnsStatus::ok:
      break;
  }

  std::vector<MxRecord> records;
  for (auto rec : answer.records) {
    rec.host = normalize_domain(rec.host);
    if (rec.host.empty()) {
      // RFC 7505 §3: "0 ." means the domain accepts no mail at all.
      r.kind = Route::Kind::bounce;
      r.failure = make_reply(556, "5.1.10",
                             "Recipient address rejected: Domain " + domain + " does not accept mail (nullMX)");
      r.note = domain + " publishes a null MX: it receives no mail";
      return r;
    }
    records.push_back(std::move(rec));
  }

  if (records.empty()) {
    // RFC 5321 §5.1: no MX records: the domain itself is the mail host.
    if (self.is_self(domain)) {
      r.kind = Route::Kind::bounce;
      r.loop = true;
      r.failure = make_reply(554, "5.4.6", "mail for " + domain + " loops back to myself");
      r.note = "the domain's own address is this server, which does not deliver it locally";
      return r;
    }
    r.kind = Route::Kind::remote;
    r.hops.push_back(NextHop{domain, port, 0, true, false});
    r.note = "no MX record: delivering to the domain's own address (implicit MX)";
    return r;
  }

  shuffler.order(records);

  // RFC 5321 §5.1: if we are in the list, only hosts strictly more preferred
  // than our best entry may be used.
  auto self_it = std::find_if(records.begin(), records.end(), [&](const MxRecord& m) { return self.is_self(m.host); });
  if (self_it != records.end()) {
    const auto own = self_it->preference;
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [own](const MxRecord& m) { return m.preference >= own; }),
                  records.end());
    if (records.empty()) {
      r.kind = Route::Kind::bounce;
      r.loop = true;
      r.failure = make_reply(554, "5.4.6", "mail for " + domain + " loops back to myself");
      r.note = "this server is the best MX for " + domain + " but does not deliver it locally";
      return r;
    }
    r.note = "we are MX " + std::to_string(own) + " for " + domain + ": passing on to better MX only";
  }

  r.kind = Route::Kind::remote;
  for (const auto& m : records) r.hops.push_back(NextHop{m.host, port, m.preference, false, false});
  return r;
}

Router::Router(const MtaConfig& config, Resolver& resolver)
    : config_(config), resolver_(resolver), shuffler_(config.seed) {
  self_.names.push_back(config.hostname);
  for (const auto& n : config.other_names) self_.names.push_back(n);
}

bool Router::is_local_domain(std::string_view domain) const {
  return std::any_of(config_.local_domains.begin(), config_.local_domains.end(),
                     [&](const auto& l) { return same_domain(l, domain); });
}

bool Router::is_relay_domain(std::string_view domain) const {
  return std::any_of(config_.relay_domains.begin(), config_.relay_domains.end(),
                     [&](const auto& l) { return same_domain(l, domain); });
}

void Router::route(const std::string& domain, std::function<void(Route)> done) {
  if (is_local_domain(domain)) {
    Route r;
    r.kind = Route::Kind::local;
    r.note = domain + " is a local domain: into the mailbox";
    return done(std::move(r));
  }
  // The relay host takes everything else, except domains we are backup MX
  // for: those go to their primary, found by MX.
  if (config_.relay_host && !is_relay_domain(domain)) {
    Route r;
    r.kind = Route::Kind::remote;
    r.hops.push_back(NextHop{config_.relay_host->host, config_.relay_host->port, 0, false, true});
    r.note = "all outgoing mail goes through the relay host " + config_.relay_host->host;
    return done(std::move(r));
  }
  resolver_.resolve_mx(domain, [this, domain, done = std::move(done)](MxAnswer answer) {
    done(route_from_mx(domain, answer, self_, shuffler_, config_.smtp_port));
  });
}

}  // namespace mailsim::mta
