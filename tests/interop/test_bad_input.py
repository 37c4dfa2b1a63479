"""Bad input over a real socket: each gets its documented reply, nothing bad
is delivered, and the server keeps serving. Also: a stalled client is dropped
after the idle timeout, the connection cap answers 421, and SIGTERM / SIGINT
stop the server with exit code 0 after telling open sessions 421."""

import os
import signal
import smtplib
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = None
EXTRA_USERS = [{"name": n, "password": n + "-password"} for n in ("alice", "bob", "carol", "dave")]
LIMITS = {"recipients": 3, "message_size": 4096}


def greeted(port):
    c = harness.RawClient(port)
    code, lines = c.reply()
    assert code == 220, lines
    return c


def ehlo(c, name="raw.example"):
    code, lines = c.command("EHLO " + name)
    assert code == 250, lines
    return lines


def assert_alive():
    """The server still answers and delivers."""
    assert SERVER.alive(), SERVER.log()
    before = len(SERVER.messages("dave"))
    with smtplib.SMTP("127.0.0.1", SERVER.port("smtp"), timeout=harness.WAIT) as s:
        s.sendmail("check@example.org", ["dave@mailsim.test"], b"Subject: alive\r\n\r\nstill here\r\n")
    SERVER.wait_for_messages("dave", before + 1)


def test_size_is_announced():
    with greeted(SERVER.port("smtp")) as c:
        assert b"250-SIZE 4096" in ehlo(c)


def test_overlong_command_line():
    with greeted(SERVER.port("smtp")) as c:
        ehlo(c)
        code, lines = c.command("NOOP " + "x" * 5000)
        assert (code, lines) == (500, [b"500 5.5.2 Error: line too long"]), lines
        # The rest of the long line was discarded; the session goes on.
        assert c.command("NOOP")[0] == 250
    assert_alive()


def test_too_many_recipients():
    before = {u: len(SERVER.messages(u)) for u in ("alice", "bob", "carol", "dave")}
    with greeted(SERVER.port("smtp")) as c:
        ehlo(c)
        assert c.command("MAIL FROM:<sender@example.org>")[0] == 250
        for u in ("alice", "bob", "carol"):
            assert c.command("RCPT TO:<%s@mailsim.test>" % u)[0] == 250
        code, lines = c.command("RCPT TO:<dave@mailsim.test>")
        assert code == 452 and b"4.5.3" in lines[0], lines
        assert c.command("DATA")[0] == 354
        code, lines = c.command("Subject: three\r\n\r\nonly three of four\r\n.")
        assert code == 250, lines
    for u in ("alice", "bob", "carol"):
        SERVER.wait_for_messages(u, before[u] + 1)
    assert len(SERVER.messages("dave")) == before["dave"]


def test_oversize_message():
    before = len(SERVER.messages("bob"))
    with greeted(SERVER.port("smtp")) as c:
        ehlo(c)
        code, lines = c.command("MAIL FROM:<sender@example.org> SIZE=100000")
        assert code == 552 and b"5.3.4" in lines[0], lines
        # Without SIZE= the server finds out at the end of the data.
        assert c.command("MAIL FROM:<sender@example.org>")[0] == 250
        assert c.command("RCPT TO:<bob@mailsim.test>")[0] == 250
        assert c.command("DATA")[0] == 354
        body = b"Subject: big\r\n\r\n" + (b"y" * 70 + b"\r\n") * 100
        code, lines = c.command(body + b".\r\n")
        assert code == 552 and b"5.3.4" in lines[0], lines
        assert c.command("NOOP")[0] == 250
    assert len(SERVER.messages("bob")) == before
    assert_alive()


def test_bare_lf_smuggling_is_refused():
    # SMTP smuggling (2023): "\n.\n" ends the data for a lenient server, and
    # the rest becomes a second, forged message. mailsim refuses bare LF.
    for end_of_data in (b"\n.\n", b"\r\n.\n", b"\n.\r\n"):
        before = len(SERVER.messages("bob"))
        with greeted(SERVER.port("smtp")) as c:
            ehlo(c)
            assert c.command("MAIL FROM:<alice@example.org>")[0] == 250
            assert c.command("RCPT TO:<bob@mailsim.test>")[0] == 250
            assert c.command("DATA")[0] == 354
            c.send(b"Subject: innocent\r\n\r\nhello" + end_of_data +
                   b"MAIL FROM:<ceo@mailsim.test>\r\nRCPT TO:<bob@mailsim.test>\r\nDATA\r\n"
                   b"Subject: smuggled\r\n\r\nwire the money\r\n.\r\n")
            code, lines = c.reply()
            assert code == 521 and b"bare <LF>" in lines[0], (end_of_data, lines)
            assert c.line() == b"<EOF>"
        assert_alive()
        # Neither the first nor the smuggled message was delivered.
        msgs = SERVER.messages("bob")
        assert len(msgs) == before, msgs[before:]
        assert not any(b"smuggled" in m for m in msgs)


def test_commands_out_of_order():
    with greeted(SERVER.port("smtp")) as c:
        code, lines = c.command("MAIL FROM:<a@example.org>")
        assert code == 503, lines  # before EHLO
        ehlo(c)
        assert c.command("RCPT TO:<bob@mailsim.test>")[0] == 503
        assert c.command("DATA")[0] == 503
        assert c.command("MAIL FROM:<a@example.org>")[0] == 250
        assert c.command("MAIL FROM:<a@example.org>")[0] == 503  # nested MAIL
        assert c.command("DATA")[0] == 503  # no recipient yet
        assert c.command("RSET")[0] == 250
        assert c.command("QUIT")[0] == 221
        assert c.line() == b"<EOF>"
    assert_alive()


def test_garbage_bytes_end_in_too_many_errors():
    with greeted(SERVER.port("smtp")) as c:
        code, lines = c.command(b"\x00\xff\xfe\x80garbage\x1b[31m\r\n")
        assert code == 500, lines
        c.send(b"".join(b"\xde\xad\xbe\xef %d\r\n" % i for i in range(40)))
        codes = []
        while True:
            code, lines = c.reply()
            if code is None:
                break
            codes.append(code)
        assert codes[-1] == 421 and set(codes[:-1]) == {500}, codes
    assert_alive()


def test_command_pipelined_after_starttls_is_discarded():
    # CVE-2011-0411: a man in the middle appends a command to STARTTLS in the
    # same packet; the server must not run it inside the TLS session.
    with greeted(SERVER.port("smtp")) as c:
        ehlo(c)
        c.send(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
        code, lines = c.reply()
        assert code == 220, lines
        assert c.buf == b"", c.buf
        ctx = ssl.create_default_context(cafile=SERVER.ca)
        c.sock = ctx.wrap_socket(c.sock, server_hostname="127.0.0.1")
        ehlo(c)
        # Had the injected MAIL been kept, this RCPT would be accepted.
        code, lines = c.command("RCPT TO:<bob@mailsim.test>")
        assert code == 503, lines
        assert c.command("MAIL FROM:<honest@example.org>")[0] == 250
    assert_alive()


def test_auth_garbage_and_aborts():
    with greeted(SERVER.port("submission")) as c:
        ehlo(c)
        c.send(b"STARTTLS\r\n")
        assert c.reply()[0] == 220
        c.sock = ssl.create_default_context(cafile=SERVER.ca).wrap_socket(c.sock, server_hostname="127.0.0.1")
        ehlo(c)
        assert c.command("AUTH PLAIN !!!notbase64")[0] == 501
        assert c.command("AUTH LOGIN")[0] == 334
        assert c.command("*")[0] == 501  # client cancels (RFC 4954 §4)
        assert c.command("AUTH CRAM-MD5")[0] == 504
        assert c.command("MAIL FROM:<alice@mailsim.test>")[0] == 530
    assert_alive()


def test_a_stalled_client_is_dropped_after_the_idle_timeout():
    with harness.Server({"limits": {"idle_timeout": 0.5}}) as srv:
        with harness.RawClient(srv.port("smtp")) as c:
            assert c.reply()[0] == 220
            t0 = time.monotonic()
            code, lines = c.reply()  # we say nothing
            assert code == 421 and b"4.4.2" in lines[0] and b"timeout" in lines[0], lines
            assert c.line() == b"<EOF>"
            assert time.monotonic() - t0 >= 0.4
        # Stalled in the middle of a message: dropped too, nothing delivered.
        with harness.RawClient(srv.port("smtp")) as c:
            assert c.reply()[0] == 220
            assert c.command("HELO raw.example")[0] == 250
            assert c.command("MAIL FROM:<a@example.org>")[0] == 250
            assert c.command("RCPT TO:<bob@mailsim.test>")[0] == 250
            assert c.command("DATA")[0] == 354
            c.send(b"Subject: half\r\n\r\nhalf a mess")
            code, lines = c.reply()
            assert code == 421 and b"4.4.2" in lines[0], lines
            assert c.line() == b"<EOF>"
        assert srv.messages("bob") == []
        assert srv.alive()


def test_connection_cap_refuses_politely():
    with harness.Server({"limits": {"connections": 3}}) as srv:
        held = [greeted(srv.port("smtp")) for _ in range(3)]
        with harness.RawClient(srv.port("submission")) as extra:
            code, lines = extra.reply()
            assert code == 421 and b"4.7.0" in lines[0] and b"too many connections" in lines[0], lines
            assert extra.line() == b"<EOF>"
        assert held[0].command("QUIT")[0] == 221
        assert held[0].line() == b"<EOF>"
        held[0].close()
        # The slot frees once the server has closed its side; retry briefly.
        deadline = time.monotonic() + harness.WAIT
        while True:
            with harness.RawClient(srv.port("smtp")) as again:
                code, lines = again.reply()
                if code == 220:
                    break
                assert code == 421 and time.monotonic() < deadline, lines
            time.sleep(0.01)
        for h in held[1:]:
            h.close()


def test_sigterm_stops_with_421_and_exit_0():
    for sig in (signal.SIGTERM, signal.SIGINT):
        srv = harness.Server().start()
        try:
            idle = greeted(srv.port("smtp"))
            busy = greeted(srv.port("submission"))
            ehlo(busy)
            code = srv.stop(sig)
            assert code == 0, (sig, code, srv.log())
            for c in (idle, busy):
                code, lines = c.reply()
                assert code == 421 and b"4.3.2" in lines[0], lines
                assert c.line() == b"<EOF>"
                c.close()
            assert "stopping" in srv.log() and "stopped" in srv.log(), srv.log()
            # The port is free again: nothing listens there any more.
            try:
                socket.create_connection(("127.0.0.1", srv.port("smtp")), timeout=5).close()
                raise AssertionError("still listening after stop")
            except ConnectionRefusedError:
                pass
        finally:
            srv.kill()
            if not srv.keep:
                import shutil
                shutil.rmtree(srv.dir, ignore_errors=True)


def test_bad_config_names_file_and_pointer_and_exits_2():
    import subprocess
    import tempfile
    d = tempfile.mkdtemp(prefix="mailsim-badconfig-")
    path = os.path.join(d, "serve.json")
    with open(path, "w") as f:
        f.write('{"limits": {"recipients": "lots"}, "data_dir": "data"}')
    p = subprocess.run([harness.mailsim_binary(), "serve", "--config", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=harness.WAIT)
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err)
    assert path in err and "/limits/recipients" in err and "whole number" in err, err
    assert not os.path.exists(os.path.join(d, "data")), "a refused config must not create anything"
    p = subprocess.run([harness.mailsim_binary(), "serve", "--config", os.path.join(d, "missing.json")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=harness.WAIT)
    assert p.returncode == 2 and "missing.json" in p.stderr.decode(), p.stderr
    import shutil
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    with harness.Server({"users": EXTRA_USERS, "limits": LIMITS}) as SERVER:
        code = harness.main(globals())
    sys.exit(code)
