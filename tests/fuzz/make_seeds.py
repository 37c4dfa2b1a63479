#!/usr/bin/python3
"""Writes the seed corpora of mailsim's fuzz targets (tests/fuzz/README.md).

The seeds come from the golden transcripts in tests/golden/{smtp,pop3,imap}/
(the client's C: lines, the server's S: lines) and a few messages, encoded in
the fuzz input format of tests/fuzz/fuzz_util.h: option bytes first, then the
stream, with 0xFF 0xNN between packets (a chunk boundary and host action NN)
and 0xFF 0xFF for a literal 0xFF byte.

Usage: make_seeds.py OUT_DIR      (writes OUT_DIR/<target>/seed-*)
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")


def unescape(text):
    """The golden files' escapes: \\r \\n \\t \\0 \\\\ \\xHH."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in "rnt0\\":
                out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}[n]
                i += 2
                continue
            if n == "x" and re.match(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def encode(header, packets, action=0):
    """Option bytes + packets joined by FF <action>."""
    out = bytearray(header)
    for k, p in enumerate(packets):
        if k:
            out += bytes([0xFF, action])
        out += p.replace(b"\xff", b"\xff\xff")
    return bytes(out)


def smtp_transcript(path):
    """(config dict, client packets, server reply packets) of an SMTP golden file."""
    config, client, server = {}, [], []
    last = None
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith("config: "):
            k, _, v = line[8:].partition("=")
            config[k] = v
        elif line.startswith("C: "):
            client.append(unescape(line[3:]) + b"\r\n")
        elif line.startswith("C+ ") or line == "C+":
            if client:
                client[-1] += unescape(line[3:]) + b"\r\n"
        elif line.startswith("C~ "):
            client.append(unescape(line[3:]))
        if line.startswith("S: "):
            if last != "S":
                server.append(b"")
            server[-1] += unescape(line[3:]) + b"\r\n"
            last = "S"
        elif line.startswith(("C", "H", "tls", "closed")):
            last = None
    return config, client, server


def smtp_server_header(config):
    tls = {"off": 0, "optional": 1, "required": 2}.get(config.get("tls", "off"), 0)
    b0 = tls
    if config.get("tls_available") == "yes":
        b0 |= 1 << 2
    b0 |= {"off": 0, "optional": 1, "required": 2}.get(config.get("auth", "off"), 0) << 3
    if config.get("auth_before_tls") == "yes":
        b0 |= 1 << 5
    if "reject_greeting" in config:
        b0 |= 1 << 6
    if any(k in config for k in ("max_message_size", "max_recipients", "max_errors")):
        b0 |= 1 << 7
    return b0


def line_transcript(path):
    """(options dict, client packets) of a POP3 or IMAP golden file; each C: line is a packet."""
    options, client = {}, []
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        m = re.match(r"@ ?config (.*)", line)
        if m:
            for kv in m.group(1).split():
                k, _, v = kv.partition("=")
                options[k] = v
        elif line.startswith("C: ") or line == "C:":
            client.append(line[3:].encode("utf-8") + b"\r\n")
    return options, client


def golden_messages():
    """Messages from the IMAP transcripts' @deliver blocks."""
    msgs = []
    for name in sorted(os.listdir(os.path.join(GOLDEN, "imap"))):
        if not name.endswith(".txt"):
            continue
        cur = None
        for raw in open(os.path.join(GOLDEN, "imap", name), encoding="utf-8"):
            line = raw.rstrip("\n")
            if line.startswith("@deliver"):
                cur = []
                msgs.append(cur)
            elif cur is not None and (line.startswith("| ") or line == "|"):
                cur.append(line[2:])
            else:
                cur = None
    return [("\r\n".join(m) + "\r\n").encode("utf-8") for m in msgs if m]


EXTRA_MESSAGES = [
    b"From: \"Alice A.\" <alice@alpha.example>\r\nTo: bob@beta.example, group: carol@gamma.example, "
    b"dave@delta.example;\r\nCc: (comment) eve@epsilon.example (Eve)\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= "
    b"=?ISO-8859-1?B?Y2Fm6Q==?=\r\nDate: Tue, 14 Nov 2023 23:00:00 +0100\r\nMessage-ID: <1@alpha.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n"
    b"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"caf=C3=A9 =\r\nsoft break\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--inner--\r\n"
    b"--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@x.example\r\nSubject: inner\r\n"
    b"Content-Type: text/plain\r\n\r\ninner body\r\n--outer\r\nContent-Type: application/pdf; "
    b"name*0=\"long\"; name*1=\"name.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\nContent-Language: en, fr\r\nContent-Location: http://x/\r\n\r\n"
    b"JVBERi0xLjQK\r\n--outer--\r\nepilogue\r\n",
    b"From mbox-line Tue Nov 14 2023\nSubject: folded\n  continuation\n\tmore\nX-Bad line\n\nbody\n",
    b"Subject: no blank line",
    b"Content-Type: multipart/mixed\r\n\r\nno boundary parameter\r\n",
    b"Received: from a by b; Tue, 14 Nov 2023 23:00:00 +0100\r\nReceived: from c by d\r\n"
    b"Return-Path: <>\r\nDate: 1 Jan 70 00:00 GMT\r\nSubject: \xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\r\n\r\n.\r\n",
]

CLIENT_REPLY_SCRIPTS = [
    # greeting, EHLO, pipelined MAIL/RCPT/RCPT/DATA, content, probe, QUIT
    [b"220 mx.beta.example ESMTP\r\n",
     b"250-mx.beta.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
     b"250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n",
     b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 User unknown\r\n354 go\r\n",
     b"250 2.0.0 Ok: queued as 1\r\n",
     b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n", b"250 2.0.0 Ok\r\n", b"221 2.0.0 Bye\r\n"],
    # STARTTLS then AUTH LOGIN, lock-step
    [b"220 mx ESMTP\r\n", b"250-mx\r\n250-STARTTLS\r\n250 AUTH=LOGIN\r\n", b"220 2.0.0 Ready to start TLS\r\n",
     b"250-mx\r\n250 AUTH LOGIN PLAIN\r\n", b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n",
     b"235 2.7.0 Authentication successful\r\n", b"250 Ok\r\n", b"250 Ok\r\n", b"250 Ok\r\n", b"354 End\r\n",
     b"451 4.3.0 try later\r\n", b"250 Ok\r\n", b"421 4.7.0 closing\r\n"],
    # EHLO refused: HELO fallback
    [b"220 old.example\r\n", b"502 5.5.1 EHLO not supported\r\n", b"250 old.example\r\n", b"250 ok\r\n",
     b"250 ok\r\n", b"250 ok\r\n", b"354 ok\r\n", b"250 ok\r\n"],
    # rejected greeting
    [b"554 5.7.1 no service\r\n", b"221 bye\r\n"],
]


def write(out_dir, target, blobs):
    d = os.path.join(out_dir, target)
    os.makedirs(d, exist_ok=True)
    for blob in blobs:
        name = "seed-" + hashlib.sha1(blob).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(blob)
    return len(blobs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    counts = {}

    smtp = [smtp_transcript(os.path.join(GOLDEN, "smtp", n))
            for n in sorted(os.listdir(os.path.join(GOLDEN, "smtp"))) if n.endswith(".txt")]
    seeds = []
    for config, client, _ in smtp:
        b0 = smtp_server_header(config)
        seeds.append(encode([b0, 0xFF, 0], client))         # accept everything, TLS at once
        seeds.append(encode([b0, 0x5A, 1], client, 1))      # mixed answers, given between packets
        seeds.append(encode([b0 | 0x80, 0xF7, 4], client, 3))  # small limits, TLS at an action
    # Limits: the longest command line, a parameter echoed in the reply, an AUTH line.
    seeds.append(encode([0, 0xFF, 0], [b"EHLO a\r\n", b"MAIL FROM:<> " + b"X" * 497 + b"\r\n",
                                      b"MAIL FROM:<> " + b"Y" * 480 + b"=\r\n"]))
    seeds.append(encode([0x2C, 0xFF, 0], [b"EHLO a\r\n", b"AUTH PLAIN " + b"QUFB" * 3000 + b"\r\n", b"QUIT\r\n"]))
    counts["smtp_server"] = write(out, "smtp_server", seeds)

    seeds = []
    for script in CLIENT_REPLY_SCRIPTS:
        for b0, b1 in ((0x01, 0), (0x05, 0), (0x0E, 0), (0x21, 4), (0x81, 0)):
            seeds.append(encode([b0, b1], script))
    for _, _, server in smtp:
        seeds.append(encode([0x01, 0], server))
    counts["smtp_client"] = write(out, "smtp_client", seeds)

    seeds = [encode([], server) for _, _, server in smtp]
    seeds += [encode([], s) for s in CLIENT_REPLY_SCRIPTS]
    counts["smtp_reply"] = write(out, "smtp_reply", seeds)

    seeds = []
    for _, client, _ in smtp:
        for p in client:
            seeds.append(encode([], [p.rstrip(b"\r\n")]))
    seeds += [encode([], [m[:40], m[40:]]) for m in EXTRA_MESSAGES]
    counts["smtp_command"] = write(out, "smtp_command", sorted(set(seeds)))

    seeds = []
    for n in sorted(os.listdir(os.path.join(GOLDEN, "pop3"))):
        if not n.endswith(".txt"):
            continue
        options, client = line_transcript(os.path.join(GOLDEN, "pop3", n))
        b0 = (1 if options.get("allow_plaintext_auth") == "true" else 0) | (2 if options.get("tls_available") == "true" else 0)
        seeds.append(encode([b0 | 0x10, 0], client))
        seeds.append(encode([b0 | 0x01, 0], client, 5))  # mail arrives between commands
        seeds.append(encode([b0 | 0x03, 1], client, 6))  # a second session tries the maildrop
    counts["pop3_server"] = write(out, "pop3_server", seeds)

    seeds, streams = [], []
    for n in sorted(os.listdir(os.path.join(GOLDEN, "imap"))):
        if not n.endswith(".txt"):
            continue
        options, client = line_transcript(os.path.join(GOLDEN, "imap", n))
        streams.append(client)
        b0 = 0 if options.get("allow_plaintext_login") == "false" else 1
        if options.get("tls_available") == "true":
            b0 |= 2
        seeds.append(encode([b0], client))
        seeds.append(encode([b0 | 0x08], client, 5))  # small limits, new mail between commands
        seeds.append(encode([b0], client, 6))         # another client expunges
    counts["imap_server"] = write(out, "imap_server", seeds)

    seeds = []
    for client in streams:
        seeds.append(encode([0], client))
        seeds.append(encode([1], client))
    counts["imap_command"] = write(out, "imap_command", seeds)

    messages = golden_messages() + EXTRA_MESSAGES
    counts["mime"] = write(out, "mime", [encode([], [m]) for m in messages])
    counts["message_headers"] = write(out, "message_headers",
                                      [encode([], [m[:k], m[k:]]) for m in messages for k in (0, 7, 30)])
    for t, n in counts.items():
        print(f"  {t}: {n} seeds")


if __name__ == "__main__":
    main()
