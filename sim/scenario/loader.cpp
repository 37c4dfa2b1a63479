// Scenario loading and validation (see loader.h). Reading happens in two
// passes: the shape of every field (types, allowed values, unknown names),
// then references between parts (links name hosts, a send comes from a
// client's user, ...). All problems are collected, not just the first.
#include "sim/scenario/loader.h"

#include "sim/engine/duration.h"
#include "sim/net/address.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace mailsim::sim {

using nlohmann::json;

// ---- tables -------------------------------------------------------------------

const std::map<std::string, std::vector<std::string>>& scenario_fields() {
  static const std::map<std::string, std::vector<std::string>> fields{
      {"scenario",
       {"$schema", "title", "title_ja", "description", "description_ja", "lesson", "seed", "start", "duration",
        "network", "hosts", "links", "dns", "timeline", "expect"}},
      {"network", {"connect_timeout", "give_up_after", "dns_timeout"}},
      {"host",
       {"name", "role", "addresses", "description", "description_ja", "local_domains", "users", "submission", "mx",
        "relay", "queue", "pop3", "imap", "user", "password", "outgoing", "fetch", "devices", "taps"}},
      {"user", {"name", "password"}},
      {"submission", {"enabled", "port", "tls", "auth"}},
      {"mx", {"enabled", "port", "tls", "dnsbl", "verify_recipients", "max_connections"}},
      {"relay", {"open_relay", "trusted_networks", "relay_host", "relay_port", "relay_domains", "outbound_tls"}},
      {"queue", {"min_backoff", "max_backoff", "lifetime", "delay_warning", "concurrency", "hop_limit"}},
      {"service", {"enabled", "port", "tls"}},
      {"outgoing", {"server", "port", "tls", "auth"}},
      {"fetch", {"protocol", "server", "port", "tls", "leave_on_server"}},
      {"link", {"a", "b", "latency", "bandwidth", "description"}},
      {"dns", {"records", "blocklists", "ttl", "negative_ttl", "auto_records", "server"}},
      {"dns_name", {"A", "MX", "TXT", "PTR", "ttl"}},
      {"mx_record", {"preference", "exchange"}},
      {"blocklist", {"zone", "listed", "reason"}},
      {"timeline_item",
       {"at", "note", "note_ja", "send", "down", "up", "link_down", "link_up", "port_down", "port_up", "fetch",
        "spam"}},
      {"send", {"from", "to", "cc", "subject", "body", "via", "headers", "size"}},
      {"host_action", {"host", "silent"}},
      {"port_action", {"host", "port"}},
      {"fetch_action", {"host", "device"}},
      {"spam", {"from", "via", "to", "count", "sender", "subject"}},
      {"expect_item",
       {"description", "delivered", "not_delivered", "bounced", "deferred", "rejected", "eavesdropper", "mailbox"}},
      {"delivered", {"to", "after", "before", "received_headers", "subject", "count"}},
      {"not_delivered", {"to", "after", "before"}},
      {"bounced", {"to", "from", "status", "after", "before"}},
      {"deferred", {"host", "times"}},
      {"count_range", {"min", "max"}},
      {"rejected", {"code", "host", "command"}},
      {"eavesdropper", {"host", "saw", "did_not_see"}},
      {"mailbox", {"user", "count", "host"}},
  };
  return fields;
}

namespace {

const std::vector<std::string> kActionKeys{"send",    "down",    "up",    "link_down", "link_up",
                                           "port_down", "port_up", "fetch", "spam"};
const std::vector<std::string> kExpectKeys{"delivered", "not_delivered", "bounced", "deferred",
                                           "rejected",  "eavesdropper",  "mailbox"};
const std::vector<std::string> kRoleNames{"client", "mta", "relay", "dns", "spammer", "eavesdropper", "router"};

std::string join(const std::vector<std::string>& items, std::string_view sep, bool quote = true) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += quote ? "\"" + items[i] + "\"" : items[i];
  }
  return out;
}

// How a value looks, for "but found ..." in messages.
std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return j.get<bool>() ? "true" : "false";
    case json::value_t::string: {
      std::string s = j.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return "\"" + s + "\"";
    }
    case json::value_t::array: return "a list";
    case json::value_t::object: return "an object";
    default: return j.dump() + " (a number)";
  }
}

bool is_address(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  if (s.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : s)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>' || c == ',') return false;
  const auto domain = s.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? "" : lower(address.substr(at + 1));
}

// ---- problem collection ------------------------------------------------------------

class Context {
 public:
  Context(std::string file, const JsonLocations& locations, std::map<std::string, std::string> overridden)
      : file_(std::move(file)), locations_(locations), overridden_(std::move(overridden)) {}

  // A problem with the value at `pointer` (or with its member name, for
  // unknown fields, when `at_key`).
  void problem(const std::string& pointer, std::string message, bool at_key = false) {
    ScenarioProblem p;
    p.file = file_;
    p.pointer = pointer;
    p.message = std::move(message);
    // A value set with --set has no place in the file: name the assignment.
    for (const auto& [prefix, origin] : overridden_) {
      if (pointer == prefix || pointer.starts_with(prefix + "/")) {
        p.origin = origin;
        break;
      }
    }
    if (p.origin.empty()) {
      std::optional<TextPosition> position;
      if (at_key) {
        const auto k = locations_.keys.find(pointer);
        if (k != locations_.keys.end()) position = k->second;
      }
      // A missing field has no place of its own: point at the object that
      // should hold it (the nearest ancestor that exists).
      for (std::string at = pointer; !position;) {
        const auto v = locations_.values.find(at);
        if (v != locations_.values.end()) {
          position = v->second;
          break;
        }
        if (at.empty()) break;
        at = at.substr(0, at.rfind('/'));
      }
      if (position) p.position = *position;
    }
    problems_.push_back(std::move(p));
  }

  std::vector<ScenarioProblem>& problems() { return problems_; }

 private:
  std::string file_;
  const JsonLocations& locations_;
  std::map<std::string, std::string> overridden_;
  std::vector<ScenarioProblem> problems_;
};

// Reads one JSON object whose allowed member names are those of `kind` in
// scenario_fields(). Unknown members are reported at once (with a
// did-you-mean); typed getters report wrong types and return nullopt.
class Obj {
 public:
  Obj(Context& ctx, const json& j, std::string pointer, const std::string& kind)
      : ctx_(ctx), j_(j), pointer_(std::move(pointer)) {
    if (!j.is_object()) {
      ctx_.problem(pointer_, "expected an object { ... } (" + kind_words(kind) + "), but found " + describe(j));
      valid_ = false;
      return;
    }
    const auto& allowed = scenario_fields().at(kind);
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string message = "unknown field \"" + key + "\" in " + kind_words(kind);
      const std::string near = did_you_mean(key, allowed);
      if (!near.empty())
        message += "; did you mean \"" + near + "\"?";
      else
        message += "; allowed fields are " + join(allowed, ", ");
      ctx_.problem(at(key), message, true);
    }
  }

  bool valid() const { return valid_; }
  const std::string& pointer() const { return pointer_; }
  std::string at(std::string_view key) const { return pointer_ + "/" + escape_pointer_token(key); }
  bool has(const std::string& key) const { return valid_ && j_.contains(key); }
  const json* get(const std::string& key) const { return has(key) ? &j_.at(key) : nullptr; }

  void require(const std::string& key, std::string_view what) {
    if (valid_ && !has(key)) ctx_.problem(pointer_, "missing field \"" + key + "\" (" + std::string(what) + ")");
  }

  std::optional<std::string> str(const std::string& key, bool nonempty = false) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      ctx_.problem(at(key), "expected text in quotes, but found " + describe(*v));
      return std::nullopt;
    }
    if (nonempty && v->get_ref<const std::string&>().empty()) {
      ctx_.problem(at(key), "must not be empty");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<bool> boolean(const std::string& key) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      ctx_.problem(at(key), "expected true or false, but found " + describe(*v));
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<std::int64_t> integer(const std::string& key, std::int64_t lo, std::int64_t hi) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return integer_value(ctx_, *v, at(key), lo, hi);
  }

  static std::optional<std::int64_t> integer_value(Context& ctx, const json& v, const std::string& pointer,
                                                   std::int64_t lo, std::int64_t hi) {
    if (!v.is_number_integer()) {
      ctx.problem(pointer, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                               ", but found " + describe(v));
      return std::nullopt;
    }
    const auto n = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                       ? INT64_MAX
                       : v.get<std::int64_t>();
    if (n < lo || n > hi) {
      ctx.problem(pointer, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                               ", but found " + v.dump());
      return std::nullopt;
    }
    return n;
  }

  std::optional<std::uint16_t> port(const std::string& key) {
    const auto n = integer(key, 1, 65535);
    if (!n) return std::nullopt;
    return static_cast<std::uint16_t>(*n);
  }

  std::optional<Time> duration(const std::string& key) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return duration_value(ctx_, *v, at(key));
  }

  static std::optional<Time> duration_value(Context& ctx, const json& v, const std::string& pointer) {
    if (v.is_string()) {
      if (auto t = parse_duration(v.get<std::string>())) return t;
    } else if (v.is_number_integer() && v.get<std::int64_t>() == 0) {
      return Time{0};
    }
    ctx.problem(pointer, "expected a duration such as \"250ms\", \"5s\", \"20m\", \"1h\" or \"5d\", but found " +
                             describe(v));
    return std::nullopt;
  }

  std::optional<std::string> choice(const std::string& key, const std::vector<std::string>& options) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return choice_value(ctx_, *v, at(key), options);
  }

  static std::optional<std::string> choice_value(Context& ctx, const json& v, const std::string& pointer,
                                                 const std::vector<std::string>& options) {
    if (v.is_string() && std::find(options.begin(), options.end(), v.get<std::string>()) != options.end())
      return v.get<std::string>();
    std::string message = "expected one of " + join(options, ", ") + ", but found " + describe(v);
    if (v.is_string()) {
      const std::string near = did_you_mean(v.get<std::string>(), options);
      if (!near.empty()) message += "; did you mean \"" + near + "\"?";
    }
    ctx.problem(pointer, message);
    return std::nullopt;
  }

  std::optional<Toggle> toggle(const std::string& key) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    // true/false read as required/off: "tls": true is what people write.
    if (v->is_boolean()) return v->get<bool>() ? Toggle::kRequired : Toggle::kOff;
    const auto c = choice(key, {"off", "optional", "required"});
    if (!c) return std::nullopt;
    return *c == "off" ? Toggle::kOff : *c == "optional" ? Toggle::kOptional : Toggle::kRequired;
  }

  std::optional<std::vector<std::string>> strings(const std::string& key, bool allow_single = false) {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (allow_single && v->is_string()) return std::vector<std::string>{v->get<std::string>()};
    if (!v->is_array()) {
      ctx_.problem(at(key), std::string("expected a list of texts like [\"a\", \"b\"]") +
                                (allow_single ? " (or one text)" : "") + ", but found " + describe(*v));
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& item = (*v)[i];
      if (!item.is_string()) {
        ctx_.problem(at(key) + "/" + std::to_string(i), "expected text in quotes, but found " + describe(item));
        ok = false;
        continue;
      }
      out.push_back(item.get<std::string>());
    }
    if (!ok) return std::nullopt;
    return out;
  }

  static std::string kind_words(const std::string& kind) {
    static const std::map<std::string, std::string> words{
        {"scenario", "the scenario"},
        {"network", "the network settings"},
        {"host", "a host"},
        {"user", "a user account"},
        {"submission", "the submission (port 587) settings"},
        {"mx", "the incoming SMTP (port 25) settings"},
        {"relay", "the relay settings"},
        {"queue", "the queue settings"},
        {"service", "the POP3/IMAP service settings"},
        {"outgoing", "the client's outgoing server settings"},
        {"fetch", "the client's fetch settings"},
        {"link", "a link"},
        {"dns", "the DNS settings"},
        {"dns_name", "the records of a DNS name"},
        {"mx_record", "an MX record"},
        {"blocklist", "a DNS blocklist"},
        {"timeline_item", "a timeline entry"},
        {"send", "a send action"},
        {"host_action", "a down/up action"},
        {"port_action", "a port action"},
        {"fetch_action", "a fetch action"},
        {"spam", "a spam action"},
        {"expect_item", "an expectation"},
        {"delivered", "a delivered expectation"},
        {"not_delivered", "a not_delivered expectation"},
        {"bounced", "a bounced expectation"},
        {"deferred", "a deferred expectation"},
        {"count_range", "a count range {min, max}"},
        {"rejected", "a rejected expectation"},
        {"eavesdropper", "an eavesdropper expectation"},
        {"mailbox", "a mailbox expectation"},
    };
    const auto it = words.find(kind);
    return it == words.end() ? kind : it->second;
  }

 private:
  Context& ctx_;
  const json& j_;
  std::string pointer_;
  bool valid_ = true;
};

// ---- pass 1: shapes ------------------------------------------------------------------

class Loader {
 public:
  Loader(Context& ctx, Scenario& out) : ctx_(ctx), out_(out) {}

  void read(const json& doc) {
    Obj top(ctx_, doc, "", "scenario");
    if (!top.valid()) return;
    top.str("$schema");
    if (auto v = top.str("title", true)) out_.title = *v;
    top.require("title", "a short name for the scenario");
    if (auto v = top.str("title_ja")) out_.title_ja = *v;
    if (auto v = top.str("description")) out_.description = *v;
    if (auto v = top.str("description_ja")) out_.description_ja = *v;
    if (auto v = top.str("lesson")) out_.lesson = *v;
    if (auto v = top.integer("seed", 0, INT64_MAX)) out_.seed = static_cast<std::uint64_t>(*v);
    if (auto v = top.str("start")) read_start(*v, top.at("start"));
    if (auto v = top.duration("duration")) out_.duration = *v;
    if (const json* n = top.get("network")) read_network(*n, top.at("network"));
    top.require("hosts", "the list of computers in this scenario");
    if (const json* h = top.get("hosts")) read_list(*h, top.at("hosts"), "hosts", [&](const json& j, const std::string& p) { read_host(j, p); });
    if (const json* l = top.get("links")) read_list(*l, top.at("links"), "links", [&](const json& j, const std::string& p) { read_link(j, p); });
    if (const json* d = top.get("dns")) read_dns(*d, top.at("dns"));
    if (const json* t = top.get("timeline"))
      read_list(*t, top.at("timeline"), "timeline", [&](const json& j, const std::string& p) { read_timeline_item(j, p); });
    if (const json* e = top.get("expect"))
      read_list(*e, top.at("expect"), "expect", [&](const json& j, const std::string& p) { read_expect_item(j, p); });
    std::stable_sort(out_.timeline.begin(), out_.timeline.end(),
                     [](const TimelineItem& a, const TimelineItem& b) { return a.at < b.at; });
  }

 private:
  template <class F>
  void read_list(const json& j, const std::string& pointer, const std::string& what, F&& each) {
    if (!j.is_array()) {
      ctx_.problem(pointer, "expected a list [ ... ] of " + what + ", but found " + describe(j));
      return;
    }
    for (std::size_t i = 0; i < j.size(); ++i) each(j[i], pointer + "/" + std::to_string(i));
  }

  void read_start(const std::string& text, const std::string& pointer) {
    // RFC 3339 in UTC, seconds precision: 2024-04-01T09:00:00Z.
    int y, mo, d, h, mi, s;
    char z = 0;
    if (text.size() != 20 || std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 ||
        z != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
      ctx_.problem(pointer, "expected a date and time in UTC like \"2024-04-01T09:00:00Z\", but found \"" + text + "\"");
      return;
    }
    // days_from_civil (H. Hinnant).
    const int yy = y - (mo <= 2);
    const int era = (yy >= 0 ? yy : yy - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(yy - era * 400);
    const unsigned doy = (153 * static_cast<unsigned>(mo + (mo > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
    out_.start = text;
    out_.start_unix = days * 86400 + h * 3600 + mi * 60 + s;
  }

  void read_network(const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "network");
    if (auto v = o.duration("connect_timeout")) out_.network.connect_timeout = *v;
    if (auto v = o.duration("give_up_after")) out_.network.give_up_after = *v;
    if (auto v = o.duration("dns_timeout")) out_.network.dns_timeout = *v;
  }

  void read_host(const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "host");
    if (!o.valid()) return;
    HostSpec h;
    h.pointer = pointer;
    o.require("name", "the host's name, e.g. \"mx.beta.example\"");
    o.require("role", "what the host does: " + join(kRoleNames, ", "));
    if (auto v = o.str("name", true)) h.name = *v;
    if (auto v = o.choice("role", kRoleNames)) {
      h.role = static_cast<HostRole>(std::find(kRoleNames.begin(), kRoleNames.end(), *v) - kRoleNames.begin());
    }
    if (auto v = o.strings("addresses")) {
      for (std::size_t i = 0; i < v->size(); ++i)
        if (!Ipv4::parse((*v)[i]))
          ctx_.problem(o.at("addresses") + "/" + std::to_string(i),
                       "expected an IPv4 address like \"10.0.0.5\", but found \"" + (*v)[i] + "\"");
      h.addresses = *v;
    }
    if (auto v = o.str("description")) h.description = *v;
    if (auto v = o.str("description_ja")) h.description_ja = *v;
    if (auto v = o.strings("local_domains")) {
      for (auto& d : *v) d = lower(d);
      h.local_domains = *v;
    }
    if (const json* users = o.get("users")) read_users(*users, o.at("users"), h);
    if (const json* s = o.get("submission")) {
      SubmissionSettings sub;
      if (s->is_boolean()) {
        sub.enabled = s->get<bool>();
      } else {
        Obj so(ctx_, *s, o.at("submission"), "submission");
        if (auto v = so.boolean("enabled")) sub.enabled = *v;
        if (auto v = so.port("port")) sub.port = *v;
        if (auto v = so.toggle("tls")) sub.tls = *v;
        if (auto v = so.toggle("auth")) sub.auth = *v;
      }
      h.submission = sub;
    }
    if (const json* m = o.get("mx")) {
      Obj mo(ctx_, *m, o.at("mx"), "mx");
      if (auto v = mo.boolean("enabled")) h.mx.enabled = *v;
      if (auto v = mo.port("port")) h.mx.port = *v;
      if (auto v = mo.toggle("tls")) h.mx.tls = *v;
      if (auto v = mo.strings("dnsbl", true)) h.mx.dnsbl = *v;
      if (auto v = mo.boolean("verify_recipients")) h.mx.verify_recipients = *v;
      if (auto v = mo.integer("max_connections", 0, 100000)) h.mx.max_connections = static_cast<int>(*v);
    }
    if (const json* r = o.get("relay")) {
      Obj ro(ctx_, *r, o.at("relay"), "relay");
      if (auto v = ro.boolean("open_relay")) h.relay.open_relay = *v;
      if (auto v = ro.strings("trusted_networks", true)) {
        for (std::size_t i = 0; i < v->size(); ++i)
          if (!Cidr::parse((*v)[i]))
            ctx_.problem(ro.at("trusted_networks") + "/" + std::to_string(i),
                         "expected a network like \"10.0.0.0/24\" or an address, but found \"" + (*v)[i] + "\"");
        h.relay.trusted_networks = *v;
      }
      if (auto v = ro.str("relay_host")) h.relay.relay_host = *v;
      if (auto v = ro.port("relay_port")) h.relay.relay_port = *v;
      if (auto v = ro.strings("relay_domains", true)) {
        for (auto& d : *v) d = lower(d);
        h.relay.relay_domains = *v;
      }
      if (auto v = ro.toggle("outbound_tls")) h.relay.outbound_tls = *v;
    }
    if (const json* q = o.get("queue")) {
      Obj qo(ctx_, *q, o.at("queue"), "queue");
      if (auto v = qo.duration("min_backoff")) h.queue.min_backoff = *v;
      if (auto v = qo.duration("max_backoff")) h.queue.max_backoff = *v;
      if (auto v = qo.duration("lifetime")) h.queue.lifetime = *v;
      if (auto v = qo.duration("delay_warning")) h.queue.delay_warning = *v;
      if (auto v = qo.integer("concurrency", 1, 1000)) h.queue.concurrency = static_cast<int>(*v);
      if (auto v = qo.integer("hop_limit", 1, 1000)) h.queue.hop_limit = static_cast<int>(*v);
      if (h.queue.min_backoff > h.queue.max_backoff)
        ctx_.problem(qo.at("min_backoff"), "min_backoff (" + format_duration(h.queue.min_backoff) +
                                               ") must not be longer than max_backoff (" +
                                               format_duration(h.queue.max_backoff) + ")");
    }
    for (const char* name : {"pop3", "imap"}) {
      const json* sj = o.get(name);
      if (sj == nullptr) continue;
      ServiceSettings svc;
      svc.port = std::string(name) == "pop3" ? 110 : 143;
      if (sj->is_boolean()) {
        svc.enabled = sj->get<bool>();
      } else {
        Obj so(ctx_, *sj, o.at(name), "service");
        if (auto v = so.boolean("enabled")) svc.enabled = *v;
        if (auto v = so.port("port")) svc.port = *v;
        if (auto v = so.toggle("tls")) svc.tls = *v;
      }
      (std::string(name) == "pop3" ? h.pop3 : h.imap) = svc;
    }
    if (auto v = o.str("user")) {
      if (!is_address(*v))
        ctx_.problem(o.at("user"), "expected an e-mail address like \"alice@alpha.example\", but found \"" + *v + "\"");
      h.user = lower(*v);
    }
    if (auto v = o.str("password")) h.password = *v;
    if (const json* og = o.get("outgoing")) {
      if (og->is_string()) {
        h.outgoing.server = og->get<std::string>();
      } else {
        Obj oo(ctx_, *og, o.at("outgoing"), "outgoing");
        if (auto v = oo.str("server")) h.outgoing.server = *v;
        if (auto v = oo.port("port")) h.outgoing.port = *v;
        if (auto v = oo.toggle("tls")) h.outgoing.tls = *v;
        if (auto v = oo.boolean("auth")) h.outgoing.auth = *v;
      }
    }
    if (const json* f = o.get("fetch")) {
      FetchSettings fs;
      const std::vector<std::string> protocols{"pop3", "imap"};
      if (f->is_string()) {
        if (auto p = Obj::choice_value(ctx_, *f, o.at("fetch"), protocols))
          fs.protocol = *p == "pop3" ? FetchProtocol::kPop3 : FetchProtocol::kImap;
      } else {
        Obj fo(ctx_, *f, o.at("fetch"), "fetch");
        if (auto p = fo.choice("protocol", protocols))
          fs.protocol = *p == "pop3" ? FetchProtocol::kPop3 : FetchProtocol::kImap;
        if (auto v = fo.str("server")) fs.server = *v;
        if (auto v = fo.port("port")) fs.port = *v;
        if (auto v = fo.toggle("tls")) fs.tls = *v;
        if (auto v = fo.boolean("leave_on_server")) fs.leave_on_server = *v;
      }
      if (fs.port == 0) fs.port = fs.protocol == FetchProtocol::kPop3 ? 110 : 143;
      h.fetch = fs;
    }
    if (auto v = o.strings("devices")) h.devices = *v;
    if (const json* t = o.get("taps")) read_taps(*t, o.at("taps"), h);
    out_.hosts.push_back(std::move(h));
  }

  void read_users(const json& j, const std::string& pointer, HostSpec& h) {
    if (!j.is_array()) {
      ctx_.problem(pointer, "expected a list of users like [\"bob\", {\"name\": \"carol\", \"password\": \"pw\"}], but found " +
                                describe(j));
      return;
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string p = pointer + "/" + std::to_string(i);
      UserAccount u;
      if (j[i].is_string()) {
        u.name = j[i].get<std::string>();
      } else {
        Obj uo(ctx_, j[i], p, "user");
        if (!uo.valid()) continue;
        uo.require("name", "the user's name, e.g. \"bob\"");
        if (auto v = uo.str("name", true)) u.name = *v;
        if (auto v = uo.str("password")) u.password = *v;
      }
      if (u.name.empty() || u.name.find_first_of(" \t<>") != std::string::npos)
        ctx_.problem(p, "expected a user name like \"bob\" or an address like \"bob@beta.example\"");
      u.name = lower(u.name);
      h.users.push_back(u);
    }
  }

  void read_taps(const json& j, const std::string& pointer, HostSpec& h) {
    if (!j.is_array()) {
      ctx_.problem(pointer, "expected a list of links like [[\"mail.alpha.example\", \"mx.beta.example\"]], but found " +
                                describe(j));
      return;
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      const json& t = j[i];
      if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_string()) {
        ctx_.problem(pointer + "/" + std::to_string(i),
                     "expected a link as two host names like [\"a\", \"b\"], but found " + describe(t));
        continue;
      }
      h.taps.push_back({t[0].get<std::string>(), t[1].get<std::string>()});
    }
  }

  void read_link(const json& j, const std::string& pointer) {
    LinkSpec l;
    l.pointer = pointer;
    if (j.is_array()) {
      if (j.size() < 2 || j.size() > 4) {
        ctx_.problem(pointer, "expected a link like [\"host-a\", \"host-b\", \"5ms\"] (optionally a bandwidth "
                              "after the latency), but found a list of " + std::to_string(j.size()) + " items");
        return;
      }
      for (std::size_t i = 0; i < 2; ++i) {
        if (!j[i].is_string()) {
          ctx_.problem(pointer + "/" + std::to_string(i), "expected a host name, but found " + describe(j[i]));
          return;
        }
      }
      l.a = j[0].get<std::string>();
      l.b = j[1].get<std::string>();
      if (j.size() >= 3)
        if (auto t = Obj::duration_value(ctx_, j[2], pointer + "/2")) l.latency = *t;
      if (j.size() == 4) read_bandwidth(j[3], pointer + "/3", l);
    } else {
      Obj o(ctx_, j, pointer, "link");
      if (!o.valid()) return;
      o.require("a", "the host at one end");
      o.require("b", "the host at the other end");
      if (auto v = o.str("a", true)) l.a = *v;
      if (auto v = o.str("b", true)) l.b = *v;
      if (auto v = o.duration("latency")) l.latency = *v;
      if (const json* bw = o.get("bandwidth")) read_bandwidth(*bw, o.at("bandwidth"), l);
      if (auto v = o.str("description")) l.description = *v;
    }
    out_.links.push_back(std::move(l));
  }

  void read_bandwidth(const json& j, const std::string& pointer, LinkSpec& l) {
    std::optional<std::uint64_t> bw;
    if (j.is_number_unsigned()) bw = j.get<std::uint64_t>();
    if (j.is_string()) bw = parse_bandwidth(j.get<std::string>());
    if (!bw || *bw == 0) {
      ctx_.problem(pointer, "expected a bandwidth like \"10Mbit\", \"1Gbps\", \"56kbps\" or a number of bits per "
                            "second, but found " + describe(j));
      return;
    }
    l.bandwidth_bps = *bw;
  }

  void read_dns(const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "dns");
    if (!o.valid()) return;
    if (auto v = o.integer("ttl", 0, 604800)) out_.dns.ttl = static_cast<std::uint32_t>(*v);
    if (auto v = o.integer("negative_ttl", 0, 604800)) out_.dns.negative_ttl = static_cast<std::uint32_t>(*v);
    if (auto v = o.boolean("auto_records")) out_.dns.auto_records = *v;
    if (auto v = o.str("server")) out_.dns.server = *v;
    if (const json* r = o.get("records")) {
      if (!r->is_object()) {
        ctx_.problem(o.at("records"), "expected an object mapping DNS names to their records, like "
                                      "{\"beta.example\": {\"MX\": [[10, \"mx.beta.example\"]]}}, but found " + describe(*r));
      } else {
        for (const auto& [name, records] : r->items()) read_dns_name(name, records, o.at("records") + "/" + escape_pointer_token(name));
      }
    }
    if (const json* b = o.get("blocklists")) {
      read_list(*b, o.at("blocklists"), "blocklists", [&](const json& bj, const std::string& p) {
        Obj bo(ctx_, bj, p, "blocklist");
        if (!bo.valid()) return;
        BlocklistSpec bl;
        bo.require("zone", "the blocklist's DNS zone, e.g. \"bl.example\"");
        if (auto v = bo.str("zone", true)) bl.zone = lower(*v);
        if (auto v = bo.strings("listed")) bl.listed = *v;
        if (auto v = bo.str("reason")) bl.reason = *v;
        out_.dns.blocklists.push_back(bl);
      });
    }
  }

  void read_dns_name(const std::string& name, const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "dns_name");
    if (!o.valid()) return;
    DnsNameSpec n;
    n.name = lower(name);
    n.pointer = pointer;
    if (auto v = o.strings("A", true)) {
      for (std::size_t i = 0; i < v->size(); ++i)
        if (!Ipv4::parse((*v)[i]))
          ctx_.problem(o.at("A") + "/" + std::to_string(i),
                       "expected an IPv4 address like \"10.0.0.5\", but found \"" + (*v)[i] + "\"");
      n.a = *v;
    }
    if (auto v = o.strings("TXT", true)) n.txt = *v;
    if (auto v = o.strings("PTR", true)) n.ptr = *v;
    if (auto v = o.integer("ttl", 0, 604800)) n.ttl = static_cast<std::uint32_t>(*v);
    if (const json* mx = o.get("MX")) {
      const std::string mp = o.at("MX");
      if (!mx->is_array()) {
        ctx_.problem(mp, "expected a list of MX records like [[10, \"mx.beta.example\"]], but found " + describe(*mx));
      } else {
        for (std::size_t i = 0; i < mx->size(); ++i) {
          const json& r = (*mx)[i];
          const std::string rp = mp + "/" + std::to_string(i);
          MxSpec m;
          if (r.is_array()) {
            if (r.size() != 2 || !r[1].is_string()) {
              ctx_.problem(rp, "expected an MX record as [preference, host] like [10, \"mx.beta.example\"], but found " + describe(r));
              continue;
            }
            auto pref = Obj::integer_value(ctx_, r[0], rp + "/0", 0, 65535);
            if (!pref) continue;
            m.preference = static_cast<int>(*pref);
            m.exchange = lower(r[1].get<std::string>());
          } else {
            Obj ro(ctx_, r, rp, "mx_record");
            if (!ro.valid()) continue;
            ro.require("exchange", "the mail server's host name, or \".\" for \"this domain takes no mail\"");
            if (auto v = ro.integer("preference", 0, 65535)) m.preference = static_cast<int>(*v);
            if (auto v = ro.str("exchange", true)) m.exchange = lower(*v);
          }
          n.mx.push_back(m);
        }
      }
    }
    out_.dns.names.push_back(std::move(n));
  }

  void read_timeline_item(const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "timeline_item");
    if (!o.valid()) return;
    TimelineItem item;
    item.pointer = pointer;
    o.require("at", "when it happens, e.g. \"1s\" or \"20m\"");
    if (auto v = o.duration("at")) item.at = *v;
    if (auto v = o.str("note")) item.note = *v;
    if (auto v = o.str("note_ja")) item.note_ja = *v;
    std::vector<std::string> present;
    for (const auto& k : kActionKeys)
      if (o.has(k)) present.push_back(k);
    if (present.size() > 1) {
      ctx_.problem(pointer, "a timeline entry does one thing, but this one has " + join(present, " and ") +
                                "; split it into entries with the same \"at\"");
      return;
    }
    if (present.empty()) {
      if (item.note.empty()) {
        ctx_.problem(pointer, "a timeline entry needs an action: one of " + join(kActionKeys, ", ") +
                                  " (or just a \"note\")");
        return;
      }
      item.action = NoteAction{item.note, item.note_ja};
      out_.timeline.push_back(std::move(item));
      return;
    }
    const std::string key = present.front();
    const json& a = *o.get(key);
    const std::string ap = o.at(key);
    bool ok = true;
    if (key == "send") {
      ok = read_send(a, ap, item);
    } else if (key == "down" || key == "up") {
      HostAction h;
      h.up = key == "up";
      if (a.is_string()) {
        h.host = a.get<std::string>();
      } else {
        Obj ho(ctx_, a, ap, "host_action");
        ok = ho.valid();
        if (ok) {
          ho.require("host", "the host that goes " + key);
          if (auto v = ho.str("host", true)) h.host = *v;
          if (auto v = ho.boolean("silent")) h.silent = *v;
        }
      }
      item.action = h;
    } else if (key == "link_down" || key == "link_up") {
      LinkAction l;
      l.up = key == "link_up";
      if (!a.is_array() || a.size() != 2 || !a[0].is_string() || !a[1].is_string()) {
        ctx_.problem(ap, "expected the link as two host names like [\"a\", \"b\"], but found " + describe(a));
        ok = false;
      } else {
        l.a = a[0].get<std::string>();
        l.b = a[1].get<std::string>();
      }
      item.action = l;
    } else if (key == "port_down" || key == "port_up") {
      PortAction pa;
      pa.up = key == "port_up";
      Obj po(ctx_, a, ap, "port_action");
      ok = po.valid();
      if (ok) {
        po.require("host", "the host whose port closes or opens");
        po.require("port", "the port number, e.g. 25");
        if (auto v = po.str("host", true)) pa.host = *v;
        if (auto v = po.port("port")) pa.port = *v;
      }
      item.action = pa;
    } else if (key == "fetch") {
      FetchAction f;
      if (a.is_string()) {
        f.host = a.get<std::string>();
      } else {
        Obj fo(ctx_, a, ap, "fetch_action");
        ok = fo.valid();
        if (ok) {
          fo.require("host", "the client that collects its mail");
          if (auto v = fo.str("host", true)) f.host = *v;
          if (auto v = fo.str("device")) f.device = *v;
        }
      }
      item.action = f;
    } else if (key == "spam") {
      SpamAction s;
      Obj so(ctx_, a, ap, "spam");
      ok = so.valid();
      if (ok) {
        so.require("from", "the spammer host");
        so.require("to", "the addresses to spam");
        if (auto v = so.str("from", true)) s.from = *v;
        if (auto v = so.str("via")) s.via = *v;
        if (auto v = so.strings("to", true)) s.to = *v;
        if (auto v = so.integer("count", 1, 10000)) s.count = static_cast<int>(*v);
        if (auto v = so.str("sender")) s.sender = *v;
        if (auto v = so.str("subject")) s.subject = *v;
      }
      item.action = s;
    }
    if (ok) out_.timeline.push_back(std::move(item));
  }

  bool read_send(const json& j, const std::string& pointer, TimelineItem& item) {
    Obj o(ctx_, j, pointer, "send");
    if (!o.valid()) return false;
    SendAction s;
    o.require("from", "the sender's address");
    o.require("to", "the recipients' addresses");
    if (auto v = o.str("from", true)) s.from = lower(*v);
    if (auto v = o.strings("to", true)) s.to = *v;
    if (auto v = o.strings("cc", true)) s.cc = *v;
    if (auto v = o.str("subject")) s.subject = *v;
    if (auto v = o.str("body")) s.body = *v;
    if (auto v = o.str("via")) s.via = *v;
    if (auto v = o.integer("size", 0, 50 * 1024 * 1024)) s.size = static_cast<std::size_t>(*v);
    if (const json* hdr = o.get("headers")) {
      if (!hdr->is_object()) {
        ctx_.problem(o.at("headers"), "expected header fields as an object like {\"X-Priority\": \"1\"}, but found " + describe(*hdr));
      } else {
        for (const auto& [name, value] : hdr->items()) {
          if (!value.is_string()) {
            ctx_.problem(o.at("headers") + "/" + escape_pointer_token(name), "expected text in quotes, but found " + describe(value));
            continue;
          }
          s.headers.emplace_back(name, value.get<std::string>());
        }
      }
    }
    if (!s.from.empty() && !is_address(s.from))
      ctx_.problem(o.at("from"), "expected an e-mail address like \"alice@alpha.example\", but found \"" + s.from + "\"");
    for (const char* field : {"to", "cc"}) {
      const auto& list = std::string(field) == "to" ? s.to : s.cc;
      for (std::size_t i = 0; i < list.size(); ++i)
        if (!is_address(list[i]))
          ctx_.problem(o.get(field)->is_array() ? o.at(field) + "/" + std::to_string(i) : o.at(field),
                       "expected an e-mail address like \"bob@beta.example\", but found \"" + list[i] + "\"");
    }
    if (o.has("to") && s.to.empty() && o.get("to")->is_array()) ctx_.problem(o.at("to"), "a letter needs at least one recipient");
    item.action = s;
    return true;
  }

  void read_expect_item(const json& j, const std::string& pointer) {
    Obj o(ctx_, j, pointer, "expect_item");
    if (!o.valid()) return;
    ExpectItem item;
    item.pointer = pointer;
    if (auto v = o.str("description")) item.description = *v;
    std::vector<std::string> present;
    for (const auto& k : kExpectKeys)
      if (o.has(k)) present.push_back(k);
    if (present.size() != 1) {
      ctx_.problem(pointer, present.empty() ? "an expectation needs one of " + join(kExpectKeys, ", ")
                                            : "an expectation states one thing, but this one has " + join(present, " and "));
      return;
    }
    const std::string key = present.front();
    Obj e(ctx_, *o.get(key), o.at(key), key);
    if (!e.valid()) return;
    auto window = [&](TimeWindow& w) {
      if (auto v = e.duration("after")) w.after = *v;
      if (auto v = e.duration("before")) w.before = *v;
    };
    auto address = [&](const std::string& field, std::string& out, bool required) {
      if (required) e.require(field, "an e-mail address");
      if (auto v = e.str(field)) {
        if (!is_address(*v))
          ctx_.problem(e.at(field), "expected an e-mail address like \"bob@beta.example\", but found \"" + *v + "\"");
        out = lower(*v);
      }
    };
    if (key == "delivered") {
      ExpectDelivered d;
      address("to", d.to, true);
      window(d.when);
      if (auto v = e.integer("received_headers", 0, 100)) d.received_headers = static_cast<int>(*v);
      if (auto v = e.str("subject")) d.subject = *v;
      if (auto v = e.integer("count", 0, 100000)) d.count = static_cast<int>(*v);
      item.expectation = d;
    } else if (key == "not_delivered") {
      ExpectNotDelivered d;
      address("to", d.to, true);
      window(d.when);
      item.expectation = d;
    } else if (key == "bounced") {
      ExpectBounced b;
      address("to", b.to, false);
      address("from", b.from, false);
      if (auto v = e.str("status")) {
        bool ok = !v->empty() && ((*v)[0] == '4' || (*v)[0] == '5');
        for (char c : *v) ok = ok && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
        if (!ok) ctx_.problem(e.at("status"), "expected an enhanced status code like \"5.1.1\" (or a prefix like \"5.\"), but found \"" + *v + "\"");
        b.status = *v;
      }
      window(b.when);
      item.expectation = b;
    } else if (key == "deferred") {
      ExpectDeferred d;
      e.require("host", "the mail server that keeps the letter and retries");
      if (auto v = e.str("host", true)) d.host = *v;
      if (const json* t = e.get("times")) {
        if (t->is_number_integer()) {
          d.min = d.max = static_cast<int>(t->get<std::int64_t>());
        } else {
          Obj to(ctx_, *t, e.at("times"), "count_range");
          if (auto v = to.integer("min", 0, 100000)) d.min = static_cast<int>(*v);
          if (auto v = to.integer("max", 0, 100000)) d.max = static_cast<int>(*v);
        }
      }
      item.expectation = d;
    } else if (key == "rejected") {
      ExpectRejected r;
      e.require("code", "the SMTP reply code, e.g. \"554\" or \"5xx\"");
      if (const json* c = e.get("code")) {
        std::string code = c->is_number_integer() ? std::to_string(c->get<std::int64_t>()) : c->is_string() ? c->get<std::string>() : "";
        const bool ok = code.size() == 3 && (code[0] == '4' || code[0] == '5') &&
                        ((std::isdigit(static_cast<unsigned char>(code[1])) && std::isdigit(static_cast<unsigned char>(code[2]))) ||
                         code.substr(1) == "xx");
        if (!ok) ctx_.problem(e.at("code"), "expected a reply code like 554, \"550\" or \"5xx\", but found " + describe(*c));
        r.code = code;
      }
      if (auto v = e.str("host")) r.host = *v;
      if (auto v = e.str("command")) r.command = *v;
      item.expectation = r;
    } else if (key == "eavesdropper") {
      ExpectEavesdropper ev;
      if (auto v = e.str("host")) ev.host = *v;
      if (auto v = e.str("saw", true)) ev.saw = *v;
      if (auto v = e.str("did_not_see", true)) ev.did_not_see = *v;
      if (!e.has("saw") && !e.has("did_not_see"))
        ctx_.problem(e.pointer(), "say what the eavesdropper \"saw\" or \"did_not_see\"");
      item.expectation = ev;
    } else if (key == "mailbox") {
      ExpectMailbox m;
      address("user", m.user, true);
      e.require("count", "how many messages the mailbox holds at the end");
      if (auto v = e.integer("count", 0, 100000)) m.count = static_cast<int>(*v);
      if (auto v = e.str("host")) m.host = *v;
      item.expectation = m;
    }
    out_.expect.push_back(std::move(item));
  }

  Context& ctx_;
  Scenario& out_;
};

// ---- pass 2: references -----------------------------------------------------------------

class References {
 public:
  References(Context& ctx, const Scenario& s) : ctx_(ctx), s_(s) {
    for (const auto& h : s.hosts) names_.push_back(h.name);
  }

  void check() {
    check_hosts();
    check_links();
    check_dns();
    check_timeline();
    check_expect();
  }

 private:
  const HostSpec* host(const std::string& name, const std::string& pointer, std::string_view what = "host") {
    if (name.empty()) return nullptr;
    if (const HostSpec* h = s_.find_host(name)) return h;
    std::string message = "there is no " + std::string(what) + " named \"" + name + "\"";
    const std::string near = did_you_mean(name, names_);
    if (!near.empty())
      message += "; did you mean \"" + near + "\"?";
    else if (!names_.empty())
      message += "; the hosts are " + join(names_, ", ");
    ctx_.problem(pointer, message);
    return nullptr;
  }

  bool has_link(const std::string& a, const std::string& b) const {
    return std::any_of(s_.links.begin(), s_.links.end(),
                       [&](const LinkSpec& l) { return (l.a == a && l.b == b) || (l.a == b && l.b == a); });
  }

  static bool is_server(const HostSpec& h) { return h.role == HostRole::kMta || h.role == HostRole::kRelay; }

  // The mail server whose local_domains hold `domain`.
  const HostSpec* server_for(const std::string& domain) const {
    for (const auto& h : s_.hosts)
      if (is_server(h) && std::find(h.local_domains.begin(), h.local_domains.end(), domain) != h.local_domains.end())
        return &h;
    return nullptr;
  }

  void check_hosts() {
    std::map<std::string, std::string> seen_names, seen_addresses;
    for (const auto& h : s_.hosts) {
      if (!h.name.empty() && !seen_names.emplace(h.name, h.pointer).second)
        ctx_.problem(h.pointer + "/name", "another host (" + seen_names[h.name] + ") already has the name \"" + h.name + "\"");
      for (std::size_t i = 0; i < h.addresses.size(); ++i) {
        const std::string p = h.pointer + "/addresses/" + std::to_string(i);
        if (Ipv4::parse(h.addresses[i]) && !seen_addresses.emplace(h.addresses[i], p).second)
          ctx_.problem(p, "the address " + h.addresses[i] + " is already used at " + seen_addresses[h.addresses[i]]);
      }
      if (is_server(h)) {
        if (!h.users.empty() && h.local_domains.empty())
          ctx_.problem(h.pointer + "/users", "a mail server with users needs \"local_domains\" (the domains its mailboxes belong to)");
        if (!h.relay.relay_host.empty()) host(h.relay.relay_host, h.pointer + "/relay/relay_host", "relay host");
        for (std::size_t i = 0; i < h.mx.dnsbl.size(); ++i) {
          const bool known = std::any_of(s_.dns.blocklists.begin(), s_.dns.blocklists.end(),
                                         [&](const BlocklistSpec& b) { return b.zone == lower(h.mx.dnsbl[i]); });
          if (!known) {
            std::vector<std::string> zones;
            for (const auto& b : s_.dns.blocklists) zones.push_back(b.zone);
            std::string message = "no DNS blocklist has the zone \"" + h.mx.dnsbl[i] + "\"";
            const std::string near = did_you_mean(h.mx.dnsbl[i], zones);
            message += near.empty() ? "; define it in dns.blocklists" : "; did you mean \"" + near + "\"?";
            ctx_.problem(h.pointer + "/mx/dnsbl" + (h.mx.dnsbl.size() > 1 ? "/" + std::to_string(i) : ""), message);
          }
        }
      }
      if (h.role == HostRole::kClient) check_client(h);
      if (h.role == HostRole::kEavesdropper && h.taps.empty())
        ctx_.problem(h.pointer, "an eavesdropper needs \"taps\": the links it listens on, like [[\"a\", \"b\"]]");
      for (std::size_t i = 0; i < h.taps.size(); ++i) {
        const std::string p = h.pointer + "/taps/" + std::to_string(i);
        const bool a = host(h.taps[i][0], p + "/0") != nullptr;
        const bool b = host(h.taps[i][1], p + "/1") != nullptr;
        if (a && b && !has_link(h.taps[i][0], h.taps[i][1]))
          ctx_.problem(p, "there is no link between \"" + h.taps[i][0] + "\" and \"" + h.taps[i][1] + "\" to tap");
      }
    }
  }

  void check_client(const HostSpec& h) {
    if (h.user.empty()) {
      ctx_.problem(h.pointer, "missing field \"user\" (the address of the person using this computer, e.g. \"alice@alpha.example\")");
      return;
    }
    const std::string domain = domain_of(h.user);
    auto check_server = [&](const std::string& name, const std::string& pointer, const char* what) {
      if (name.empty()) {
        if (server_for(domain) == nullptr)
          ctx_.problem(h.pointer, std::string("no mail server has \"") + domain + "\" in its local_domains, so " + h.name +
                                      " does not know its " + what + " server; add the domain to a server or set \"" +
                                      (std::string(what) == "outgoing" ? "outgoing" : "fetch") + "\" with a \"server\"");
        return;
      }
      if (const HostSpec* srv = host(name, pointer, "mail server"); srv != nullptr && !is_server(*srv))
        ctx_.problem(pointer, "\"" + name + "\" is a " + std::string(role_name(srv->role)) + ", not a mail server (role mta or relay)");
    };
    check_server(h.outgoing.server, h.pointer + "/outgoing/server", "outgoing");
    if (h.fetch) check_server(h.fetch->server, h.pointer + "/fetch/server", "incoming");
  }

  void check_links() {
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& l : s_.links) {
      const bool a = host(l.a, l.pointer + (l.pointer.empty() ? "" : "/0")) != nullptr;
      const bool b = host(l.b, l.pointer + "/1") != nullptr;
      if (!a || !b) continue;
      if (l.a == l.b) ctx_.problem(l.pointer, "a link joins two different hosts, but both ends are \"" + l.a + "\"");
      if (!seen.insert(std::minmax(l.a, l.b)).second)
        ctx_.problem(l.pointer, "\"" + l.a + "\" and \"" + l.b + "\" are already linked");
    }
  }

  void check_dns() {
    if (!s_.dns.server.empty()) {
      if (const HostSpec* h = host(s_.dns.server, "/dns/server"); h != nullptr && h->role != HostRole::kDns)
        ctx_.problem("/dns/server", "\"" + h->name + "\" has role " + std::string(role_name(h->role)) + ", not dns");
    }
    for (std::size_t i = 0; i < s_.dns.blocklists.size(); ++i) {
      const auto& bl = s_.dns.blocklists[i];
      for (std::size_t k = 0; k < bl.listed.size(); ++k)
        if (!Cidr::parse(bl.listed[k]) && s_.find_host(bl.listed[k]) == nullptr)
          ctx_.problem("/dns/blocklists/" + std::to_string(i) + "/listed/" + std::to_string(k),
                       "expected an address, a network like \"10.0.0.0/24\", or a host name, but found \"" +
                           bl.listed[k] + "\"");
    }
  }

  // The client host that sends as `address`, if any.
  const HostSpec* client_of(const std::string& address) const {
    for (const auto& h : s_.hosts)
      if (h.role == HostRole::kClient && h.user == address) return &h;
    return nullptr;
  }

  void check_timeline() {
    for (const auto& item : s_.timeline) {
      const std::string& p = item.pointer;
      std::visit(
          [&](const auto& a) {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, SendAction>) {
              const std::string sp = p + "/send";
              if (!a.via.empty()) {
                if (const HostSpec* v = host(a.via, sp + "/via"); v != nullptr && v->role != HostRole::kClient)
                  ctx_.problem(sp + "/via", "\"" + a.via + "\" is a " + std::string(role_name(v->role)) +
                                                ", but letters are written on a client");
              } else if (!a.from.empty() && client_of(a.from) == nullptr) {
                std::vector<std::string> users;
                for (const auto& h : s_.hosts)
                  if (h.role == HostRole::kClient && !h.user.empty()) users.push_back(h.user);
                std::string message = "no client has the user \"" + a.from + "\"";
                const std::string near = did_you_mean(a.from, users);
                if (!near.empty())
                  message += "; did you mean \"" + near + "\"?";
                else
                  message += users.empty() ? "; add a host with role client and this \"user\""
                                           : "; the clients' users are " + join(users, ", ") + " (or set \"via\")";
                ctx_.problem(sp + "/from", message);
              }
            } else if constexpr (std::is_same_v<A, HostAction>) {
              host(a.host, p + (a.up ? "/up" : "/down"));
            } else if constexpr (std::is_same_v<A, LinkAction>) {
              const std::string lp = p + (a.up ? "/link_up" : "/link_down");
              if (host(a.a, lp + "/0") && host(a.b, lp + "/1") && !has_link(a.a, a.b))
                ctx_.problem(lp, "there is no link between \"" + a.a + "\" and \"" + a.b + "\"");
            } else if constexpr (std::is_same_v<A, PortAction>) {
              host(a.host, p + (a.up ? "/port_up" : "/port_down") + "/host");
            } else if constexpr (std::is_same_v<A, FetchAction>) {
              const HostSpec* h = host(a.host, p + "/fetch", "client");
              if (h == nullptr) return;
              if (h->role != HostRole::kClient) {
                ctx_.problem(p + "/fetch", "\"" + a.host + "\" is a " + std::string(role_name(h->role)) + "; only clients fetch mail");
              } else if (!h->fetch) {
                ctx_.problem(p + "/fetch", "\"" + a.host + "\" has no \"fetch\" setting (\"pop3\" or \"imap\")");
              } else if (!a.device.empty() &&
                         std::find(h->devices.begin(), h->devices.end(), a.device) == h->devices.end()) {
                std::string message = "\"" + a.host + "\" has no device \"" + a.device + "\"";
                const std::string near = did_you_mean(a.device, h->devices);
                if (!near.empty()) message += "; did you mean \"" + near + "\"?";
                ctx_.problem(p + "/fetch/device", message);
              }
            } else if constexpr (std::is_same_v<A, SpamAction>) {
              if (const HostSpec* h = host(a.from, p + "/spam/from"); h != nullptr && h->role != HostRole::kSpammer)
                ctx_.problem(p + "/spam/from", "\"" + a.from + "\" has role " + std::string(role_name(h->role)) + ", not spammer");
              if (!a.via.empty()) host(a.via, p + "/spam/via");
              for (std::size_t i = 0; i < a.to.size(); ++i)
                if (!is_address(a.to[i]))
                  ctx_.problem(p + "/spam/to/" + std::to_string(i), "expected an e-mail address, but found \"" + a.to[i] + "\"");
            }
          },
          item.action);
    }
  }

  void check_expect() {
    for (const auto& item : s_.expect) {
      std::visit(
          [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, ExpectDeferred>) {
              if (const HostSpec* h = host(e.host, item.pointer + "/deferred/host"); h != nullptr && !is_server(*h))
                ctx_.problem(item.pointer + "/deferred/host", "\"" + e.host + "\" is not a mail server; only mail servers keep a queue");
            } else if constexpr (std::is_same_v<E, ExpectEavesdropper>) {
              if (!e.host.empty()) {
                if (const HostSpec* h = host(e.host, item.pointer + "/eavesdropper/host");
                    h != nullptr && h->role != HostRole::kEavesdropper)
                  ctx_.problem(item.pointer + "/eavesdropper/host", "\"" + e.host + "\" is not an eavesdropper");
              } else if (std::none_of(s_.hosts.begin(), s_.hosts.end(),
                                      [](const HostSpec& h) { return h.role == HostRole::kEavesdropper; })) {
                ctx_.problem(item.pointer + "/eavesdropper", "this scenario has no host with role eavesdropper");
              }
            } else if constexpr (std::is_same_v<E, ExpectRejected> || std::is_same_v<E, ExpectMailbox>) {
              if (!e.host.empty()) host(e.host, item.pointer + "/" + std::string(expectation_name(item.expectation)) + "/host");
            }
          },
          item.expectation);
    }
  }

  Context& ctx_;
  const Scenario& s_;
  std::vector<std::string> names_;
};

// Splits an override path at dots; [brackets] keep a name with dots whole:
// dns.records[beta.example].MX.
std::vector<std::string> split_path(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  bool bracketed = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (bracketed) {
      if (c == ']') {
        bracketed = false;
        out.push_back(current);
        current.clear();
        if (i + 1 < text.size() && text[i + 1] == '.') ++i;
      } else {
        current += c;
      }
    } else if (c == '[') {
      if (!current.empty()) out.push_back(current);
      current.clear();
      bracketed = true;
    } else if (c == '.') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (bracketed) throw std::invalid_argument("a \"[\" in the path has no closing \"]\"");
  if (!current.empty() || text.empty() || text.back() == '.') out.push_back(current);
  return out;
}

}  // namespace

// ---- public functions ------------------------------------------------------------------------

std::string ScenarioProblem::str() const {
  std::string out = file.empty() ? "<scenario>" : file;
  if (position.line > 0) out += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
  out += ": ";
  if (!origin.empty()) out += "(" + origin + ") ";
  if (!pointer.empty()) out += pointer + ": ";
  return out + message;
}

namespace {
std::string format_problems(const std::vector<ScenarioProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "\n";
    out += p.str();
  }
  return out;
}
}  // namespace

ScenarioError::ScenarioError(std::vector<ScenarioProblem> problems)
    : std::runtime_error(format_problems(problems)), problems_(std::move(problems)) {}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and
  // swaps of neighbours ("tsl" -> "tls") each cost 1; case is ignored.
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Near enough to be a typo: up to a third of the word, at least 1, at most 3.
  const std::size_t allowed = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  return best_distance <= allowed && best_distance > 0 ? best : "";
}

std::optional<std::uint64_t> parse_bandwidth(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t number = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (number > UINT64_MAX / 10 - 10) return std::nullopt;
    number = number * 10 + static_cast<std::uint64_t>(text[i++] - '0');
  }
  if (i == 0) return std::nullopt;
  std::string unit(text.substr(i));
  if (unit.ends_with("/s")) unit = unit.substr(0, unit.size() - 2);
  static const std::vector<std::pair<std::vector<std::string>, std::uint64_t>> units{
      {{"", "bps", "bit", "bits"}, 1},
      {{"kbps", "Kbps", "kbit", "Kbit", "kbits"}, 1000},
      {{"Mbps", "mbps", "Mbit", "mbit", "Mbits"}, 1000 * 1000},
      {{"Gbps", "gbps", "Gbit", "gbit", "Gbits"}, 1000 * 1000 * 1000}};
  for (const auto& [names, factor] : units)
    if (std::find(names.begin(), names.end(), unit) != names.end()) {
      if (number > UINT64_MAX / factor) return std::nullopt;
      return number * factor;
    }
  return std::nullopt;
}

std::string apply_override(json& document, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw std::invalid_argument("expected path=value, e.g. hosts.mx1.submission.tls=off");
  const std::string path(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // not JSON: a plain string (tls=off)
  }
  const auto segments = split_path(path);
  json* node = &document;
  std::string pointer;
  for (std::size_t i = 0; i < segments.size();) {
    if (segments[i].empty()) throw std::invalid_argument("empty name in path \"" + path + "\"");
    if (node->is_array()) {
      const std::string& seg = segments[i];
      if (std::all_of(seg.begin(), seg.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        const std::size_t index = std::stoul(seg);
        if (index >= node->size())
          throw std::invalid_argument(pointer + " has " + std::to_string(node->size()) + " entries; index " + seg +
                                      " is past the end");
        node = &(*node)[index];
        pointer += "/" + seg;
        ++i;
        continue;
      }
      // By name: the longest run of segments that names an element (names
      // like mail.alpha.example contain dots).
      bool found = false;
      for (std::size_t k = segments.size(); k > i && !found; --k) {
        std::string name = segments[i];
        for (std::size_t m = i + 1; m < k; ++m) name += "." + segments[m];
        for (std::size_t index = 0; index < node->size(); ++index) {
          const json& item = (*node)[index];
          if (item.is_object() && item.contains("name") && item["name"] == name) {
            node = &(*node)[index];
            pointer += "/" + std::to_string(index);
            i = k;
            found = true;
            break;
          }
        }
      }
      if (!found) {
        std::vector<std::string> names;
        for (const auto& item : *node)
          if (item.is_object() && item.contains("name") && item["name"].is_string()) names.push_back(item["name"]);
        // Which name was meant: the longest run of segments near a real name.
        std::string wanted = seg, near;
        for (std::size_t k = segments.size(); k > i && near.empty(); --k) {
          std::string name = segments[i];
          for (std::size_t m = i + 1; m < k; ++m) name += "." + segments[m];
          near = did_you_mean(name, names);
          if (!near.empty()) wanted = name;
        }
        std::string message = "nothing in " + (pointer.empty() ? std::string("the scenario") : pointer) +
                              " is named \"" + wanted + "\"";
        if (!near.empty())
          message += "; did you mean \"" + near + "\"?";
        else if (!names.empty())
          message += "; the names are " + join(names, ", ");
        throw std::invalid_argument(message);
      }
      continue;
    }
    if (node->is_null()) *node = json::object();
    if (!node->is_object())
      throw std::invalid_argument((pointer.empty() ? std::string("the scenario") : pointer) + " is " + describe(*node) +
                                  ", so it has no \"" + segments[i] + "\" inside");
    // Keys may contain dots too (DNS names): prefer the longest existing key;
    // a new DNS name takes every segment up to a record type (A, MX, ...).
    std::size_t k = i + 1;
    bool existing = false;
    for (std::size_t len = segments.size(); len > i + 1; --len) {
      std::string key = segments[i];
      for (std::size_t m = i + 1; m < len; ++m) key += "." + segments[m];
      if (node->contains(key)) {
        k = len;
        existing = true;
        break;
      }
    }
    if (!existing && pointer == "/dns/records" && !node->contains(segments[i])) {
      const auto& record_fields = scenario_fields().at("dns_name");
      k = segments.size();
      while (k > i + 1 && std::find(record_fields.begin(), record_fields.end(), segments[k - 1]) != record_fields.end()) --k;
    }
    std::string key = segments[i];
    for (std::size_t m = i + 1; m < k; ++m) key += "." + segments[m];
    node = &(*node)[key];
    pointer += "/" + escape_pointer_token(key);
    i = k;
  }
  *node = value;
  return pointer;
}

Scenario load_scenario_text(std::string_view text, const std::string& file_name, const LoadOptions& options) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    ScenarioProblem p;
    p.file = file_name;
    // nlohmann reports the byte after the offending token: point at its start.
    std::size_t at = e.byte > 0 ? std::min<std::size_t>(e.byte - 1, text.size() > 0 ? text.size() - 1 : 0) : 0;
    if (at < text.size() && text[at] == '"' && at > 0) {
      std::size_t open = at - 1;
      while (open > 0 && !(text[open] == '"' && text[open - 1] != '\\')) --open;
      at = open;
    } else {
      while (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '.' || text[at - 1] == '-')) --at;
    }
    p.position = position_of_offset(text, at);
    std::string what = e.what();
    // nlohmann's message ends with the detail after the last ": ".
    const auto colon = what.rfind(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    p.message = "this is not valid JSON (" + what + "); check for a missing comma, quote or bracket near here";
    throw ScenarioError({p});
  }
  const JsonLocations locations = map_json_locations(text);

  std::vector<ScenarioProblem> problems;
  for (const auto& pointer : locations.duplicate_keys) {
    ScenarioProblem p;
    p.file = file_name;
    p.pointer = pointer;
    p.position = locations.keys.count(pointer) ? locations.keys.at(pointer) : TextPosition{};
    p.message = "this field appears twice in the same object; the second one would silently win, so keep only one";
    problems.push_back(p);
  }

  std::map<std::string, std::string> overridden;
  for (const auto& assignment : options.overrides) {
    try {
      const std::string pointer = apply_override(document, assignment);
      overridden[pointer] = "--set " + assignment;
    } catch (const std::invalid_argument& e) {
      ScenarioProblem p;
      p.file = file_name;
      p.origin = "--set " + assignment;
      p.message = e.what();
      problems.push_back(p);
    }
  }

  Scenario scenario;
  scenario.file = file_name;
  Context ctx(file_name, locations, overridden);
  Loader(ctx, scenario).read(document);
  if (ctx.problems().empty()) References(ctx, scenario).check();
  for (auto& p : ctx.problems()) problems.push_back(std::move(p));
  if (!problems.empty()) throw ScenarioError(std::move(problems));
  if (options.seed) scenario.seed = *options.seed;
  scenario.document = std::move(document);
  return scenario;
}

Scenario load_scenario_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ScenarioProblem p;
    p.file = path;
    p.message = "cannot open the file (does it exist, and may you read it?)";
    throw ScenarioError({p});
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return load_scenario_text(buffer.str(), path, options);
}

}  // namespace mailsim::sim
