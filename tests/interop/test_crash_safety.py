"""Crash safety of `mailsim serve`'s queue (RFC 5321 §4.2.5, §6.1: after
250 the message is the server's to deliver, and it must not lose it).

Several clients send up to 2,000 messages, each with its own Message-ID,
and note every one that got 250. The server is killed with SIGKILL at a
random moment, restarted on the same data folder, and allowed to drain its
queue. Every message that got 250 must then be in the Maildir exactly once;
no message (acknowledged or not) may be there twice; and once the restarted
server has removed every message it recovered, a third start finds the
queue (the spool's journal) empty."""

import collections
import os
import random
import re
import signal
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TOTAL = 2000
CLIENTS = 8
DRAIN_WAIT = 40.0  # the drain normally takes well under a second


def message_ids(server, user):
    ids = []
    for m in server.messages(user):
        found = re.search(rb"^Message-ID: <([^>]+)>", m, re.M | re.I)
        assert found, m[:300]
        ids.append(found.group(1).decode())
    return ids


# "mailsim serve: mta: mail.mailsim.test: 6B0471520250: removed from the queue"
MTA_LINE = re.compile(r"mta: (?:\S+: )?([0-9A-F]{12}): (.*)$", re.M)


def queue_activity(server):
    """(ids the server's MTA mentioned in its log, ids it removed from the
    queue) for the current run. A removal is logged after the spool wrote
    its record, so a removed id never comes back after a restart."""
    mentioned, removed = set(), set()
    for qid, what in MTA_LINE.findall(server.log()):
        mentioned.add(qid)
        if what.startswith("removed from the queue"):
            removed.add(qid)
    return mentioned, removed


def waiting_at_start(server):
    found = re.search(r"\((\d+) messages waiting at start\)", server.log())
    assert found, server.log()[-2000:]
    return int(found.group(1))


def test_sigkill_loses_nothing_and_duplicates_nothing():
    seed = int(os.environ.get("MAILSIM_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print("seed %d (set MAILSIM_SEED to repeat)" % seed, flush=True)
    srv = harness.Server({"limits": {"connections": 64}})
    srv.start()
    try:
        port = srv.port("smtp")
        acked = []
        acked_lock = threading.Lock()
        next_number = iter(range(TOTAL))
        number_lock = threading.Lock()

        def client(k):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=harness.WAIT) as c:
                    c.ehlo("client%d.example" % k)
                    while True:
                        with number_lock:
                            n = next(next_number, None)
                        if n is None:
                            return
                        mid = "crash-%05d@client.example" % n
                        msg = ("From: carol@example.org\r\nTo: bob@mailsim.test\r\nSubject: crash %d\r\n"
                               "Message-ID: <%s>\r\n\r\nmessage number %d\r\n" % (n, mid, n)).encode()
                        c.mail("carol@example.org")
                        code, _ = c.rcpt("bob@mailsim.test")
                        assert code == 250, code
                        code, reply = c.data(msg)
                        if code == 250:
                            qid = re.search(rb"queued as ([0-9A-Za-z]+)", reply)
                            assert qid, reply
                            with acked_lock:
                                acked.append((mid, qid.group(1).decode()))
            except (OSError, smtplib.SMTPException):
                return  # the server died under us: whatever got 250 is recorded

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        # A random moment while mail is flowing: after a random number of
        # acknowledged messages (so the kill never comes before the first).
        kill_after = rng.randrange(50, TOTAL // 2)
        deadline = time.monotonic() + harness.WAIT
        while True:
            with acked_lock:
                n_acked = len(acked)
            if n_acked >= kill_after or not any(t.is_alive() for t in threads):
                break
            assert time.monotonic() < deadline, "only %d messages acknowledged" % n_acked
            time.sleep(0.001)
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(timeout=harness.WAIT)
        for t in threads:
            t.join(timeout=harness.WAIT)
            assert not t.is_alive()
        with acked_lock:
            acked_at_kill = list(acked)
        print("killed after %d acknowledged messages (asked for %d)" % (len(acked_at_kill), kill_after), flush=True)
        _, removed_first_run = queue_activity(srv)

        srv.start()  # same data folder: the queue is recovered
        want = set(mid for mid, _ in acked_at_kill)
        want_removed = set(qid for _, qid in acked_at_kill) - removed_first_run
        deadline = time.monotonic() + DRAIN_WAIT
        while True:
            ids = message_ids(srv, "bob")
            mentioned, removed = queue_activity(srv)
            # Drained: every acknowledged message delivered, and every entry
            # this run touched (all it recovered) removed again.
            drained = want <= set(ids) and want_removed <= removed and mentioned <= removed
            if drained or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling the Maildir and log another process writes
        counts = collections.Counter(ids)
        lost = sorted(want - set(counts))
        twice = sorted(m for m, c in counts.items() if c > 1)
        assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), lost[:5])
        assert not twice, "%d messages delivered more than once, e.g. %s" % (len(twice), twice[:5])
        assert want_removed <= removed, "still queued: %s" % sorted(want_removed - removed)[:5]
        assert mentioned <= removed, "still queued: %s" % sorted(mentioned - removed)[:5]
        recovered = waiting_at_start(srv)
        print("%d acknowledged, %d delivered (%d more were in flight at the kill); %d recovered from the journal"
              % (len(want), len(counts), len(counts) - len(want), recovered), flush=True)

        # Nothing left behind in the journal: a third start finds it empty
        # and delivers nothing twice.
        srv.stop()
        srv.start()
        assert waiting_at_start(srv) == 0, srv.log()[-2000:]
        counts = collections.Counter(message_ids(srv, "bob"))
        assert not [m for m, c in counts.items() if c > 1]
    except BaseException:
        sys.stderr.write("---- serve log (last 4000 chars) ----\n%s\n" % srv.log()[-4000:])
        raise
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
