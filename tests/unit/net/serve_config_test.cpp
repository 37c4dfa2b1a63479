// The serve config: defaults, every field read back, and refusals that name
// the JSON pointer of the bad value.
#include "real/net/serve_config.h"

#include <catch2/catch.hpp>

using namespace mailsim::net;

namespace {

ConfigError refusal(std::string_view json) {
  auto r = parse_config(json, "serve.json", "/base");
  REQUIRE(std::holds_alternative<ConfigError>(r));
  return std::get<ConfigError>(r);
}

ServeConfig accepted(std::string_view json) {
  auto r = parse_config(json, "serve.json", "/base");
  if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->to_string());
  return std::get<ServeConfig>(r);
}

}  // namespace

TEST_CASE("an empty config gives the documented defaults") {
  const ServeConfig c = accepted("{}");
  CHECK(c.hostname == "mail.mailsim.test");
  CHECK(c.listen_address == "127.0.0.1");
  CHECK(c.ports.smtp == 2525);
  CHECK(c.ports.submission == 2587);
  CHECK(c.ports.pop3 == 1110);
  CHECK(c.ports.imap == 1143);
  CHECK(c.local_domains == std::vector<std::string>{"mailsim.test"});
  REQUIRE(c.users.size() == 2);
  CHECK(c.find_user("ALICE") != nullptr);
  CHECK(c.is_local_domain("MailSim.Test"));
  CHECK_FALSE(c.is_local_domain("example.com"));
  CHECK_FALSE(c.open_relay);
  CHECK_FALSE(c.allow_plaintext_auth);
  CHECK(c.limits.idle_timeout == std::chrono::minutes(5));  // RFC 5321 4.5.3.2.7
  CHECK(c.data_dir == std::filesystem::path("/base/mailsim-data"));
}

TEST_CASE("every field is read and the JSON written back reads the same") {
  const ServeConfig c = accepted(R"({
    "hostname": "mx.example.test", "listen": "127.0.0.1",
    "ports": {"smtp": 0, "submission": 3587, "pop3": null, "imap": null, "pop3s": null, "imaps": 0},
    "local_domains": ["a.test", "b.test"],
    "users": [{"name": "carol", "password": "pw"}],
    "data_dir": "/tmp/x",
    "limits": {"message_size": 2048, "recipients": 3, "idle_timeout": 0.25, "connections": 7, "shutdown_grace": 1},
    "tls": {"starttls": false}, "allow_plaintext_auth": true, "open_relay": true, "threads": 3
  })");
  CHECK(c.hostname == "mx.example.test");
  CHECK(c.ports.smtp == 0);
  CHECK_FALSE(c.ports.pop3.has_value());
  CHECK(c.limits.idle_timeout == std::chrono::milliseconds(250));
  CHECK(c.limits.recipients == 3);
  CHECK(c.limits.connections == 7);
  CHECK(c.data_dir == std::filesystem::path("/tmp/x"));
  CHECK(c.open_relay);
  CHECK(c.threads == 3);
  const ServeConfig again = accepted(config_to_json(c));
  CHECK(config_to_json(again) == config_to_json(c));
}

TEST_CASE("a bad config names the place and what is wrong") {
  CHECK(refusal(R"({"limits": {"recipients": "ten"}})").pointer == "/limits/recipients");
  CHECK(refusal(R"({"limits": {"idle_timeout": -1}})").pointer == "/limits/idle_timeout");
  CHECK(refusal(R"({"limits": {"connections": -3}})").pointer == "/limits/connections");
  CHECK(refusal(R"({"limits": {"message_size": 2.5}})").pointer == "/limits/message_size");
  CHECK(refusal(R"({"ports": {"smtp": 70000}})").pointer == "/ports/smtp");
  CHECK(refusal(R"({"ports": {"smtp": 2525, "submission": 2525}})").message.find("used twice") !=
        std::string::npos);
  CHECK(refusal(R"({"users": [{"name": "a b", "password": "x"}]})").pointer == "/users/0/name");
  CHECK(refusal(R"({"users": [{"name": "x"}]})").pointer == "/users/0");
  CHECK(refusal(R"({"local_domains": []})").pointer == "/local_domains");
  CHECK(refusal(R"({"listen": "localhost"})").pointer == "/listen");
  const ConfigError typo = refusal(R"({"open_realy": true})");
  CHECK(typo.pointer == "/open_realy");
  CHECK(typo.message.find("unknown setting") != std::string::npos);
  CHECK(typo.to_string().rfind("serve.json: /open_realy: unknown setting", 0) == 0);
}

TEST_CASE("a JSON syntax error is reported with line and column") {
  const ConfigError e = refusal("{\n  \"hostname\": \"x\",\n  oops\n}");
  CHECK(e.pointer.empty());
  CHECK(e.message.find("line 3") != std::string::npos);
}
