// POP3 and IMAP pumps: the failed-login brake on a timer, IDLE notifications.
#include "real/net/mailbox_glue.h"

#include <algorithm>
#include <type_traits>

namespace mailsim::net {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

std::shared_ptr<void> MailboxWatchers::watch(const std::string& user, std::function<void()> on_change) {
  const std::string key = lower(user);
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = ++next_id_;
    watchers_[key][id] = std::move(on_change);
  }
  // The token's deleter unregisters; the registry must outlive the token.
  return std::shared_ptr<void>(nullptr, [this, key, id](void*) {
    std::lock_guard lock(mutex_);
    auto it = watchers_.find(key);
    if (it == watchers_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) watchers_.erase(it);
  });
}

void MailboxWatchers::notify(const std::string& user) {
  std::vector<std::function<void()>> calls;
  {
    std::lock_guard lock(mutex_);
    auto it = watchers_.find(lower(user));
    if (it == watchers_.end()) return;
    for (auto& [id, fn] : it->second) calls.push_back(fn);
  }
  for (auto& fn : calls) fn();
}

// ---- POP3 ----

Pop3Glue::Pop3Glue(const pop3::ServerConfig& config, store::MailboxStore& store, const store::Credentials& users)
    : session_(config, store, users) {}

void Pop3Glue::pump(ConnectionHandle& conn) {
  while (auto event = session_.next_event()) {
    if (auto* failed = std::get_if<pop3::server_events::AuthFailed>(&*event)) {
      waiting_ = true;
      conn.after(std::chrono::milliseconds(failed->delay_ms), [this] {
        waiting_ = false;
        session_.resume();
      });
    }
  }
}

std::string Pop3Glue::goodbye_line(bool timed_out) const {
  // RFC 1939 has no unsolicited response; an -ERR before closing is what
  // Dovecot and others send, and clients show it.
  return timed_out ? "-ERR [SYS/TEMP] Disconnected for inactivity\r\n"
                   : "-ERR [SYS/TEMP] Server shutting down\r\n";
}

// ---- IMAP ----

namespace {
imap::ServerConfig streaming(imap::ServerConfig config) {
  if (config.output_chunk == 0) config.output_chunk = ImapGlue::kOutputChunk;
  return config;
}
}  // namespace

ImapGlue::ImapGlue(const imap::ServerConfig& config, store::MailboxStore& store, const store::Credentials& users,
                   MailboxWatchers& watchers)
    : session_(streaming(config), store, users), watchers_(watchers) {}

void ImapGlue::pump(ConnectionHandle& conn) {
  namespace ev = imap::server_events;
  // A paused FETCH (output_chunk): the connection calls pump() before it
  // takes the session's output, and again once that output is written. So
  // when the session holds no output the last chunk has been taken (and,
  // but for a read that was already under way, written): build the next.
  if (session_.output_paused() && !session_.has_output()) session_.continue_output();
  while (auto event = session_.next_event()) {
    if (auto* failed = std::get_if<ev::AuthFailed>(&*event)) {
      conn.after(std::chrono::milliseconds(failed->delay_ms), [this] { session_.resume(); });
    } else if (auto* auth = std::get_if<ev::Authenticated>(&*event)) {
      // From now on, new mail for this user wakes the session (IDLE).
      watch_ = watchers_.watch(auth->user, [post = conn.weak_poster(), this] {
        post([this] { session_.mailbox_changed(); });
      });
    }
  }
}

std::string ImapGlue::goodbye_line(bool timed_out) const {
  // RFC 3501 §7.1.5: BYE is sent before the server closes, for any reason.
  return timed_out ? "* BYE Autologout; idle for too long\r\n"
                   : "* BYE [UNAVAILABLE] Server shutting down\r\n";
}

}  // namespace mailsim::net
