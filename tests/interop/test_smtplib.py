"""Python's smtplib against `mailsim serve`: plain SMTP, STARTTLS verified
against the demo CA, AUTH PLAIN and LOGIN on submission, the relay and
recipient checks, and byte-exact delivery into the Maildir."""

import os
import smtplib
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = None  # one server for the whole file; started in main below


def tls_context():
    ctx = ssl.create_default_context(cafile=SERVER.ca)
    return ctx


def expect_smtp_error(code, fn):
    try:
        fn()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
            smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPResponseException) as e:
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            got = [c for c, _ in e.recipients.values()]
            assert got == [code], (got, e.recipients)
            return e
        if isinstance(e, smtplib.SMTPNotSupportedError):
            assert code is None, e
            return e
        assert e.smtp_code == code, (e.smtp_code, e.smtp_error)
        return e
    raise AssertionError("expected SMTP error %s" % code)


def test_plain_smtp_delivers_byte_exact():
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("plain", ["Hello Bob,", "", ".a line that starts with a dot", "..two dots", "bye"])
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        code, banner = c.ehlo("client.example")
        assert code == 250 and b"PIPELINING" in banner and b"STARTTLS" in banner, banner
        refused = c.sendmail("carol@example.org", ["bob@mailsim.test"], msg)
        assert refused == {}
    stored = SERVER.wait_for_messages("bob", before + 1)[-1]
    fields, body = harness.split_trace(stored)
    assert body == msg, (body, msg)
    assert fields[0] == b"Return-Path: <carol@example.org>\r\n", fields[0]
    assert fields[1] == b"Delivered-To: bob@mailsim.test\r\n", fields[1]
    assert b"from client.example" in fields[2] and b"[127.0.0.1]" in fields[2], fields[2]
    assert b"with ESMTP id" in fields[2] and b"for <bob@mailsim.test>" in fields[2], fields[2]


def test_starttls_verified_against_the_demo_ca():
    before = len(SERVER.messages("alice"))
    msg = harness.make_message("over tls", ["secret text"], to="alice@mailsim.test")
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        c.ehlo("client.example")
        code, _ = c.starttls(context=tls_context())
        assert code == 220
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3"), c.sock.version()
        cert = c.sock.getpeercert()
        assert ("DNS", "localhost") in cert["subjectAltName"] or ("IP Address", "127.0.0.1") in cert["subjectAltName"]
        c.ehlo("client.example")
        c.sendmail("carol@example.org", ["alice@mailsim.test"], msg)
    stored = SERVER.wait_for_messages("alice", before + 1)[-1]
    fields, body = harness.split_trace(stored)
    assert body == msg
    assert b"with ESMTPS id" in fields[2] and b"TLSv1." in fields[2], fields[2]


def test_a_wrong_ca_fails_the_handshake():
    # A default context trusts the system CAs, not ours: verification fails.
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        c.ehlo("client.example")
        try:
            c.starttls(context=ssl.create_default_context())
        except ssl.SSLCertVerificationError:
            return
    raise AssertionError("the certificate verified against the system CAs")


def submit(mechanism, login, password, to="bob@mailsim.test"):
    user = login.split("@")[0]
    before = len(SERVER.messages(to.split("@")[0]))
    msg = harness.make_message("auth " + mechanism, ["sent by " + user], sender=user + "@mailsim.test", to=to)
    with smtplib.SMTP("127.0.0.1", SERVER.port("submission"), timeout=harness.WAIT) as c:
        c.ehlo("laptop.example")
        c.starttls(context=tls_context())
        c.ehlo("laptop.example")
        assert "PLAIN" in c.esmtp_features.get("auth", "") and "LOGIN" in c.esmtp_features["auth"]
        c.user, c.password = login, password
        code, _ = c.auth(mechanism, getattr(c, "auth_" + mechanism.lower()))
        assert code == 235
        c.sendmail(user + "@mailsim.test", [to], msg)
    stored = SERVER.wait_for_messages(to.split("@")[0], before + 1)[-1]
    fields, body = harness.split_trace(stored)
    assert body == msg
    assert b"with ESMTPSA id" in fields[2], fields[2]


def test_auth_plain_on_submission():
    submit("PLAIN", "alice", "alice-password")


def test_auth_login_on_submission():
    submit("LOGIN", "alice", "alice-password")


def test_auth_with_full_address_as_user_name():
    submit("PLAIN", "alice@mailsim.test", "alice-password")


def test_wrong_password_is_refused():
    with smtplib.SMTP("127.0.0.1", SERVER.port("submission"), timeout=harness.WAIT) as c:
        c.ehlo("laptop.example")
        c.starttls(context=tls_context())
        c.ehlo("laptop.example")
        expect_smtp_error(535, lambda: c.login("alice", "not-her-password"))


def test_submission_requires_auth():
    with smtplib.SMTP("127.0.0.1", SERVER.port("submission"), timeout=harness.WAIT) as c:
        c.ehlo("laptop.example")
        c.starttls(context=tls_context())
        c.ehlo("laptop.example")
        expect_smtp_error(530, lambda: c.sendmail("alice@mailsim.test", ["bob@mailsim.test"], b"Subject: x\r\n\r\nx\r\n"))


def test_no_auth_before_tls_on_submission():
    # RFC 4954 §4: passwords only under TLS. Not even advertised before STARTTLS.
    with smtplib.SMTP("127.0.0.1", SERVER.port("submission"), timeout=harness.WAIT) as c:
        c.ehlo("laptop.example")
        assert "auth" not in c.esmtp_features, c.esmtp_features
        code, text = c.docmd("AUTH", "PLAIN " + "AGFsaWNlAGFsaWNlLXBhc3N3b3Jk")
        assert code == 538, (code, text)


def test_relay_is_denied_without_auth():
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        e = expect_smtp_error(554, lambda: c.sendmail("spammer@example.org", ["victim@example.com"], b"Subject: x\r\n\r\nx\r\n"))
        text = list(e.recipients.values())[0][1]
        assert b"5.7.1" in text and b"Relay access denied" in text, text


def test_unknown_local_user_is_refused():
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        expect_smtp_error(550, lambda: c.sendmail("carol@example.org", ["nobody@mailsim.test"], b"Subject: x\r\n\r\nx\r\n"))


def test_postmaster_always_accepted():
    before = len(SERVER.messages("alice"))
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        c.sendmail("carol@example.org", ["postmaster@mailsim.test"], b"Subject: pm\r\n\r\nfor the postmaster\r\n")
    SERVER.wait_for_messages("alice", before + 1)


def test_several_recipients_each_get_their_own_copy():
    a0, b0 = len(SERVER.messages("alice")), len(SERVER.messages("bob"))
    msg = harness.make_message("two recipients", ["one message, two mailboxes"])
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        refused = c.sendmail("carol@example.org", ["alice@mailsim.test", "BOB@MailSim.Test", "ghost@mailsim.test"], msg)
        assert list(refused) == ["ghost@mailsim.test"], refused
    a = SERVER.wait_for_messages("alice", a0 + 1)[-1]
    b = SERVER.wait_for_messages("bob", b0 + 1)[-1]
    fa, ba = harness.split_trace(a)
    fb, bb = harness.split_trace(b)
    assert ba == msg and bb == msg
    assert fa[1] == b"Delivered-To: alice@mailsim.test\r\n"
    assert fb[1] == b"Delivered-To: BOB@MailSim.Test\r\n"
    assert b"for <" not in fa[2]  # two recipients: the Received: names none


def test_large_8bit_message_is_byte_exact():
    before = len(SERVER.messages("bob"))
    lines = ["line %05d: %s" % (i, "caf\u00e9 \u2014 \u3053\u3093\u306b\u3061\u306f " * 8) for i in range(4000)]
    lines += [".", "..", ". dot space", ""]
    msg = harness.make_message("big 8bit", lines, extra_headers=["MIME-Version: 1.0",
                                                                  "Content-Type: text/plain; charset=utf-8",
                                                                  "Content-Transfer-Encoding: 8bit"])
    assert len(msg) > 500_000
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        c.ehlo("client.example")
        c.sendmail("carol@example.org", ["bob@mailsim.test"], msg, mail_options=["BODY=8BITMIME"])
    stored = SERVER.wait_for_messages("bob", before + 1)[-1]
    assert harness.body_after_trace(stored) == msg


def test_many_messages_on_one_connection():
    before = len(SERVER.messages("alice"))
    sent = []
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        for i in range(30):
            msg = harness.make_message("batch %d" % i, ["message number %d" % i], to="alice@mailsim.test")
            c.sendmail("carol@example.org", ["alice@mailsim.test"], msg)
            sent.append(msg)
    stored = SERVER.wait_for_messages("alice", before + 30)[before:]
    assert [harness.body_after_trace(s) for s in stored] == sent


if __name__ == "__main__":
    with harness.Server() as SERVER:
        code = harness.main(globals())
    sys.exit(code)
