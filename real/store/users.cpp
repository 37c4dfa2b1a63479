// UserTable: in-memory users and passwords, compared in constant time.
#include "real/store/users.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace mailsim::store {

namespace {
// Hashing both sides first gives equal-length inputs to CRYPTO_memcmp, so the
// comparison time does not depend on the password's length either.
std::string sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}
}  // namespace

void UserTable::set(const std::string& user, const std::string& password) {
  std::lock_guard lock(mutex_);
  users_[user] = password;
}

void UserTable::erase(const std::string& user) {
  std::lock_guard lock(mutex_);
  users_.erase(user);
}

std::vector<std::string> UserTable::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, _] : users_) out.push_back(name);
  return out;
}

bool UserTable::check(std::string_view user, std::string_view password) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user);
  // An unknown user still costs one comparison, so "no such user" and "wrong
  // password" take the same time.
  const std::string expected = sha256(it == users_.end() ? std::string_view{} : it->second);
  const std::string given = sha256(password);
  const bool same = CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
  return it != users_.end() && same;
}

bool UserTable::exists(std::string_view user) const {
  std::lock_guard lock(mutex_);
  return users_.find(user) != users_.end();
}

}  // namespace mailsim::store
