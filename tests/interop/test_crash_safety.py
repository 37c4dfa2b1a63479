"""Crash safety of `mailsim serve`'s queue (RFC 5321 §4.2.5, §6.1: after
250 the message is the server's to deliver, and it must not lose it).

Several clients send up to 2,000 messages, each with its own Message-ID,
and note every one that got 250. The server is killed with SIGKILL at a
random moment, restarted on the same data folder, and allowed to drain its
queue. Every message that got 250 must then be in the Maildir exactly once;
no message (acknowledged or not) may be there twice."""

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


def queue_files(server):
    spool = os.path.join(server.data, "spool")
    return [n for n in os.listdir(spool) if n.endswith(".q")] if os.path.isdir(spool) else []


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
                        code, _ = c.data(msg)
                        if code == 250:
                            with acked_lock:
                                acked.append(mid)
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

        srv.start()  # same data folder: the queue is recovered
        want = set(acked_at_kill)
        deadline = time.monotonic() + DRAIN_WAIT
        while True:
            ids = message_ids(srv, "bob")
            if (want <= set(ids) and not queue_files(srv)) or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling the Maildir another process writes
        counts = collections.Counter(ids)
        lost = sorted(want - set(counts))
        twice = sorted(m for m, c in counts.items() if c > 1)
        assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), lost[:5])
        assert not twice, "%d messages delivered more than once, e.g. %s" % (len(twice), twice[:5])
        assert not queue_files(srv), "queue not drained: %s" % queue_files(srv)[:5]
        print("%d acknowledged, %d delivered (%d more were in flight at the kill)"
              % (len(want), len(counts), len(counts) - len(want)), flush=True)
    except BaseException:
        sys.stderr.write("---- serve log (last 4000 chars) ----\n%s\n" % srv.log()[-4000:])
        raise
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
