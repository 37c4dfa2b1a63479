#!/usr/bin/env python3
"""Reading mail back: IMAP FETCH and POP3 RETR of N messages from a Maildir,
`mailsim serve` beside a private Dovecot instance on the same messages.
Not part of ctest (timing is never a test result).

    /usr/bin/python3 tests/bench/mailbox_bench.py [path/to/mailsim]

N = 10,000 by default (MAILSIM_BENCH_COUNT to change); messages are 2-4 KB
with the headers a delivered letter has, some body lines start with "." (so
POP3 dot-stuffing is exercised). Both servers get a copy of the same Maildir
(files in new/, as a delivery agent leaves them).

Measured, on one connection each, with a small client that only frames the
replies (so the client is not what is measured):
  IMAP  EXAMINE INBOX, FETCH 1:* (BODY.PEEK[HEADER]), FETCH 1:* (BODY.PEEK[])
  POP3  RETR 1 .. RETR N, one after the other, then RSET and QUIT
Pass 1 is cold (Dovecot builds its index and cache, mailsim reads the
Maildir and writes its uidlist); then MAILSIM_BENCH_WARM (default 3) warm
passes, of which the best of each test is the figure to compare (the run
least disturbed by other work on a shared machine). The two servers take
turns, pass by pass, so load from other work falls on both alike; the load
average is printed before and after.

Dovecot: if /usr/sbin/dovecot is installed (Debian: apt-get install
dovecot-imapd dovecot-pop3d) this script starts its own instance with
`dovecot -F -c <temp>/dovecot.conf`: 127.0.0.1 only, free ports, no TLS,
plaintext login allowed, base_dir and state_dir in the temp directory, a
passwd-file with the bench user. It never installs Dovecot, never touches a
system Dovecot, and stops only the processes it started (by PID).
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAILSIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/ui/mailsim")
COUNT = int(os.environ.get("MAILSIM_BENCH_COUNT", "10000"))
WARM_PASSES = int(os.environ.get("MAILSIM_BENCH_WARM", "3"))
PHASE_LIMIT_S = 300   # one phase (one FETCH, or all the RETRs) is cut off after this
IO_TIMEOUT_S = 120    # no reply byte for this long: the server is stuck
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER, PASSWORD = "bob", "bob-password"


# ---- the messages -----------------------------------------------------------

WORDS = ("the quick brown fox jumps over lazy dog mail server client letter post office "
         "stamp envelope address route relay queue retry bounce sorting delivery").split()


def make_message(i):
    """One delivered letter, LF line ends (as on disk), 2-4 KB."""
    lines = []
    target = 1500 + (i * 7919) % 2200  # body size varies, same for every run
    n = 0
    while sum(len(x) + 1 for x in lines) < target:
        words = [WORDS[(i + n * 3 + k * 5) % len(WORDS)] for k in range(10 + n % 5)]
        line = " ".join(words).capitalize() + "."
        if n % 9 == 4:
            line = "." + line  # POP3 must stuff this one
        lines.append(line)
        n += 1
    headers = (
        f"Return-Path: <alice@alpha.example>\n"
        f"Received: from mail.alpha.example (mail.alpha.example [192.0.2.10])\n"
        f"\tby mx.mailsim.test (mailsim) with ESMTPS id B{i:08d}\n"
        f"\tfor <bob@mailsim.test>; Mon, 23 Nov 2026 09:{i // 60 % 60:02d}:{i % 60:02d} +0000\n"
        f"Received: from alice-pc (alice-pc [192.0.2.55])\n"
        f"\tby mail.alpha.example (mailsim) with ESMTPSA id A{i:08d};\n"
        f"\tMon, 23 Nov 2026 09:{i // 60 % 60:02d}:{i % 60:02d} +0000\n"
        f"From: Alice Example <alice@alpha.example>\n"
        f"To: Bob Example <bob@mailsim.test>\n"
        f"Subject: Letter number {i} about the {WORDS[i % len(WORDS)]}\n"
        f"Date: Mon, 23 Nov 2026 09:{i // 60 % 60:02d}:{i % 60:02d} +0000\n"
        f"Message-ID: <{i}.bench@alpha.example>\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n")
    return headers + "\n" + "\n".join(lines) + "\n"


def fill_maildir(maildir, count):
    """Writes `count` messages into new/, named as a delivery agent names them
    (S= is the file size, which Dovecot trusts). Returns (header bytes, message
    bytes), both in the CRLF network form that IMAP sends."""
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    header_bytes = total = 0
    for i in range(count):
        data = make_message(i).encode()
        name = f"{1795400000 + i}.M{i}P1.bench,S={len(data)}"
        with open(os.path.join(maildir, "new", name), "wb") as f:
            f.write(data)
        crlf = len(data) + data.count(b"\n")
        head = data[:data.index(b"\n\n") + 2]
        header_bytes += len(head) + head.count(b"\n")
        total += crlf
    return header_bytes, total


# ---- a small client that only frames replies ----------------------------------

class Wire:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S)
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def line(self):
        start = 0
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]  # bytearray drops its front in O(1)
                return out
            start = max(0, len(self.buf) - 1)
            self._fill()

    def skip(self, n):
        while len(self.buf) < n:
            self._fill()
        del self.buf[:n]

    def until(self, marker):
        """Bytes up to and including `marker`."""
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                n = i + len(marker)
                out = bytes(self.buf[:n])
                del self.buf[:n]
                return out
            start = max(0, len(self.buf) - len(marker))
            self._fill()

    def send(self, text):
        self.sock.sendall(text.encode())

    def close(self):
        self.sock.close()


class Imap:
    def __init__(self, port):
        self.w = Wire(port)
        self.n = 0
        greeting = self.w.line()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError(f"IMAP greeting: {greeting!r}")

    def command(self, text, deadline=None):
        """Runs one command; returns (untagged FETCH count, literal octets)."""
        self.n += 1
        tag = f"b{self.n}".encode()
        self.w.send(f"b{self.n} {text}\r\n")
        fetches = octets = 0
        while True:
            line = self.w.line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(f"{text}: {line!r}")
                return fetches, octets
            if line.startswith(b"* ") and b" FETCH " in line[:24]:
                fetches += 1
            # A literal may end the line; its bytes follow, then the line goes on.
            while line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1])
                self.w.skip(n)
                octets += n
                line = self.w.line()
            if deadline and time.time() > deadline:
                raise TimeoutError(f"{text}: over {PHASE_LIMIT_S} s")


class Pop3:
    def __init__(self, port):
        self.w = Wire(port)
        self.ok()

    def ok(self):
        line = self.w.line()
        if not line.startswith(b"+OK"):
            raise RuntimeError(f"POP3: {line!r}")
        return line

    def command(self, text):
        self.w.send(text + "\r\n")
        return self.ok()

    def retr(self, i):
        """Returns the dot-stuffed wire octets of message i (no terminator)."""
        self.w.send(f"RETR {i}\r\n")
        self.ok()
        return len(self.w.until(b"\r\n.\r\n")) - 3


# ---- one pass against one server ----------------------------------------------

def run_pass(imap_port, pop3_port, expect):
    """Returns {test: (messages, octets, seconds)}."""
    out = {}
    imap = Imap(imap_port)
    imap.command(f"LOGIN {USER} {PASSWORD}")
    imap.command("EXAMINE INBOX")
    for name, att in (("IMAP FETCH 1:* BODY.PEEK[HEADER]", "BODY.PEEK[HEADER]"),
                      ("IMAP FETCH 1:* BODY.PEEK[]", "BODY.PEEK[]")):
        t = time.perf_counter()
        n, octets = imap.command(f"FETCH 1:* ({att})", deadline=time.time() + PHASE_LIMIT_S)
        out[name] = (n, octets, time.perf_counter() - t)
    imap.command("LOGOUT")
    imap.w.close()

    pop = Pop3(pop3_port)
    pop.command(f"USER {USER}")
    pop.command(f"PASS {PASSWORD}")
    count = int(pop.command("STAT").split()[1])
    if count != expect:
        raise RuntimeError(f"POP3 STAT says {count} messages, {expect} expected")
    deadline = time.time() + PHASE_LIMIT_S
    t = time.perf_counter()
    octets = done = 0
    for i in range(1, count + 1):
        octets += pop.retr(i)
        done = i
        if time.time() > deadline:
            print(f"  (POP3 stopped at the time limit after {i} messages)")
            break
    out["POP3 RETR 1..N"] = (done, octets, time.perf_counter() - t)
    pop.command("RSET")  # leave the maildrop as it was, so pass 2 reads the same
    pop.command("QUIT")
    pop.w.close()
    return out


# ---- the servers ----------------------------------------------------------------

def wait_for_port(port, proc, what):
    end = time.time() + 30
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} does not listen on port {port}")


def stop(proc):
    """Stops a process this script started, by its PID."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Mailsim:
    name = "mailsim"

    def __init__(self, work, source):
        data = os.path.join(work, "mailsim")
        os.makedirs(os.path.join(data, "maildir", USER))
        shutil.copytree(source, os.path.join(data, "maildir", USER, "Maildir"))
        cfg = {"data_dir": data, "allow_plaintext_auth": True,
               "users": [{"name": USER, "password": PASSWORD}],
               "ports": {"smtp": 0, "submission": 0, "pop3": 0, "imap": 0, "pop3s": 0, "imaps": 0}}
        with open(os.path.join(work, "serve.json"), "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([MAILSIM, "serve", "--config", os.path.join(work, "serve.json"), "--quiet"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
        listening = os.path.join(data, "run", "listening.json")
        end = time.time() + 30
        while not os.path.exists(listening):
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError("mailsim serve did not start: " + open(os.path.join(work, "serve.log")).read())
            time.sleep(0.05)
        ports = json.load(open(listening))["ports"]
        self.imap, self.pop3 = ports["imap"], ports["pop3"]

    def stop(self):
        stop(self.proc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    name = "Dovecot"

    def __init__(self, work, source):
        d = os.path.join(work, "dovecot")
        os.makedirs(os.path.join(d, "run"))
        os.makedirs(os.path.join(d, "state"))
        maildir = os.path.join(d, "Maildir")
        shutil.copytree(source, maildir)
        # Dovecot's login processes refuse to run as root and its mail
        # processes refuse root mail access; as root, use the unprivileged
        # accounts the Debian package creates and let "nobody" own the mail.
        if os.geteuid() == 0:
            login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
            mail_user, mail_group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            for root, dirs, files in os.walk(maildir):
                for x in [root] + [os.path.join(root, f) for f in files]:
                    os.chown(x, pwd.getpwnam(mail_user).pw_uid, pwd.getpwnam(mail_user).pw_gid)
            os.chmod(work, 0o755)  # the auth process (user dovecot) reads the users file
            os.chmod(d, 0o755)
            chroot = ""
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            login_user = internal_user = mail_user = me
            mail_group = internal_group = grp.getgrgid(os.getegid()).gr_name
            chroot = "  chroot =\n"  # an unprivileged master cannot chroot
        users = os.path.join(d, "users")
        with open(users, "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}:::::\n")
        os.chmod(users, 0o644)
        self.imap, self.pop3 = free_port(), free_port()
        self.log = os.path.join(d, "dovecot.log")
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""# private instance for tests/bench/mailbox_bench.py
base_dir = {d}/run
state_dir = {d}/state
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {self.log}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{maildir}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    port = {self.imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
{chroot}  inet_listener pop3 {{
    port = {self.pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
{chroot}}}
""")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "stderr.log"), "w"))
        try:
            wait_for_port(self.imap, self.proc, "dovecot")
            wait_for_port(self.pop3, self.proc, "dovecot")
        except Exception:
            self.stop()
            raise RuntimeError("Dovecot did not start; its log:\n" + open(self.log).read()
                               if os.path.exists(self.log) else "Dovecot did not start")

    def stop(self):
        stop(self.proc)  # the master stops the processes it forked


# ---- report ------------------------------------------------------------------------

TESTS = ("IMAP FETCH 1:* BODY.PEEK[HEADER]", "IMAP FETCH 1:* BODY.PEEK[]", "POP3 RETR 1..N")


def rates(r):
    n, octets, s = r
    return n / s, octets / s / 1e6


def print_pass(title, results, servers):
    print(title)
    head = f"  {'':<33}"
    for s in servers:
        head += f" | {s.name + ' msg/s':>14} {'MB/s':>7} {'s':>6}"
    if len(servers) == 2:
        head += f" | {'ratio':>6}"
    print(head)
    for t in TESTS:
        row = f"  {t:<33}"
        for s in servers:
            mps, mbps = rates(results[s.name][t])
            row += f" | {mps:>14.0f} {mbps:>7.2f} {results[s.name][t][2]:>6.2f}"
        if len(servers) == 2:
            a, b = (rates(results[s.name][t])[0] for s in servers)
            row += f" | {a / b:>5.2f}x"
        print(row)


def main():
    if not os.access(MAILSIM, os.X_OK):
        sys.exit(f"no mailsim binary at {MAILSIM} (build it: cmake --build <dir> --target mailsim)")
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="mailsim-mbox-bench-")
    servers = []
    try:
        source = os.path.join(work, "source", "Maildir")
        header_bytes, total = fill_maildir(source, COUNT)
        print(f"{COUNT} messages, {total / 1e6:.1f} MB in IMAP form ({total // max(COUNT, 1)} octets each on "
              f"average, headers {header_bytes // max(COUNT, 1)}); load average before "
              f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} on {os.cpu_count()} CPUs")
        servers.append(Mailsim(work, source))
        if DOVECOT is None:
            print("Dovecot not installed (Debian: apt-get install dovecot-imapd dovecot-pop3d): "
                  "mailsim alone, no side-by-side figure")
        else:
            version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
            try:
                servers.append(Dovecot(work, source))
                print(f"Dovecot {version}: private instance on 127.0.0.1:{servers[1].imap} (IMAP), "
                      f":{servers[1].pop3} (POP3)")
            except (RuntimeError, OSError, KeyError) as e:
                print(f"Dovecot {version} is installed but did not start ({e}): mailsim alone")
        results = [{} for _ in range(1 + max(1, WARM_PASSES))]
        for p in range(len(results)):
            for s in servers:  # the servers take turns
                results[p][s.name] = run_pass(s.imap, s.pop3, COUNT)
        best = {s.name: {t: min((r[s.name][t] for r in results[1:]), key=lambda x: x[2]) for t in TESTS}
                for s in servers}
        print_pass("pass 1 (cold: first read of the Maildir" + ("; Dovecot builds its index)" if len(servers) == 2 else ")"),
                   results[0], servers)
        print_pass(f"warm: best of {len(results) - 1} passes (the figure to compare)", best, servers)
        if len(servers) == 2:
            print("  ratio = mailsim msg/s / Dovecot msg/s (above 1: mailsim is faster)")
            for t in TESTS:
                a, b = (best[s.name][t][1] for s in servers)
                if a != b:
                    print(f"  NOTE: {t}: mailsim sent {a} octets, Dovecot {b}")
        for t in TESTS:
            n = best[servers[0].name][t][0]
            if n != COUNT:
                print(f"  NOTE: {t}: mailsim answered for {n} of {COUNT} messages")
        load_after = os.getloadavg()
        print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
