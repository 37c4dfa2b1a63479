// UserTable: the logins POP3 and IMAP both check.
#include "real/store/users.h"

#include <catch2/catch.hpp>

using mailsim::store::UserTable;

TEST_CASE("UserTable checks passwords exactly", "[users]") {
  UserTable t{{"bob", "hunter2"}};
  t.set("alice", "secret");
  CHECK(t.check("bob", "hunter2"));
  CHECK_FALSE(t.check("bob", "hunter"));
  CHECK_FALSE(t.check("bob", "hunter22"));
  CHECK_FALSE(t.check("bob", ""));
  CHECK_FALSE(t.check("Bob", "hunter2"));
  CHECK_FALSE(t.check("mallory", ""));  // unknown user with the "empty password"
  CHECK(t.exists("alice"));
  CHECK_FALSE(t.exists("mallory"));
  CHECK(t.names() == std::vector<std::string>{"alice", "bob"});
  t.set("bob", "new");
  CHECK(t.check("bob", "new"));
  t.erase("bob");
  CHECK_FALSE(t.check("bob", "new"));
}
