// Reading `mailsim serve`'s JSON config with nlohmann/json. Every refusal names
// the JSON pointer of the bad value, so a typo is found without guessing.
#include "real/net/serve_config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <arpa/inet.h>

namespace mailsim::net {

namespace {

using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// Thrown inside the parser only; turned into ConfigError at the boundary.
struct Refusal {
  std::string pointer;
  std::string message;
};

std::string child(const std::string& pointer, std::string_view key) {
  // RFC 6901 escaping: '~' -> "~0", '/' -> "~1".
  std::string out = pointer + "/";
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

void only_keys(const json& obj, const std::string& pointer, std::initializer_list<std::string_view> keys) {
  if (!obj.is_object()) throw Refusal{pointer, "must be an object {...}"};
  for (const auto& [key, value] : obj.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string known;
      for (auto k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
      throw Refusal{child(pointer, key), "unknown setting (known here: " + known + ")"};
    }
  }
}

std::string get_string(const json& v, const std::string& pointer) {
  if (!v.is_string()) throw Refusal{pointer, "must be a string"};
  return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& pointer) {
  if (!v.is_boolean()) throw Refusal{pointer, "must be true or false"};
  return v.get<bool>();
}

std::uint64_t get_count(const json& v, const std::string& pointer, std::uint64_t min, std::uint64_t max) {
  // nlohmann/json stores non-negative integers as unsigned.
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() < min || v.get<std::uint64_t>() > max)
    throw Refusal{pointer, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max)};
  return v.get<std::uint64_t>();
}

// Seconds as a number (fractions allowed: tests use 0.5).
std::chrono::milliseconds get_seconds(const json& v, const std::string& pointer) {
  if (!v.is_number()) throw Refusal{pointer, "must be a number of seconds, e.g. 300 or 0.5"};
  const double s = v.get<double>();
  if (!(s > 0) || s > 86400.0 * 7)
    throw Refusal{pointer, "must be a number of seconds greater than 0 and at most 604800 (one week)"};
  return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000.0)));
}

std::optional<std::uint16_t> get_port(const json& v, const std::string& pointer) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 65535)
    throw Refusal{pointer, "must be a port number 1-65535, 0 for any free port, or null to turn the service off"};
  return static_cast<std::uint16_t>(v.get<std::int64_t>());
}

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' || d.front() == '-') return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool valid_local_part(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+';
  });
}

ServeConfig parse_document(const json& doc, const std::filesystem::path& base_dir) {
  ServeConfig c;
  only_keys(doc, "", {"$comment", "hostname", "listen", "ports", "local_domains", "users", "data_dir", "limits",
                      "tls", "allow_plaintext_auth", "open_relay", "threads", "mta"});
  if (doc.contains("hostname")) {
    c.hostname = get_string(doc["hostname"], "/hostname");
    if (!valid_domain(c.hostname)) throw Refusal{"/hostname", "must be a host name like mail.mailsim.test"};
  }
  if (doc.contains("listen")) {
    c.listen_address = get_string(doc["listen"], "/listen");
    unsigned char buf[16];
    if (inet_pton(AF_INET, c.listen_address.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, c.listen_address.c_str(), buf) != 1)
      throw Refusal{"/listen", "must be an IP address such as 127.0.0.1"};
  }
  if (doc.contains("ports")) {
    const json& p = doc["ports"];
    only_keys(p, "/ports", {"smtp", "submission", "pop3", "imap", "pop3s", "imaps"});
    auto port = [&](const char* key, std::optional<std::uint16_t>& out) {
      if (p.contains(key)) out = get_port(p[key], child("/ports", key));
    };
    port("smtp", c.ports.smtp);
    port("submission", c.ports.submission);
    port("pop3", c.ports.pop3);
    port("imap", c.ports.imap);
    port("pop3s", c.ports.pop3s);
    port("imaps", c.ports.imaps);
    // Two services on one fixed port would fail at bind time with a less
    // helpful message; say it here.
    std::set<std::uint16_t> seen;
    for (const auto& [key, value] : p.items()) {
      if (!value.is_number_integer() || value.get<int>() == 0) continue;
      if (!seen.insert(static_cast<std::uint16_t>(value.get<int>())).second)
        throw Refusal{child("/ports", key), "port " + std::to_string(value.get<int>()) + " is used twice"};
    }
  }
  if (doc.contains("local_domains")) {
    const json& d = doc["local_domains"];
    if (!d.is_array() || d.empty()) throw Refusal{"/local_domains", "must be a non-empty list of domain names"};
    c.local_domains.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      const std::string ptr = "/local_domains/" + std::to_string(i);
      std::string name = get_string(d[i], ptr);
      if (!valid_domain(name)) throw Refusal{ptr, "must be a domain name like mailsim.test"};
      c.local_domains.push_back(std::move(name));
    }
  }
  if (doc.contains("users")) {
    const json& u = doc["users"];
    if (!u.is_array()) throw Refusal{"/users", "must be a list of {\"name\": ..., \"password\": ...}"};
    c.users.clear();
    for (std::size_t i = 0; i < u.size(); ++i) {
      const std::string ptr = "/users/" + std::to_string(i);
      only_keys(u[i], ptr, {"name", "password"});
      if (!u[i].contains("name")) throw Refusal{ptr, "needs a \"name\" (the part before @)"};
      if (!u[i].contains("password")) throw Refusal{ptr, "needs a \"password\""};
      UserAccount a{get_string(u[i]["name"], ptr + "/name"), get_string(u[i]["password"], ptr + "/password")};
      if (!valid_local_part(a.name))
        throw Refusal{ptr + "/name", "must be a simple mailbox name (letters, digits, . - _ +), like alice"};
      if (a.password.empty()) throw Refusal{ptr + "/password", "must not be empty"};
      for (const auto& prev : c.users)
        if (iequals(prev.name, a.name)) throw Refusal{ptr + "/name", "user \"" + a.name + "\" is listed twice"};
      c.users.push_back(std::move(a));
    }
  }
  if (doc.contains("data_dir")) {
    const std::string d = get_string(doc["data_dir"], "/data_dir");
    if (d.empty()) throw Refusal{"/data_dir", "must be a folder path"};
    c.data_dir = d;
  }
  if (c.data_dir.is_relative()) c.data_dir = base_dir / c.data_dir;
  if (doc.contains("limits")) {
    const json& l = doc["limits"];
    only_keys(l, "/limits", {"message_size", "recipients", "idle_timeout", "connections", "shutdown_grace"});
    if (l.contains("message_size"))
      c.limits.message_size = get_count(l["message_size"], "/limits/message_size", 1024, std::uint64_t{1} << 32);
    if (l.contains("recipients")) c.limits.recipients = get_count(l["recipients"], "/limits/recipients", 1, 100000);
    if (l.contains("idle_timeout")) c.limits.idle_timeout = get_seconds(l["idle_timeout"], "/limits/idle_timeout");
    if (l.contains("connections")) c.limits.connections = get_count(l["connections"], "/limits/connections", 1, 100000);
    if (l.contains("shutdown_grace"))
      c.limits.shutdown_grace = get_seconds(l["shutdown_grace"], "/limits/shutdown_grace");
  }
  if (doc.contains("tls")) {
    const json& t = doc["tls"];
    only_keys(t, "/tls", {"starttls"});
    if (t.contains("starttls")) c.tls.starttls = get_bool(t["starttls"], "/tls/starttls");
  }
  if (doc.contains("allow_plaintext_auth"))
    c.allow_plaintext_auth = get_bool(doc["allow_plaintext_auth"], "/allow_plaintext_auth");
  if (doc.contains("open_relay")) c.open_relay = get_bool(doc["open_relay"], "/open_relay");
  if (doc.contains("mta")) {
    const json& m = doc["mta"];
    only_keys(m, "/mta", {"enabled", "spool_dir", "minimal_backoff", "maximal_backoff", "queue_lifetime",
                          "bounce_lifetime", "relay_host", "open_relay", "trusted_networks", "resolver_file"});
    if (m.contains("enabled")) c.mta.enabled = get_bool(m["enabled"], "/mta/enabled");
    if (m.contains("spool_dir")) {
      const std::string d = get_string(m["spool_dir"], "/mta/spool_dir");
      if (d.empty()) throw Refusal{"/mta/spool_dir", "must be a folder path"};
      c.mta.spool_dir = d;
    }
    if (m.contains("minimal_backoff")) c.mta.minimal_backoff = get_seconds(m["minimal_backoff"], "/mta/minimal_backoff");
    if (m.contains("maximal_backoff")) c.mta.maximal_backoff = get_seconds(m["maximal_backoff"], "/mta/maximal_backoff");
    if (c.mta.maximal_backoff < c.mta.minimal_backoff)
      throw Refusal{"/mta/maximal_backoff", "must not be shorter than minimal_backoff"};
    if (m.contains("queue_lifetime")) c.mta.queue_lifetime = get_seconds(m["queue_lifetime"], "/mta/queue_lifetime");
    if (m.contains("bounce_lifetime")) c.mta.bounce_lifetime = get_seconds(m["bounce_lifetime"], "/mta/bounce_lifetime");
    if (m.contains("relay_host")) {
      // "smtp.isp.test" or "smtp.isp.test:587"
      std::string r = get_string(m["relay_host"], "/mta/relay_host");
      if (const auto colon = r.rfind(':'); colon != std::string::npos) {
        const std::string port = r.substr(colon + 1);
        if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
            std::stoi(port) < 1 || std::stoi(port) > 65535)
          throw Refusal{"/mta/relay_host", "must be host or host:port, e.g. smtp.isp.test:587"};
        c.mta.relay_port = static_cast<std::uint16_t>(std::stoi(port));
        r = r.substr(0, colon);
      }
      if (!r.empty() && !valid_domain(r)) throw Refusal{"/mta/relay_host", "must be a host name or address"};
      c.mta.relay_host = r;
    }
    if (m.contains("open_relay")) c.mta.open_relay = get_bool(m["open_relay"], "/mta/open_relay");
    if (m.contains("trusted_networks")) {
      const json& t = m["trusted_networks"];
      if (!t.is_array()) throw Refusal{"/mta/trusted_networks", "must be a list like [\"127.0.0.0/8\"]"};
      for (std::size_t i = 0; i < t.size(); ++i)
        c.mta.trusted_networks.push_back(get_string(t[i], "/mta/trusted_networks/" + std::to_string(i)));
    }
    if (m.contains("resolver_file")) {
      const std::string f = get_string(m["resolver_file"], "/mta/resolver_file");
      c.mta.resolver_file = f;
      if (!f.empty() && c.mta.resolver_file.is_relative()) c.mta.resolver_file = base_dir / c.mta.resolver_file;
    }
  }
  // The older top-level switch and the mta one mean the same.
  c.mta.open_relay = c.mta.open_relay || c.open_relay;
  c.open_relay = c.mta.open_relay;
  if (doc.contains("threads")) c.threads = static_cast<unsigned>(get_count(doc["threads"], "/threads", 0, 256));
  if (!c.tls.starttls && !c.allow_plaintext_auth && c.ports.submission)
    throw Refusal{"/tls/starttls",
                  "with STARTTLS off and allow_plaintext_auth false, nobody could log in to submission; "
                  "turn one of them on or set /ports/submission to null"};
  return c;
}

}  // namespace

bool ServeConfig::is_local_domain(std::string_view domain) const {
  return std::any_of(local_domains.begin(), local_domains.end(), [&](const std::string& d) { return iequals(d, domain); });
}

const UserAccount* ServeConfig::find_user(std::string_view name) const {
  for (const auto& u : users)
    if (iequals(u.name, name)) return &u;
  return nullptr;
}

std::string ConfigError::to_string() const {
  std::string out = file + ": ";
  if (!pointer.empty()) out += pointer + ": ";
  return out + message;
}

ConfigResult parse_config(std::string_view json_text, const std::string& file_name,
                          const std::filesystem::path& base_dir) {
  json doc;
  try {
    doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/true,
                      /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into line:column, which an editor can jump to.
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < json_text.size(); ++i) {
      if (json_text[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    std::string what = e.what();
    if (auto pos = what.find("syntax error"); pos != std::string::npos) what = what.substr(pos);
    return ConfigError{file_name, "", "not valid JSON at line " + std::to_string(line) + ", column " +
                                          std::to_string(col) + ": " + what};
  }
  try {
    return parse_document(doc, base_dir);
  } catch (const Refusal& r) {
    return ConfigError{file_name, r.pointer, r.message};
  }
}

ConfigResult load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ConfigError{file.string(), "", "cannot open the file"};
  std::ostringstream text;
  text << in.rdbuf();
  auto base = file.parent_path();
  if (base.empty()) base = ".";
  return parse_config(text.str(), file.string(), std::filesystem::absolute(base));
}

std::string config_to_json(const ServeConfig& c) {
  auto port = [](const std::optional<std::uint16_t>& p) { return p ? json(*p) : json(nullptr); };
  json users = json::array();
  for (const auto& u : c.users) users.push_back({{"name", u.name}, {"password", u.password}});
  json doc = {
      {"hostname", c.hostname},
      {"listen", c.listen_address},
      {"ports",
       {{"smtp", port(c.ports.smtp)},
        {"submission", port(c.ports.submission)},
        {"pop3", port(c.ports.pop3)},
        {"imap", port(c.ports.imap)},
        {"pop3s", port(c.ports.pop3s)},
        {"imaps", port(c.ports.imaps)}}},
      {"local_domains", c.local_domains},
      {"users", users},
      {"data_dir", c.data_dir.string()},
      {"limits",
       {{"message_size", c.limits.message_size},
        {"recipients", c.limits.recipients},
        {"idle_timeout", static_cast<double>(c.limits.idle_timeout.count()) / 1000.0},
        {"connections", c.limits.connections},
        {"shutdown_grace", static_cast<double>(c.limits.shutdown_grace.count()) / 1000.0}}},
      {"tls", {{"starttls", c.tls.starttls}}},
      {"allow_plaintext_auth", c.allow_plaintext_auth},
      {"open_relay", c.open_relay},
      {"threads", c.threads},
      {"mta",
       {{"enabled", c.mta.enabled},
        {"spool_dir", c.mta.spool_dir.string()},
        {"minimal_backoff", static_cast<double>(c.mta.minimal_backoff.count()) / 1000.0},
        {"maximal_backoff", static_cast<double>(c.mta.maximal_backoff.count()) / 1000.0},
        {"queue_lifetime", static_cast<double>(c.mta.queue_lifetime.count()) / 1000.0},
        {"bounce_lifetime", static_cast<double>(c.mta.bounce_lifetime.count()) / 1000.0},
        {"relay_host", c.mta.relay_host.empty() || c.mta.relay_port == 25
                           ? c.mta.relay_host
                           : c.mta.relay_host + ":" + std::to_string(c.mta.relay_port)},
        {"open_relay", c.mta.open_relay},
        {"trusted_networks", c.mta.trusted_networks},
        {"resolver_file", c.mta.resolver_file.string()}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace mailsim::net
