// The event pumps of POP3 (RFC 1939) and IMAP (RFC 3501) connections in
// `mailsim serve`. Both sessions read the mailbox store themselves; the host
// only has to (1) wait out the failed-login brake (AuthFailed{delay_ms} →
// resume() later, on a timer, never blocking an io thread), and for IMAP
// (2) tell a logged-in session when its mailbox changed, so IDLE (RFC 2177)
// reports new mail at once — MailboxWatchers carries those notifications
// from local delivery and from the store's change listener. Boost-free.
#pragma once

#include "real/imap/server.h"
#include "real/net/protocol_glue.h"
#include "real/pop3/server.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace mailsim::net {

// Who wants to hear about changes to whose mailbox. Thread-safe.
class MailboxWatchers {
 public:
  // Registers `on_change` for `user` (case-insensitive) until the returned
  // token is destroyed. `on_change` runs on the notifying thread: post.
  std::shared_ptr<void> watch(const std::string& user, std::function<void()> on_change);
  void notify(const std::string& user);

 private:
  std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::map<std::string, std::map<std::uint64_t, std::function<void()>>> watchers_;
};

class Pop3Glue final : public ProtocolGlue {
 public:
  // `store` and `users` must outlive the glue.
  Pop3Glue(const pop3::ServerConfig& config, store::MailboxStore& store, const store::Credentials& users);
  Session& session() override { return session_; }
  void pump(ConnectionHandle& conn) override;
  bool awaiting_decision() const override { return waiting_; }
  std::string goodbye_line(bool timed_out) const override;

 private:
  pop3::ServerSession session_;
  bool waiting_ = false;  // a failed login's reply is held (the brake)
};

class ImapGlue final : public ProtocolGlue {
 public:
  // `store`, `users` and `watchers` must outlive the glue.
  ImapGlue(const imap::ServerConfig& config, store::MailboxStore& store, const store::Credentials& users,
           MailboxWatchers& watchers);
  // A FETCH pauses after this much output until it is written (imap::
  // ServerConfig::output_chunk), unless the config sets another size.
  static constexpr std::size_t kOutputChunk = 256 * 1024;

  Session& session() override { return session_; }
  void pump(ConnectionHandle& conn) override;
  // Also while a FETCH is paused: no command is read before it is answered.
  bool awaiting_decision() const override { return session_.waiting_for_resume() || session_.output_paused(); }
  std::string goodbye_line(bool timed_out) const override;

 private:
  imap::ServerSession session_;
  MailboxWatchers& watchers_;
  std::shared_ptr<void> watch_;  // declared after session_: unregistered first
};

}  // namespace mailsim::net
