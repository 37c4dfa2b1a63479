// The small asynchronous interfaces through which the MTA touches the world:
// a clock with timers, a DNS resolver, a TCP connector and the local mailbox
// store. `mailsim serve` implements them over Boost.Asio, the simulator over
// its discrete-event loop, the unit tests with fakes.
//
// Rules every implementation follows (the MTA relies on them):
//   - Nothing blocks. Results come back through the callback, later or (if the
//     answer is at hand) during the call itself; the MTA copes with both.
//   - Callbacks run on the host's single event thread; no locking is needed.
//   - There is no wall clock in real/mta: all time comes from Clock::now().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::mta {

// Microseconds since the Unix epoch (real mode) or since the start of the run
// (simulator). Durations are microseconds too.
using TimePoint = std::int64_t;
using Duration = std::int64_t;
inline constexpr Duration kMicrosecond = 1;
inline constexpr Duration kMillisecond = 1000;
inline constexpr Duration kSecond = 1000 * kMillisecond;
inline constexpr Duration kMinute = 60 * kSecond;
inline constexpr Duration kHour = 60 * kMinute;
inline constexpr Duration kDay = 24 * kHour;

using TimerId = std::uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Runs `callback` once, `delay` from now (delay <= 0: as soon as possible,
  // but never inside this call). Returns an id for cancel().
  virtual TimerId schedule(Duration delay, std::function<void()> callback) = 0;
  // Cancelling a timer that already fired or was cancelled is a no-op.
  virtual void cancel(TimerId id) = 0;
};

// ---- DNS -------------------------------------------------------------------

enum class DnsStatus {
  ok,         // records present
  no_data,    // the name exists but has no record of this type
  nxdomain,   // the name does not exist
  temp_fail,  // SERVFAIL, timeout: try again later
};

struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // without trailing dot; "" or "." is the null MX (RFC 7505)
};

struct MxAnswer {
  DnsStatus status = DnsStatus::ok;
  std::vector<MxRecord> records;
};

struct AddressAnswer {
  DnsStatus status = DnsStatus::ok;
  std::vector<std::string> addresses;  // textual IPv4/IPv6 addresses
};

struct TxtAnswer {
  DnsStatus status = DnsStatus::ok;
  std::vector<std::string> texts;
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual void resolve_mx(const std::string& domain, std::function<void(MxAnswer)> done) = 0;
  // A and AAAA together.
  virtual void resolve_a(const std::string& host, std::function<void(AddressAnswer)> done) = 0;
  // Optional (SPF, DNSBL); the default answers "no data".
  virtual void resolve_txt(const std::string& /*name*/, std::function<void(TxtAnswer)> done) {
    done(TxtAnswer{DnsStatus::no_data, {}});
  }
};

// ---- TCP -------------------------------------------------------------------

// A connected, ordered, reliable byte stream (a TCP connection or the
// simulator's in-process socket). The MTA owns it through unique_ptr; the
// stream must not call back after it is destroyed.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Takes the bytes: a stream that queues or forwards them keeps the buffer.
  virtual void write(std::string bytes) = 0;
  // Bytes from the peer. The view is valid during the call only.
  virtual void on_data(std::function<void(std::string_view)> callback) = 0;
  // The peer closed or the connection broke. Called at most once, not after
  // close() was called by the owner.
  virtual void on_close(std::function<void()> callback) = 0;
  // Flushes what was written, then closes.
  virtual void close() = 0;
  // Textual address of the peer, e.g. "192.0.2.7" (for logs and Received:).
  virtual std::string peer_address() const { return {}; }
};

enum class ConnectError { none, refused, timeout, unreachable };
std::string_view to_string(ConnectError e);

struct ConnectResult {
  std::unique_ptr<ByteStream> stream;  // set on success
  ConnectError error = ConnectError::none;
  std::string detail;  // human-readable, e.g. "connection refused"
};

class Connector {
 public:
  virtual ~Connector() = default;
  // `host` is an address (the MTA resolves names first). The connector
  // applies its own connect timeout and reports ConnectError::timeout.
  virtual void connect(const std::string& host, std::uint16_t port,
                       std::function<void(ConnectResult)> done) = 0;
};

// ---- Local mailboxes ---------------------------------------------------------

struct LocalDeliveryResult {
  enum class Kind { delivered, temporary_failure, permanent_failure };
  Kind kind = Kind::delivered;
  std::string detail;  // e.g. "mailbox full", shown in the trace and in a bounce
};

// Final delivery into this host's mailboxes (real/store's MailboxStore through
// an adapter, or a test double).
class LocalDelivery {
 public:
  virtual ~LocalDelivery() = default;
  // Does `local_part` name a mailbox of `domain` (one of our local domains)?
  // Answered synchronously: it is consulted while the SMTP client waits for a
  // RCPT reply. Case of the local part is the store's business.
  virtual bool has_mailbox(std::string_view local_part, std::string_view domain) const = 0;
  // Stores `message` (complete, CRLF line ends, with Return-Path: and
  // Delivered-To: already prepended) for `recipient` ("user@domain").
  virtual void deliver(const std::string& recipient, const std::string& message,
                       std::function<void(LocalDeliveryResult)> done) = 0;
};

}  // namespace mailsim::mta
