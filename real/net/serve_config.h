// Configuration of `mailsim serve`: which ports to listen on, which domains and
// users are local, where the Maildir lives, limits and TLS policy. Read from a
// small JSON file; every field has a default that works out of the box.
// This header is Boost-free so ui/ can include it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mailsim::net {

// One listening port per service. nullopt = service disabled; 0 = any free
// port (the chosen port is printed and written to <data>/run/listening.json).
struct Ports {
  std::optional<std::uint16_t> smtp = 2525;        // MX-style inbound (RFC 5321)
  std::optional<std::uint16_t> submission = 2587;  // RFC 6409: AUTH required
  std::optional<std::uint16_t> pop3 = 1110;        // RFC 1939 + STLS
  std::optional<std::uint16_t> imap = 1143;        // RFC 3501 + STARTTLS
  std::optional<std::uint16_t> pop3s = 1995;       // RFC 8314 implicit TLS
  std::optional<std::uint16_t> imaps = 1993;       // RFC 8314 implicit TLS
};

struct UserAccount {
  std::string name;      // local part; receives mail for name@<every local domain>
  std::string password;  // plaintext: a classroom server on 127.0.0.1
};

struct Limits {
  std::size_t message_size = 10 * 1024 * 1024;  // bytes, announced as SIZE (RFC 1870)
  std::size_t recipients = 100;                  // RFC 5321 4.5.3.1.8 minimum is 100
  // RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next
  // command. Tests set this to a fraction of a second.
  std::chrono::milliseconds idle_timeout{300'000};
  std::size_t connections = 200;  // concurrent connections over all ports; more get 421
  // How long a graceful stop (SIGINT/SIGTERM) lets busy sessions finish
  // before they are closed with 421.
  std::chrono::milliseconds shutdown_grace{5'000};
};

struct TlsPolicy {
  bool starttls = true;  // offer STARTTLS / STLS on the plaintext ports
  // Submission refuses MAIL before AUTH; AUTH itself needs TLS unless
  // allow_plaintext_auth (below) is true.
};

// The post office behind the SMTP ports (real/mta): a durable queue on disk,
// local delivery, and relaying to other domains by MX with retries.
struct MtaSettings {
  // false: the old direct path (accepted mail goes straight into local
  // Maildirs; other domains get 550 5.7.1).
  bool enabled = true;
  // The queue folder; relative paths are under data_dir.
  std::filesystem::path spool_dir = "spool";
  // Retry timing (Postfix minimal/maximal_backoff_time, maximal/bounce_queue_lifetime).
  std::chrono::milliseconds minimal_backoff{300'000};
  std::chrono::milliseconds maximal_backoff{4'000'000};
  std::chrono::milliseconds queue_lifetime{5LL * 86'400'000};
  std::chrono::milliseconds bounce_lifetime{5LL * 86'400'000};
  // Smart host for all non-local mail ("" = deliver by MX). Port 25 unless given.
  std::string relay_host;
  std::uint16_t relay_port = 25;
  // Relay to any domain for anyone (a lesson about spam, never a default).
  bool open_relay = false;
  // Clients that may relay without AUTH (CIDR such as "10.0.0.0/8" or an address).
  std::vector<std::string> trusted_networks;
  // Static DNS for the classroom (JSON: {"mx": {domain: [[pref, host], ...]},
  // "hosts": {host: {"address": "127.0.0.1", "port": 2526}}}); empty = none,
  // then every remote domain fails DNS (mail is deferred, then bounced).
  std::filesystem::path resolver_file;
};

struct ServeConfig {
  std::string hostname = "mail.mailsim.test";
  std::string listen_address = "127.0.0.1";
  Ports ports;
  std::vector<std::string> local_domains{"mailsim.test"};
  std::vector<UserAccount> users{{"alice", "alice-password"}, {"bob", "bob-password"}};
  // Root of everything serve writes: maildir/, spool/, tls/, run/.
  std::filesystem::path data_dir = "mailsim-data";
  Limits limits;
  TlsPolicy tls;
  bool allow_plaintext_auth = false;  // AUTH over an unencrypted connection
  bool open_relay = false;  // accept mail for any domain without AUTH (a lesson, not a default)
  unsigned threads = 0;     // io threads; 0 = hardware threads
  MtaSettings mta;

  // Derived paths.
  std::filesystem::path maildir_root() const { return data_dir / "maildir"; }
  std::filesystem::path spool_dir() const { return data_dir / mta.spool_dir; }
  std::filesystem::path tls_dir() const { return data_dir / "tls"; }
  std::filesystem::path run_dir() const { return data_dir / "run"; }

  // True when `domain` (any case) is one of local_domains.
  bool is_local_domain(std::string_view domain) const;
  // The account for `name` (case-insensitive), or nullptr.
  const UserAccount* find_user(std::string_view name) const;
};

// Why a config was refused: the file, a JSON pointer (RFC 6901) to the bad
// value ("" = the whole document) and a sentence a student understands.
struct ConfigError {
  std::string file;
  std::string pointer;
  std::string message;
  std::string to_string() const;  // "FILE: /limits/recipients: must be ..."
};

using ConfigResult = std::variant<ServeConfig, ConfigError>;

// Parses JSON text. Relative data_dir is resolved against `base_dir` (the
// config file's folder). Unknown keys are errors (they are usually typos).
ConfigResult parse_config(std::string_view json_text, const std::string& file_name,
                          const std::filesystem::path& base_dir);

// Reads and parses a file.
ConfigResult load_config(const std::filesystem::path& file);

// The config as JSON text (what `serve` would read back); used by tests and
// by `mailsim serve --print-config`.
std::string config_to_json(const ServeConfig& config);

}  // namespace mailsim::net
