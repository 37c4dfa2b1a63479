// A scenario: the hosts of a small mail world, the links between them, their
// DNS, a timeline of things that happen, and what is expected to come of it.
// Scenarios are JSON files (scenarios/*.json) described by the JSON Schema in
// scenarios/schema.json; load_scenario() (loader.h) validates and reads them
// into these types. Durations are virtual microseconds (sim/engine/time.h).
#pragma once

#include "sim/engine/time.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mailsim::sim {

// off / optional / required: for TLS (STARTTLS) and AUTH.
enum class Toggle { kOff, kOptional, kRequired };
std::string_view toggle_name(Toggle t);

enum class FetchProtocol { kPop3, kImap };

// Roles a host can play. Hosts of role kRouter only forward packets.
enum class HostRole { kClient, kMta, kRelay, kDns, kSpammer, kEavesdropper, kRouter };
std::string_view role_name(HostRole r);  // "client", "mta", ...

inline constexpr const char* kDefaultPassword = "secret";

struct UserAccount {
  std::string name;      // local part ("bob") or a full address
  std::string password = kDefaultPassword;
};

// Port 587 message submission (RFC 6409) of a mail server.
struct SubmissionSettings {
  bool enabled = true;
  std::uint16_t port = 587;
  Toggle tls = Toggle::kOptional;   // STARTTLS offered / required before AUTH and MAIL
  Toggle auth = Toggle::kRequired;  // SMTP AUTH (RFC 4954)
};

// Port 25 server-to-server SMTP of a mail server.
struct MxSettings {
  bool enabled = true;
  std::uint16_t port = 25;
  Toggle tls = Toggle::kOptional;         // STARTTLS offered (required: refuse mail without it)
  std::vector<std::string> dnsbl;         // blocklist zones consulted for connecting clients
  bool verify_recipients = false;         // backup MX: ask the primary before accepting
  int max_connections = 0;                // more clients at once get "421 4.7.0 Too many connections" (0: no limit)
};

// Whom a mail server relays for, and where it sends mail that is not local.
struct RelaySettings {
  bool open_relay = false;                   // relays for anyone: the spammer's friend
  std::vector<std::string> trusted_networks; // CIDR; relay without AUTH (Postfix mynetworks)
  std::string relay_host;                    // smart host (host name); empty: deliver by MX
  std::uint16_t relay_port = 25;
  std::vector<std::string> relay_domains;    // accepted for others: backup MX
  Toggle outbound_tls = Toggle::kOptional;   // STARTTLS when sending: off / if offered / required
};

// Queue timing (Postfix names in real/mta/config.h).
struct QueueSettings {
  Time min_backoff = 300 * kSecond;
  Time max_backoff = 4000 * kSecond;
  Time lifetime = 5 * kDay;
  Time delay_warning = 0;  // 0: no "delayed" notice
  int concurrency = 20;    // parallel connections per destination (Postfix default_destination_concurrency_limit)
  int hop_limit = 30;      // more Received: headers than this is a mail loop (Postfix hopcount_limit)
};

// A mailbox access service (POP3 110 / IMAP 143) of a mail server.
struct ServiceSettings {
  bool enabled = true;
  std::uint16_t port = 0;
  Toggle tls = Toggle::kOptional;  // STLS / STARTTLS
};

// A client's outgoing mail server.
struct OutgoingSettings {
  std::string server;               // host name; default: the mail server of the user's domain
  std::uint16_t port = 587;
  Toggle tls = Toggle::kOptional;   // off: never STARTTLS; optional: if offered; required
  bool auth = true;                 // log in with user + password
};

// A client's incoming mail (how it collects its letters).
struct FetchSettings {
  FetchProtocol protocol = FetchProtocol::kImap;
  std::string server;               // default: the mail server of the user's domain
  std::uint16_t port = 0;           // 0: 110 for POP3, 143 for IMAP
  Toggle tls = Toggle::kOptional;
  bool leave_on_server = false;     // POP3: keep messages after download (IMAP always keeps)
};

struct HostSpec {
  std::string name;
  HostRole role = HostRole::kClient;
  std::vector<std::string> addresses;  // empty: assigned 10.0.0.N
  std::string description, description_ja;

  // mta / relay
  std::vector<std::string> local_domains;
  std::vector<UserAccount> users;
  std::optional<SubmissionSettings> submission;  // absent: no port 587
  MxSettings mx;
  RelaySettings relay;
  QueueSettings queue;
  std::optional<ServiceSettings> pop3, imap;     // absent: defaults for a server with users

  // client
  std::string user;      // "alice@alpha.example"
  std::string password = kDefaultPassword;
  OutgoingSettings outgoing;
  std::optional<FetchSettings> fetch;
  std::vector<std::string> devices;  // more devices of the same user (IMAP on many devices)

  // eavesdropper: links it taps, as [a, b] host-name pairs
  std::vector<std::array<std::string, 2>> taps;

  std::string pointer;  // "/hosts/3", for messages
};

struct LinkSpec {
  std::string a, b;
  Time latency = kMillisecond;
  std::uint64_t bandwidth_bps = 0;  // 0: unlimited
  std::string description;
  std::string pointer;
};

struct MxSpec {
  int preference = 10;
  std::string exchange;  // "." = null MX (RFC 7505)
};

// The records of one DNS name.
struct DnsNameSpec {
  std::string name;
  std::vector<std::string> a;
  std::vector<MxSpec> mx;
  std::vector<std::string> txt;
  std::vector<std::string> ptr;
  std::optional<std::uint32_t> ttl;  // seconds; default: DnsSpec::ttl
  std::string pointer;
};

struct BlocklistSpec {
  std::string zone;
  std::vector<std::string> listed;  // addresses or CIDR networks, or host names
  std::string reason = "listed as a source of spam";
};

struct DnsSpec {
  std::vector<DnsNameSpec> names;    // sorted by name
  std::vector<BlocklistSpec> blocklists;
  std::uint32_t ttl = 300;           // seconds, for records without their own
  std::uint32_t negative_ttl = 300;  // seconds, NXDOMAIN / no data
  bool auto_records = true;          // A for every host name, PTR for every address
  std::string server;                // DNS server host; default: the one host with role dns
};

struct NetworkSettings {
  Time connect_timeout = 30 * kSecond;
  Time give_up_after = 2 * kMinute;
  Time dns_timeout = 5 * kSecond;
};

// ---- timeline ---------------------------------------------------------------------

struct SendAction {
  std::string from;                // envelope and header sender
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::string subject;
  std::string body;
  std::string via;                 // the client host (or device) that sends; default: the one owning `from`
  std::vector<std::pair<std::string, std::string>> headers;  // extra header fields
  std::size_t size = 0;            // pad the body to about this many bytes (0: as written)
};
struct HostAction {                // down / up
  std::string host;
  bool up = false;
  bool silent = false;             // down: drop packets instead of refusing
};
struct LinkAction {                // link_down / link_up
  std::string a, b;
  bool up = false;
};
struct PortAction {                // port_down / port_up
  std::string host;
  std::uint16_t port = 0;
  bool up = false;
};
struct FetchAction {
  std::string host;
  std::string device;              // "" = the host itself
};
struct SpamAction {
  std::string from;                // the spammer host
  std::string via;                 // the relay it abuses ("" = deliver straight to the MX)
  std::vector<std::string> to;
  int count = 1;
  std::string sender = "winner@lottery.example";
  std::string subject = "You have won!";
};
struct NoteAction {
  std::string text, text_ja;
};

using Action = std::variant<SendAction, HostAction, LinkAction, PortAction, FetchAction, SpamAction, NoteAction>;

struct TimelineItem {
  Time at = 0;
  Action action;
  std::string note, note_ja;  // optional narration shown with the action
  std::string pointer;
};

// ---- expectations -------------------------------------------------------------------

struct TimeWindow {
  std::optional<Time> after, before;
};
struct ExpectDelivered {
  std::string to;
  TimeWindow when;
  std::optional<int> received_headers;  // exactly this many postmarks
  std::optional<std::string> subject;
  std::optional<int> count;             // exactly this many deliveries (default: at least one)
};
struct ExpectNotDelivered {
  std::string to;
  TimeWindow when;
};
struct ExpectBounced {
  std::string to;      // the recipient that failed ("" = any)
  std::string from;    // the envelope sender the bounce goes back to ("" = any)
  std::string status;  // enhanced status prefix, e.g. "5.1.1" or "5." ("" = any)
  TimeWindow when;
};
struct ExpectDeferred {
  std::string host;
  std::optional<int> min, max;  // number of deferrals
};
struct ExpectRejected {
  std::string code;    // "554", "5xx", "550"
  std::string host;    // the server that rejected ("" = any)
  std::string command; // "RCPT", "MAIL", ... ("" = any)
};
struct ExpectEavesdropper {
  std::string host;    // the eavesdropper ("" = any)
  std::string saw;     // text it must have captured in the clear
  std::string did_not_see;
};
struct ExpectMailbox {
  std::string user;    // address
  int count = 0;       // messages in the mailbox at the end
  std::string host;    // server keeping the mailbox ("" = any)
};

using Expectation = std::variant<ExpectDelivered, ExpectNotDelivered, ExpectBounced, ExpectDeferred, ExpectRejected,
                                 ExpectEavesdropper, ExpectMailbox>;

struct ExpectItem {
  Expectation expectation;
  std::string description;
  std::string pointer;
};

struct Scenario {
  std::string file;  // where it was loaded from ("" for text)
  std::string title, title_ja, description, description_ja;
  std::string lesson;             // path of the lesson this scenario illustrates
  std::uint64_t seed = 1;
  std::string start = "2024-04-01T09:00:00Z";  // wall-clock date of virtual time 0 (for Date: headers)
  std::int64_t start_unix = 1711962000;        // the same, in seconds since the epoch
  Time duration = 0;              // run at most this long; 0: until idle (bounded by the last event + 7d)
  NetworkSettings network;
  std::vector<HostSpec> hosts;
  std::vector<LinkSpec> links;
  DnsSpec dns;
  std::vector<TimelineItem> timeline;  // sorted by time, ties in file order
  std::vector<ExpectItem> expect;

  nlohmann::json document;  // the validated JSON after --set overrides (for re-runs and the view)

  const HostSpec* find_host(std::string_view name) const;
};

std::string_view action_name(const Action& action);        // "send", "down", ... (string literals)
std::string_view expectation_name(const Expectation& e);   // "delivered", ...

}  // namespace mailsim::sim
