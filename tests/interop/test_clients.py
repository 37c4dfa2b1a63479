"""Real mail clients against `mailsim serve`: curl (smtp:// plain and with
--ssl-reqd --cacert), swaks (plain, --tls with verification, AUTH PLAIN and
LOGIN) and msmtp (STARTTLS + AUTH, as a mail user agent would be set up).
Each message must arrive byte-exact after the server's trace fields."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = None


def write_message(msg):
    f = tempfile.NamedTemporaryFile(prefix="mailsim-msg-", suffix=".eml", delete=False)
    f.write(msg)
    f.close()
    return f.name


def delivered(user, before, msg, with_keyword):
    stored = SERVER.wait_for_messages(user, before + 1)[-1]
    fields, body = harness.split_trace(stored)
    assert body == msg, (body[:300], msg[:300])
    assert (b"with " + with_keyword + b" id") in fields[2], fields[2]
    return fields


# ---- curl ----
def test_curl_plain_smtp():
    curl = harness.require_program("curl")
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("curl plain", ["sent with curl", ".dot first"])
    path = write_message(msg)
    harness.run([curl, "-sS", "--url", "smtp://127.0.0.1:%d" % SERVER.port("smtp"),
                 "--mail-from", "carol@example.org", "--mail-rcpt", "bob@mailsim.test", "--upload-file", path])
    fields = delivered("bob", before, msg, b"ESMTP")
    assert fields[0] == b"Return-Path: <carol@example.org>\r\n"
    os.unlink(path)


def test_curl_starttls_required_and_verified():
    curl = harness.require_program("curl")
    before = len(SERVER.messages("alice"))
    msg = harness.make_message("curl tls", ["sent with curl over STARTTLS"], to="alice@mailsim.test")
    path = write_message(msg)
    harness.run([curl, "-sS", "--ssl-reqd", "--cacert", SERVER.ca, "--url", "smtp://127.0.0.1:%d" % SERVER.port("smtp"),
                 "--mail-from", "carol@example.org", "--mail-rcpt", "alice@mailsim.test", "--upload-file", path])
    delivered("alice", before, msg, b"ESMTPS")
    os.unlink(path)


def test_curl_submission_with_auth():
    curl = harness.require_program("curl")
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("curl auth", ["submitted by alice with curl"])
    path = write_message(msg)
    harness.run([curl, "-sS", "--ssl-reqd", "--cacert", SERVER.ca, "--user", "alice:alice-password",
                 "--url", "smtp://127.0.0.1:%d" % SERVER.port("submission"),
                 "--mail-from", "alice@mailsim.test", "--mail-rcpt", "bob@mailsim.test", "--upload-file", path])
    delivered("bob", before, msg, b"ESMTPSA")
    os.unlink(path)


def test_curl_refuses_a_server_it_cannot_verify():
    curl = harness.require_program("curl")
    msg = harness.make_message("curl unverified", ["must not be sent"])
    path = write_message(msg)
    before = len(SERVER.messages("bob"))
    p = harness.run([curl, "-sS", "--ssl-reqd", "--url", "smtp://127.0.0.1:%d" % SERVER.port("smtp"),
                     "--mail-from", "carol@example.org", "--mail-rcpt", "bob@mailsim.test", "--upload-file", path],
                    check=False)
    assert p.returncode == 60, p.text  # CURLE_PEER_FAILED_VERIFICATION
    assert len(SERVER.messages("bob")) == before
    os.unlink(path)


# ---- swaks ----
def swaks_data(msg):
    """swaks appends "\r\n.\r\n" to --data, adding an empty line to a
    message that already ends in CRLF; with --no-data-fixup it sends the file
    as it is, so the file carries the terminating dot itself."""
    return write_message(msg + b".\r\n")


def swaks(*args):
    exe = harness.require_program("swaks")
    return harness.run([exe, "--silent", "1", "--helo", "swaks.example", "--no-data-fixup"] + list(args))


def test_swaks_plain():
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("swaks plain", ["sent with swaks"])
    path = swaks_data(msg)
    swaks("--server", "127.0.0.1:%d" % SERVER.port("smtp"), "--from", "carol@example.org",
          "--to", "bob@mailsim.test", "--data", path)
    delivered("bob", before, msg, b"ESMTP")
    os.unlink(path)


def test_swaks_tls_verified():
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("swaks tls", ["sent with swaks over TLS"])
    path = swaks_data(msg)
    swaks("--server", "127.0.0.1:%d" % SERVER.port("smtp"), "--from", "carol@example.org",
          "--to", "bob@mailsim.test", "--data", path, "--tls", "--tls-verify", "--tls-ca-path", SERVER.ca)
    delivered("bob", before, msg, b"ESMTPS")
    os.unlink(path)


def test_swaks_auth_plain_and_login():
    for mech in ("PLAIN", "LOGIN"):
        before = len(SERVER.messages("bob"))
        msg = harness.make_message("swaks auth " + mech, ["submitted with AUTH " + mech])
        path = swaks_data(msg)
        swaks("--server", "127.0.0.1:%d" % SERVER.port("submission"), "--from", "alice@mailsim.test",
              "--to", "bob@mailsim.test", "--data", path, "--tls", "--tls-verify", "--tls-ca-path", SERVER.ca,
              "--auth", mech, "--auth-user", "alice", "--auth-password", "alice-password")
        delivered("bob", before, msg, b"ESMTPSA")
        os.unlink(path)


def test_swaks_wrong_password_fails():
    exe = harness.require_program("swaks")
    p = harness.run([exe, "--server", "127.0.0.1:%d" % SERVER.port("submission"), "--from", "alice@mailsim.test",
                     "--to", "bob@mailsim.test", "--tls", "--tls-verify", "--tls-ca-path", SERVER.ca,
                     "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wrong"], check=False)
    assert p.returncode != 0 and "535 5.7.8" in p.text, p.text


# ---- msmtp ----
def test_msmtp_starttls_auth():
    exe = harness.require_program("msmtp")
    before = len(SERVER.messages("bob"))
    msg = harness.make_message("msmtp", ["sent by msmtp as a mail client would"])
    rc = tempfile.NamedTemporaryFile("w", prefix="msmtprc-", delete=False)
    rc.write("defaults\n"
             "auth on\n"
             "tls on\n"
             "tls_starttls on\n"
             "tls_trust_file %s\n"
             "account mailsim\n"
             "host 127.0.0.1\n"
             "port %d\n"
             "from alice@mailsim.test\n"
             "user alice\n"
             "password alice-password\n"
             "account default : mailsim\n" % (SERVER.ca, SERVER.port("submission")))
    rc.close()
    os.chmod(rc.name, 0o600)
    harness.run([exe, "--file", rc.name, "bob@mailsim.test"], input=msg.replace(b"\r\n", b"\n"))
    # msmtp reads LF text and sends CRLF: the message arrives in CRLF form.
    delivered("bob", before, msg, b"ESMTPSA")
    os.unlink(rc.name)


if __name__ == "__main__":
    with harness.Server() as SERVER:
        code = harness.main(globals())
    sys.exit(code)
