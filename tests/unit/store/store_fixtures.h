// Test fixtures that build each MailboxStore backend, so one TEMPLATE_TEST_CASE
// runs the same checks against MemoryStore and MaildirStore.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "real/store/maildir_store.h"
#include "real/store/memory_store.h"

namespace mailsim::store::test {

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailsim-store-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct MemoryBackend {
  static constexpr const char* kName = "memory";
  std::unique_ptr<MailboxStore> open() { return std::make_unique<MemoryStore>(); }
  std::unique_ptr<MailboxStore> store = open();
};

struct MaildirBackend {
  static constexpr const char* kName = "maildir";
  TempDir dir;
  std::int64_t clock = 1700000000;
  // A second open() on the same directory is a "restart".
  std::unique_ptr<MailboxStore> open() {
    return std::make_unique<MaildirStore>(MaildirOptions{dir.path(), "test.host", [this] { return clock; }});
  }
  std::unique_ptr<MailboxStore> store = open();
};

}  // namespace mailsim::store::test
