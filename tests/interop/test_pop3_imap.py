"""Reading mail back from `mailsim serve`: Python's poplib (STLS and POP3S)
and imaplib (STARTTLS and IMAPS: LOGIN, SELECT, SEARCH, FETCH, STORE,
EXPUNGE, APPEND, IDLE, a FETCH of a mailbox larger than one output chunk), curl pop3:// and imap:// (list, fetch by UID, with
--ssl-reqd --cacert). Round trip: a message sent with smtplib reads back
byte-exact through both protocols."""

import os
import poplib
import imaplib
import re
import smtplib
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = None


def ctx():
    return ssl.create_default_context(cafile=SERVER.ca)


def send(to_user, subject, lines):
    msg = harness.make_message(subject, lines, to=to_user + "@mailsim.test")
    before = len(SERVER.messages(to_user))
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as c:
        c.sendmail("carol@example.org", [to_user + "@mailsim.test"], msg)
    SERVER.wait_for_messages(to_user, before + 1)
    return msg


def pop3_login(user, implicit=False):
    if implicit:
        p = poplib.POP3_SSL("127.0.0.1", SERVER.port("pop3s"), context=ctx(), timeout=harness.WAIT)
    else:
        p = poplib.POP3("127.0.0.1", SERVER.port("pop3"), timeout=harness.WAIT)
        # No password in the clear: USER is refused before STLS.
        try:
            p.user(user)
            raise AssertionError("USER accepted before STLS")
        except poplib.error_proto as e:
            assert b"STLS" in e.args[0] or b"TLS" in e.args[0], e
        p.stls(context=ctx())
    p.user(user)
    p.pass_(harness.USERS[user])
    return p


def imap_login(user, implicit=False):
    if implicit:
        m = imaplib.IMAP4_SSL("127.0.0.1", SERVER.port("imaps"), ssl_context=ctx(), timeout=harness.WAIT)
    else:
        m = imaplib.IMAP4("127.0.0.1", SERVER.port("imap"), timeout=harness.WAIT)
        assert "LOGINDISABLED" in m.capabilities, m.capabilities
        m.starttls(ssl_context=ctx())
    m.login(user, harness.USERS[user])
    return m


def test_poplib_stls_round_trip_and_delete():
    msg = send("bob", "pop3 round trip", ["read me with POP3", ".leading dot"])
    p = pop3_login("bob")
    count, _ = p.stat()
    assert count >= 1
    _, lines, _ = p.retr(count)
    stored = b"\r\n".join(lines) + b"\r\n"
    fields, body = harness.split_trace(stored)
    assert body == msg, (body, msg)
    uidl = p.uidl(count).split()[-1]
    p.dele(count)
    p.quit()
    p = pop3_login("bob")
    assert uidl not in [line.split()[-1] for line in p.uidl()[1]]
    p.quit()


def test_poplib_pop3s_implicit_tls():
    msg = send("alice", "pop3s", ["over implicit TLS"])
    p = pop3_login("alice", implicit=True)
    count, _ = p.stat()
    _, lines, _ = p.retr(count)
    assert harness.body_after_trace(b"\r\n".join(lines) + b"\r\n") == msg
    p.quit()


def test_pop3_wrong_password_is_slowed_without_blocking_others():
    p = poplib.POP3("127.0.0.1", SERVER.port("pop3"), timeout=harness.WAIT)
    p.stls(context=ctx())
    p.user("bob")
    p._putcmd("PASS wrong")  # the reply is held for the failed-login delay
    # Meanwhile the server serves everyone else.
    q = pop3_login("alice", implicit=True)
    q.stat()
    q.quit()
    try:
        p._getresp()
        raise AssertionError("wrong password accepted")
    except poplib.error_proto as e:
        assert e.args[0].startswith(b"-ERR"), e
    p.close()


def test_imaplib_starttls_select_search_fetch_store_expunge():
    msg = send("bob", "imap basics", ["read me with IMAP"])
    m = imap_login("bob")
    typ, data = m.select("INBOX")
    assert typ == "OK"
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"imap basics"')
    uids = data[0].split()
    assert typ == "OK" and len(uids) == 1, data
    typ, data = m.uid("FETCH", uids[0], "(BODY.PEEK[] RFC822.SIZE)")
    assert typ == "OK"
    stored = data[0][1]
    assert harness.body_after_trace(stored) == msg
    # The server may put RFC822.SIZE before or after the literal.
    text = data[0][0] + b"".join(d for d in data[1:] if isinstance(d, bytes))
    size = int(re.search(rb"RFC822\.SIZE (\d+)", text).group(1))
    assert size == len(stored)
    typ, _ = m.uid("STORE", uids[0], "+FLAGS", r"(\Deleted)")
    assert typ == "OK"
    typ, data = m.expunge()
    assert typ == "OK" and data[0] is not None, data
    typ, data = m.uid("SEARCH", None, "SUBJECT", '"imap basics"')
    assert data[0].split() == []
    m.logout()


def test_imaplib_append_and_imaps():
    m = imap_login("alice", implicit=True)
    m.create("Drafts")
    draft = harness.make_message("a draft", ["appended, not sent"], sender="alice@mailsim.test")
    typ, data = m.append("Drafts", r"(\Draft \Seen)", None, draft)
    assert typ == "OK", data
    typ, _ = m.select("Drafts")
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
    assert rb"\Draft" in data[0][0] and data[0][1] == draft, data
    m.logout()


def test_imap_fetch_of_a_big_mailbox_streams_and_keeps_order():
    # Over 256 KiB of FETCH output: the server sends it in chunks (each built
    # while the last is on the wire). Every message arrives whole and in
    # order, and a command pipelined behind the FETCH is answered after it.
    m = imap_login("alice", implicit=True)
    m.create("Big")
    messages = []
    for i in range(12):
        lines = ["message %d line %d %s" % (i, n, "x" * 60) for n in range(500)]
        messages.append(harness.make_message("big %d" % i, lines, sender="alice@mailsim.test"))
        typ, data = m.append("Big", None, None, messages[-1])
        assert typ == "OK", data
    assert sum(len(x) for x in messages) > 256 * 1024
    m.select("Big", readonly=True)
    fetch, noop = m._new_tag(), m._new_tag()
    m.send(fetch + b" FETCH 1:* (BODY.PEEK[])\r\n" + noop + b" NOOP\r\n")
    bodies = []
    while True:
        line = m.readline()
        assert not line.startswith(noop + b" "), "NOOP answered before the FETCH ended"
        if line.startswith(fetch + b" "):
            assert b" OK" in line, line
            break
        literal = re.search(rb"\{(\d+)\}\r\n$", line)
        if literal:
            bodies.append(m.read(int(literal.group(1))))
    assert bodies == messages
    line = m.readline()
    assert line.startswith(noop + b" OK"), line
    m.logout()


def test_imap_fetch_of_megabytes_over_plain_tcp_does_not_stall():
    # Without TLS the socket often takes a whole 256 KiB chunk at once, so no
    # write completion comes to ask for the next one: the server must build
    # it anyway, or a mail program fetching a big mailbox waits forever.
    plain = harness.Server({"allow_plaintext_auth": True})
    plain.start()
    try:
        m = imaplib.IMAP4("127.0.0.1", plain.port("imap"), timeout=harness.WAIT)
        m.login("alice", harness.USERS["alice"])
        messages = []
        for i in range(40):
            lines = ["message %d line %d %s" % (i, n, "y" * 70) for n in range(2500)]
            messages.append(harness.make_message("huge %d" % i, lines, sender="alice@mailsim.test"))
            typ, data = m.append("INBOX", None, None, messages[-1])
            assert typ == "OK", data
        assert sum(len(x) for x in messages) > 7 * 1024 * 1024
        m.select("INBOX", readonly=True)
        for _ in range(3):
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
            assert typ == "OK", data
            bodies = [part[1] for part in data if isinstance(part, tuple)]
            assert bodies == messages
        m.logout()
    finally:
        plain.stop()


def test_imap_idle_reports_new_mail_at_once():
    m = imap_login("bob")
    typ, data = m.select("INBOX")
    exists = int(data[0])
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+"), "no continuation for IDLE"
    send("bob", "wake up", ["IDLE should see this"])
    line = m.readline()  # new mail: "* N EXISTS" (maybe after "* N RECENT")
    assert re.match(rb"\* (\d+) EXISTS", line), line
    assert int(line.split()[1]) == exists + 1
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            assert b" OK" in line, line
            break
    m.logout()


def test_curl_pop3_and_imap():
    curl = harness.require_program("curl")
    msg = send("alice", "curl reads", ["fetched by curl"])
    common = [curl, "-sS", "--ssl-reqd", "--cacert", SERVER.ca, "-u", "alice:" + harness.USERS["alice"]]
    # POP3: LIST, then RETR of the last message.
    listing = harness.run(common + ["pop3://127.0.0.1:%d/" % SERVER.port("pop3")]).stdout
    numbers = [int(line.split()[0]) for line in listing.splitlines() if line.strip()]
    assert numbers, listing
    got = harness.run(common + ["pop3://127.0.0.1:%d/%d" % (SERVER.port("pop3"), numbers[-1])]).stdout
    assert harness.body_after_trace(got) == msg
    # IMAP: search for it, fetch it by UID.
    found = harness.run(common + ["imap://127.0.0.1:%d/INBOX" % SERVER.port("imap"),
                                  "-X", 'UID SEARCH SUBJECT "curl reads"']).stdout
    uid = found.decode().split()[-1]
    got = harness.run(common + ["imap://127.0.0.1:%d/INBOX;UID=%s" % (SERVER.port("imap"), uid)]).stdout
    assert harness.body_after_trace(got) == msg
    # And over IMAPS.
    got = harness.run(common + ["imaps://127.0.0.1:%d/INBOX;UID=%s" % (SERVER.port("imaps"), uid)]).stdout
    assert harness.body_after_trace(got) == msg


def test_round_trip_smtp_pop3_imap_same_bytes():
    msg = send("bob", "round trip", ["one message, three protocols", "\u00e9t\u00e9"])
    m = imap_login("bob", implicit=True)
    m.select("INBOX", readonly=True)
    _, data = m.uid("SEARCH", None, "SUBJECT", '"round trip"')
    uid = data[0].split()[-1]
    _, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
    via_imap = data[0][1]
    m.logout()
    p = pop3_login("bob", implicit=True)
    count, _ = p.stat()
    _, lines, _ = p.retr(count)
    via_pop3 = b"\r\n".join(lines) + b"\r\n"
    p.quit()
    assert via_imap == via_pop3
    assert harness.body_after_trace(via_imap) == msg


if __name__ == "__main__":
    with harness.Server() as SERVER:
        code = harness.main(globals())
    sys.exit(code)
