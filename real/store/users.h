// Users and passwords shared by POP3 (RFC 1939 USER/PASS, RFC 5034 AUTH) and
// IMAP (RFC 3501 LOGIN/AUTHENTICATE): one place decides whether a login is
// good, so both protocols agree.
#pragma once

#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailsim::store {

// What a login server asks. Implementations must be thread-safe for
// concurrent calls (mailsim serve checks logins from several connections).
class Credentials {
 public:
  virtual ~Credentials() = default;
  // True when `user` exists and `password` is its password. Compares in
  // constant time so a timing attacker learns nothing from the reply delay.
  virtual bool check(std::string_view user, std::string_view password) const = 0;
  virtual bool exists(std::string_view user) const = 0;
};

// A table of users and passwords held in memory, filled from the serve
// config or a scenario. The simulator shows passwords on the wire in
// lessons, so keeping them in memory in the clear is no extra exposure here;
// nothing writes them to disk.
class UserTable : public Credentials {
 public:
  UserTable() = default;
  UserTable(std::initializer_list<std::pair<const std::string, std::string>> users) : users_(users) {}

  // Adds the user or replaces its password.
  void set(const std::string& user, const std::string& password);
  void erase(const std::string& user);
  std::vector<std::string> names() const;  // sorted

  bool check(std::string_view user, std::string_view password) const override;
  bool exists(std::string_view user) const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> users_;
};

}  // namespace mailsim::store
