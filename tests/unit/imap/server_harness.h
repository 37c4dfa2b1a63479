// Test host for imap::ServerSession over the real MemoryStore: feeds bytes,
// keeps every event, and answers AuthFailed (resume) when told to.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "real/imap/server.h"
#include "real/store/memory_store.h"
#include "real/store/users.h"
#include "tests/unit/support/session_test.h"

namespace mailsim::imap::test {

inline ServerConfig plain_config() {
  ServerConfig c;
  c.hostname = "imap.beta.example";
  c.allow_plaintext_login = true;
  c.now = [] { return std::int64_t{1700000000}; };  // 14-Nov-2023 22:13:20 +0000
  return c;
}

struct ServerHarness {
  store::MemoryStore store{1700000000};
  store::UserTable users{{"bob", "secret"}, {"alice", "wonderland"}};
  std::unique_ptr<ServerSession> session;
  std::vector<ServerEvent> events;
  bool auto_resume = true;  // answer AuthFailed at once (the host's timer fired)

  explicit ServerHarness(ServerConfig config = plain_config()) {
    store.ensure_user("bob");
    store.ensure_user("alice");
    session = std::make_unique<ServerSession>(std::move(config), store, users);
  }
  std::string start() {
    session->start();
    drain();
    return session->take_output();
  }
  std::string send(std::string_view bytes) {
    session->receive(bytes);
    drain();
    return session->take_output();
  }
  void drain() {
    bool resume = false;
    while (auto e = session->next_event()) {
      if (std::holds_alternative<server_events::AuthFailed>(*e)) resume = auto_resume;
      events.push_back(std::move(*e));
    }
    if (resume) {
      session->resume();
      drain();
    }
  }
  store::Uid deliver(std::string_view message, std::int64_t date = 1700000000, const std::string& user = "bob") {
    return store.deliver(user, message, date);
  }
  template <class E>
  std::vector<E> events_of() const {
    return mailsim::test_support::events_of<E>(events);
  }
};

}  // namespace mailsim::imap::test
