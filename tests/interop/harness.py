"""Shared helpers for the interop tests: start `mailsim serve` with a temporary
config on free ports, wait until it listens, talk to it, read its Maildir, and
stop it by PID.

Every test file is one ctest test run by /usr/bin/python3 with MAILSIM set to
the mailsim binary. A file defines test_* functions and ends with
`sys.exit(harness.main(globals()))`, which runs them in order, prints one line
each and returns 1 if any failed. A missing peer program (curl, swaks, ...) is a failure,
never a skip.

    with harness.Server() as srv:                # defaults: users alice, bob
        with smtplib.SMTP("127.0.0.1", srv.port("smtp")) as c:
            c.sendmail("a@example.org", ["bob@mailsim.test"], msg)
        [stored] = srv.wait_for_messages("bob", 1)
        assert harness.body_after_trace(stored) == msg
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# Safety limit for anything we wait for: a hang becomes a failure, never a
# slow pass. Waits end as soon as the awaited thing happens.
WAIT = 30.0

DOMAIN = "mailsim.test"
USERS = {"alice": "alice-password", "bob": "bob-password"}


def mailsim_binary():
    path = os.environ.get("MAILSIM")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("MAILSIM must name the mailsim binary (got %r)" % path)
    return path


def require_program(name):
    """Path of a peer program; a missing one fails the test (never skips)."""
    path = shutil.which(name) or (os.path.exists("/usr/sbin/" + name) and "/usr/sbin/" + name)
    if not path:
        raise AssertionError("peer program %r is not installed (apt-get install it)" % name)
    return path


def deep_merge(base, extra):
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Server:
    """`mailsim serve` in a temporary folder, every port chosen by the kernel
    (port 0), short idle timeout unless the test says otherwise."""

    def __init__(self, config=None, keep=False):
        self.dir = tempfile.mkdtemp(prefix="mailsim-interop-")
        self.keep = keep or bool(os.environ.get("MAILSIM_KEEP"))
        self.config = deep_merge(
            {
                "ports": {k: 0 for k in ("smtp", "submission", "pop3", "imap", "pop3s", "imaps")},
                "local_domains": [DOMAIN],
                "users": [{"name": u, "password": p} for u, p in USERS.items()],
                "data_dir": "data",
                "threads": 2,
                "limits": {"idle_timeout": 20, "shutdown_grace": 5},
            },
            config or {},
        )
        self.config_path = os.path.join(self.dir, "serve.json")
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "serve.log")
        self.proc = None
        self.info = None

    # ---- lifecycle ----
    def start(self):
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [mailsim_binary(), "serve", "--config", self.config_path],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        listening = os.path.join(self.data, "run", "listening.json")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("mailsim serve exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                with open(listening) as f:
                    info = json.load(f)
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.02)  # polling a file the server writes once it listens
        self.kill()
        raise AssertionError("mailsim serve did not start listening:\n" + self.log())

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` to the server (by PID) and returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("mailsim serve did not stop after %s:\n%s" % (sig, self.log()))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=WAIT)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        code = self.stop()
        if exc_type is None and code not in (0, None):
            raise AssertionError("mailsim serve exited with %s:\n%s" % (code, self.log()))
        if exc_type is not None:
            sys.stderr.write("---- mailsim serve log ----\n" + self.log() + "---------------------------\n")
        if not self.keep and exc_type is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    # ---- facts ----
    def port(self, service):
        ports = self.info["ports"]
        if service not in ports:
            raise AssertionError("mailsim serve does not listen for %s (it has %s)" % (service, sorted(ports)))
        return ports[service]

    @property
    def ca(self):
        return self.info["ca"]

    @property
    def hostname(self):
        return self.info["hostname"]

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- mailboxes ----
    def maildir(self, user):
        return os.path.join(self.info["maildir"], user, "Maildir")

    def messages(self, user):
        """All messages in the user's INBOX (new/ and cur/), in delivery
        order, as stored on disk (LF line ends)."""
        out = []
        base = self.maildir(user)
        names = []
        for sub in ("new", "cur"):
            d = os.path.join(base, sub)
            if os.path.isdir(d):
                names += [os.path.join(d, n) for n in os.listdir(d) if not n.startswith(".")]
        for path in sorted(names, key=lambda p: os.path.basename(p)):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_for_messages(self, user, count):
        """The user's messages once there are `count` of them. Delivery is
        durable before 250, so they are normally there already."""
        deadline = time.monotonic() + WAIT
        while True:
            msgs = self.messages(user)
            if len(msgs) >= count or time.monotonic() > deadline:
                assert len(msgs) == count, "expected %d messages for %s, found %d" % (count, user, len(msgs))
                return msgs
            time.sleep(0.02)


# ---- message helpers ----
TRACE_FIELDS = (b"return-path:", b"delivered-to:", b"received:")


def to_crlf(data):
    """Maildir files are stored with LF line ends; SMTP carries CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def split_trace(stored):
    """(trace fields the server added, unfolded, and the rest) of a stored
    message, in network form. The server adds, in order: Return-Path:, Delivered-To:,
    then its Received: (folded over several lines)."""
    data = to_crlf(stored)
    fields = []
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        assert end >= 0
        line = data[pos:end + 2]
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        elif len(fields) < 3 and line.lower().startswith(TRACE_FIELDS[len(fields)]):
            fields.append(line)
        else:
            break
        pos = end + 2
    assert [f.split(b":")[0].lower() + b":" for f in fields] == list(TRACE_FIELDS), fields
    return [unfold(f) for f in fields], data[pos:]


def unfold(field):
    """RFC 5322 §2.2.3: a folded field reads as one line (CRLF WSP -> WSP)."""
    return field.replace(b"\r\n\t", b" ").replace(b"\r\n ", b" ")


def body_after_trace(stored):
    return split_trace(stored)[1]


def make_message(subject, body_lines, sender="alice@mailsim.test", to="bob@mailsim.test", extra_headers=()):
    """A CRLF message with a unique Message-ID; returns bytes."""
    head = [
        "From: <%s>" % sender,
        "To: <%s>" % to,
        "Subject: %s" % subject,
        "Message-ID: <%s.%d@interop.mailsim.test>" % (subject.replace(" ", "-"), time.monotonic_ns()),
        "Date: Mon, 23 Nov 2026 12:00:00 +0000",
    ] + list(extra_headers)
    text = "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(body_lines) + "\r\n"
    return text.encode("utf-8")


# ---- raw sockets ----
class RawClient:
    """A line-oriented SMTP client over a plain socket, for bad input."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=WAIT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        """One reply line without CRLF; b'<EOF>' at end of stream."""
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest if rest else b"<EOF>"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """A whole (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            line = self.line()
            if line == b"<EOF>":
                return (None, lines + [line])
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return (int(line[:3]) if line[:3].isdigit() else None, lines)

    def command(self, text):
        self.send(text if isinstance(text, bytes) else text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run(cmd, input=None, timeout=WAIT, check=True):
    """Runs a peer program; returns CompletedProcess (stdout+stderr text)."""
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError("%s exited with %d:\n%s" % (" ".join(cmd), p.returncode, out))
    p.text = out
    return p


# ---- runner ----
def main(namespace):
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    only = os.environ.get("MAILSIM_ONLY")
    failed = []
    tests = [(n, f) for n, f in tests if not only or only in n]
    for name, fn in tests:
        start = time.monotonic()
        try:
            fn()
            print("PASS %s (%.2fs)" % (name, time.monotonic() - start), flush=True)
        except Exception:
            failed.append(name)
            print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
    print("%d passed, %d failed" % (len(tests) - len(failed), len(failed)))
    return 1 if failed else 0
