"""Two `mailsim serve` instances relay to each other: alpha.test's server
(A) takes alice's mail on submission and finds beta.test's MX (B) through
its static resolver file; B stores it in bob's Maildir. Then B is stopped,
A queues the next message and defers it, and when B is back A's retry
delivers it (the MTA's queue and backoff, seen from outside)."""

import json
import os
import re
import smtplib
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def server_config(hostname, domain, user, resolver_file=None):
    mta = {"minimal_backoff": 1, "maximal_backoff": 2}
    if resolver_file:
        mta["resolver_file"] = resolver_file
    return {
        "hostname": hostname,
        "local_domains": [domain],
        "users": [{"name": user, "password": user + "-password"}],
        "mta": mta,
    }


def submit(server, login, password, sender, recipient, msg):
    """Sends over submission (STARTTLS verified against the server's CA,
    then AUTH) and returns the queue id from the 250 reply."""
    ctx = ssl.create_default_context(cafile=server.ca)
    with smtplib.SMTP("127.0.0.1", server.port("submission"), timeout=harness.WAIT) as c:
        c.ehlo("alice-pc.alpha.test")
        c.starttls(context=ctx)
        c.ehlo("alice-pc.alpha.test")
        c.login(login, password)
        code, text = c.mail(sender)
        assert code == 250, (code, text)
        code, text = c.rcpt(recipient)
        assert code == 250, (code, text)
        code, text = c.data(msg)
        assert code == 250, (code, text)
        m = re.search(rb"queued as ([0-9A-Za-z]+)", text)
        assert m, text
        return m.group(1).decode()


def wait_until(what, predicate, timeout=harness.WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)  # polling files another process writes


def received_fields(stored):
    data = harness.to_crlf(stored)
    head = data.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line.lower().startswith(b"received:")]


def with_subject(server, user, subject):
    return [m for m in server.messages(user) if (b"Subject: " + subject.encode()) in m]


def test_relay_between_two_servers_with_retry():
    b = harness.Server(server_config("mx.beta.test", "beta.test", "bob"))
    b.start()
    a = None
    try:
        b_port = b.port("smtp")
        resolver = os.path.join(b.dir, "resolver-for-alpha.json")
        with open(resolver, "w") as f:
            json.dump({"mx": {"beta.test": [[10, "mx.beta.test"]]},
                       "hosts": {"mx.beta.test": {"address": "127.0.0.1", "port": b_port}}}, f)
        a = harness.Server(server_config("mx.alpha.test", "alpha.test", "alice", resolver))
        a.start()

        # 1. A relays to B at once.
        msg1 = harness.make_message("first hop", ["Hello Bob, from alpha."], sender="alice@alpha.test",
                                    to="bob@beta.test")
        submit(a, "alice", "alice-password", "alice@alpha.test", "bob@beta.test", msg1)
        wait_until("the first message in bob's Maildir on B", lambda: with_subject(b, "bob", "first hop"))
        [stored] = with_subject(b, "bob", "first hop")
        fields = received_fields(stored)
        assert len(fields) == 2, fields  # B's (from A), then A's (from alice)
        assert b"by mx.beta.test" in fields[0] and b"by mx.alpha.test" in fields[1], fields
        assert harness.to_crlf(stored).endswith(msg1)

        # 2. B is down: A keeps the message and says it deferred it.
        assert b.stop() == 0, b.log()
        b.config["ports"]["smtp"] = b_port  # back on the port A's resolver names
        with open(b.config_path, "w") as f:
            json.dump(b.config, f)
        msg2 = harness.make_message("while down", ["Sent while beta was away."], sender="alice@alpha.test",
                                    to="bob@beta.test")
        qid = submit(a, "alice", "alice-password", "alice@alpha.test", "bob@beta.test", msg2)
        wait_until("A to defer " + qid, lambda: re.search(qid + r".*deferred", a.log()) is not None)
        assert not with_subject(b, "bob", "while down")

        # 3. B is back: A's retry (backoff 1-2 s) delivers it, once.
        b.start()
        assert b.port("smtp") == b_port
        wait_until("the retried message on B", lambda: with_subject(b, "bob", "while down"))
        wait_until("A to log the delivery", lambda: re.search(qid + r".*delivered", a.log()) is not None)
        assert len(with_subject(b, "bob", "while down")) == 1
        assert len(with_subject(b, "bob", "first hop")) == 1
    except BaseException:
        for name, s in (("A", a), ("B", b)):
            if s is not None:
                sys.stderr.write("---- %s log ----\n%s\n" % (name, s.log()))
        raise
    finally:
        for s in (a, b):
            if s is not None:
                s.stop()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
