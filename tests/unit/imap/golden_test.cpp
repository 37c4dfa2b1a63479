// Runs the readable transcripts in tests/golden/imap/*.txt against the real
// server session and MemoryStore. Format (see README.md there):
//   # comment            C: client line (CRLF added)      S: expected server line
//   @config k=v ...      @deliver [user] [epoch] + "| " message lines
//   @flags uid flag...   @resume delay_ms    @tls    @changed    @closed
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server_harness.h"

using namespace mailsim;
using namespace mailsim::imap;

namespace {

std::vector<std::string> split_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t crlf = out.find("\r\n", pos);
    if (crlf == std::string::npos) {
      lines.push_back(out.substr(pos) + "  <-- no CRLF");
      break;
    }
    lines.push_back(out.substr(pos, crlf - pos));
    pos = crlf + 2;
  }
  return lines;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

void run_golden(const std::filesystem::path& path) {
  const std::vector<std::string> lines = test_support::read_golden_lines(path.string());

  ServerConfig config = test::plain_config();
  std::unique_ptr<test::ServerHarness> h;
  std::string client;                 // C: bytes not yet sent
  std::vector<std::string> expected;  // S: lines not yet checked
  int expected_from = 0;
  // With MAILSIM_GOLDEN_ACTUAL=dir set, what the server actually answered is
  // written there, block by block (to review a change).
  std::string actual;

  auto ensure_started = [&] {
    if (h) return;
    h = std::make_unique<test::ServerHarness>(config);
    h->auto_resume = false;
    h->session->start();
    h->drain();
  };
  auto flush = [&] {
    ensure_started();
    std::string out = client.empty() ? std::string() : h->send(client);
    h->drain();
    out += h->session->take_output();
    std::vector<std::string> got = split_lines(out);
    actual += "# answer expected from line " + std::to_string(expected_from) + "\n";
    for (const std::string& g : got) actual += (g.empty() ? "S:" : "S: " + g) + "\n";
    INFO(path.filename().string() << " (server lines from line " << expected_from << ")");
    CHECK(got == expected);
    client.clear();
    expected.clear();
  };

  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    int lineno = static_cast<int>(i + 1);
    if (l.empty() || l[0] == '#') continue;
    if (l.starts_with("C: ") || l == "C:") {
      if (!expected.empty()) flush();
      client += (l.size() > 3 ? l.substr(3) : "") + "\r\n";
    } else if (l.starts_with("S: ") || l == "S:") {
      if (expected.empty()) expected_from = lineno;
      expected.push_back(l.size() > 3 ? l.substr(3) : "");
    } else if (l.starts_with("@config")) {
      REQUIRE_FALSE(h);
      for (const std::string& kv : words(l.substr(7))) {
        std::string k = kv.substr(0, kv.find('=')), v = kv.substr(kv.find('=') + 1);
        if (k == "allow_plaintext_login") config.allow_plaintext_login = v == "true";
        else if (k == "tls_available") config.tls_available = v == "true";
        else if (k == "max_auth_failures") config.max_auth_failures = static_cast<unsigned>(std::stoul(v));
        else if (k == "auth_delay_ms") config.auth_delay_ms = static_cast<unsigned>(std::stoul(v));
        else FAIL("unknown @config key " << k << " at line " << lineno);
      }
    } else if (l.starts_with("@deliver")) {
      if (!client.empty() || !expected.empty()) flush();
      else ensure_started();
      auto w = words(l.substr(8));
      std::string user = w.size() > 0 ? w[0] : "bob";
      std::int64_t date = w.size() > 1 ? std::stoll(w[1]) : 1700000000;
      std::string message;
      while (i + 1 < lines.size() && lines[i + 1].starts_with("|")) {
        ++i;
        message += (lines[i].size() > 2 ? lines[i].substr(2) : "") + "\r\n";
      }
      h->store.deliver(user, message, date);
    } else if (l.starts_with("@flags")) {
      if (!client.empty() || !expected.empty()) flush();
      else ensure_started();
      auto w = words(l.substr(6));
      store::Flags f;
      for (std::size_t k = 1; k < w.size(); ++k) f.set(*store::parse_system_flag(w[k]));
      h->store.store_flags("bob", "INBOX", {static_cast<store::Uid>(std::stoul(w[0]))}, store::FlagOp::kAdd, f);
    } else if (l.starts_with("@resume")) {
      flush();
      auto failed = h->events_of<server_events::AuthFailed>();
      REQUIRE_FALSE(failed.empty());
      CHECK(h->session->waiting_for_resume());
      CHECK(std::to_string(failed.back().delay_ms) == words(l.substr(7)).at(0));
      h->session->resume();
    } else if (l == "@tls") {
      flush();
      CHECK(h->session->tls_requested());
      h->session->tls_established(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
    } else if (l == "@changed") {
      flush();
      h->session->mailbox_changed();
    } else if (l == "@closed") {
      flush();
      CHECK(h->session->wants_close());
    } else {
      FAIL("unreadable line " << lineno << " in " << path << ": " << l);
    }
  }
  flush();
  if (const char* dir = std::getenv("MAILSIM_GOLDEN_ACTUAL")) {
    std::ofstream(std::filesystem::path(dir) / path.filename()) << actual;
  }
}

}  // namespace

TEST_CASE("golden IMAP transcripts") {
  std::filesystem::path dir = std::filesystem::path(MAILSIM_SOURCE_DIR) / "tests/golden/imap";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  for (const auto& f : files) {
    SECTION(f.filename().string()) { run_golden(f); }
  }
}
