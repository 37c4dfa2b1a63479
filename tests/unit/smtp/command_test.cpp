// Command-line syntax: verbs, MAIL/RCPT paths and parameters, xtext.
#include "real/smtp/command.h"

#include <catch2/catch.hpp>

using namespace mailsim::smtp;

TEST_CASE("split_command upper-cases the verb and trims the argument") {
  CHECK(split_command("mail FROM:<a@b>").verb == "MAIL");
  CHECK(split_command("mail FROM:<a@b>").argument == "FROM:<a@b>");
  CHECK(split_command("NOOP").argument.empty());
  CHECK(split_command("EHLO   x.example  ").argument == "x.example");
}

TEST_CASE("MAIL FROM paths") {
  auto ok = [](std::string_view arg, std::string_view path) {
    const auto p = parse_mail_argument(arg);
    INFO(arg);
    CHECK(p.status == PathStatus::kOk);
    CHECK(p.path == path);
  };
  ok("FROM:<alice@example.org>", "alice@example.org");
  ok("from:<alice@example.org>", "alice@example.org");
  ok("FROM: <alice@example.org>", "alice@example.org");  // Postfix tolerance
  ok("FROM:<>", "");
  ok("FROM:<@a.example,@b.example:alice@example.org>", "alice@example.org");
  ok("FROM:<\"alice smith\"@example.org>", "\"alice smith\"@example.org");
  ok("FROM:<\"a>b\"@example.org>", "\"a>b\"@example.org");
  ok("FROM:<\"a\\\"b\"@example.org>", "\"a\\\"b\"@example.org");
  ok("FROM:<a.b+tag@[192.0.2.1]>", "a.b+tag@[192.0.2.1]");
  ok("FROM:<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]");

  auto status = [](std::string_view arg) { return parse_mail_argument(arg).status; };
  CHECK(status("<a@b.example>") == PathStatus::kMissingKeyword);
  CHECK(status("TO:<a@b.example>") == PathStatus::kMissingKeyword);
  CHECK(status("FROM:a@b.example") == PathStatus::kBadPath);
  CHECK(status("FROM:<a@b.example") == PathStatus::kBadPath);
  CHECK(status("FROM:<a@b.example>x") == PathStatus::kBadPath);
  CHECK(status("FROM:<a..b@example.org>") == PathStatus::kBadPath);
  CHECK(status("FROM:<.a@example.org>") == PathStatus::kBadPath);
  CHECK(status("FROM:<a@-example.org>") == PathStatus::kBadPath);
  CHECK(status("FROM:<a@example..org>") == PathStatus::kBadPath);
  CHECK(status("FROM:<a b@example.org>") == PathStatus::kBadPath);
  CHECK(status("FROM:<a@[300.1.1.1]>") == PathStatus::kBadPath);
  CHECK(status("FROM:<@a.example:b@c.example") == PathStatus::kBadPath);
  CHECK(status("FROM:<@a.example b@c.example>") == PathStatus::kBadPath);
  CHECK(status("FROM:<postmaster>") == PathStatus::kBadPath);  // only RCPT may omit the domain
  CHECK(status("FROM:<" + std::string(65, 'a') + "@example.org>") == PathStatus::kPathTooLong);
  CHECK(status("FROM:<a@" + std::string(250, 'b') + ".example>") == PathStatus::kPathTooLong);
}

TEST_CASE("RCPT TO paths") {
  CHECK(parse_rcpt_argument("TO:<bob@example.net>").path == "bob@example.net");
  CHECK(parse_rcpt_argument("TO:<Postmaster>").path == "Postmaster");
  CHECK(parse_rcpt_argument("to:<postMASTER>").status == PathStatus::kOk);
  CHECK(parse_rcpt_argument("TO:<>").status == PathStatus::kBadPath);
  CHECK(parse_rcpt_argument("FROM:<a@b.example>").status == PathStatus::kMissingKeyword);
}

TEST_CASE("ESMTP parameters") {
  const auto p = parse_mail_argument("FROM:<a@b.example> size=10  BODY=8BITMIME X-FLAG");
  REQUIRE(p.status == PathStatus::kOk);
  REQUIRE(p.params.size() == 3);
  CHECK(p.params[0] == EsmtpParam{"SIZE", "10"});
  CHECK(p.params[1] == EsmtpParam{"BODY", "8BITMIME"});
  CHECK(p.params[2] == EsmtpParam{"X-FLAG", std::nullopt});
  CHECK(parse_mail_argument("FROM:<a@b.example> =x").status == PathStatus::kBadParameter);
  CHECK(parse_mail_argument("FROM:<a@b.example> -X=1").status == PathStatus::kBadParameter);
  CHECK(parse_mail_argument("FROM:<a@b.example> SIZE=").status == PathStatus::kBadParameter);
  CHECK(parse_mail_argument("FROM:<a@b.example> A=b=c").status == PathStatus::kBadParameter);
}

TEST_CASE("xtext (RFC 3461)") {
  CHECK(xtext_decode("alice+2Bx@example.org") == "alice+x@example.org");
  CHECK(xtext_decode("<>") == "<>");
  CHECK_FALSE(xtext_decode("a+2"));
  CHECK_FALSE(xtext_decode("a+2b"));  // upper-case hex only
  CHECK_FALSE(xtext_decode("a=b"));
  CHECK(xtext_encode("a+b=c d") == "a+2Bb+3Dc+20d");
  CHECK(xtext_decode(xtext_encode("x+y")) == "x+y");
}
