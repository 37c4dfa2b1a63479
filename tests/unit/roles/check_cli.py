"""`mailsim check` as a user runs it: the whole scenario library passes (exit 0),
a wrong expectation is reported as FAIL with the reason (exit 1), a broken
scenario is refused with its file and place (exit 2)."""
import os
import subprocess
import sys

MAILSIM = os.environ["MAILSIM"]
SRC = os.environ["MAILSIM_SOURCE_DIR"]
DATA = os.path.join(SRC, "tests", "unit", "roles", "data")


def check(*args):
    p = subprocess.run([MAILSIM, "check", *args], capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout + p.stderr


failures = []

code, out = check(os.path.join(SRC, "scenarios"))
if code != 0 or "0 failed" not in out:
    failures.append(f"the library: exit {code}\n{out}")
for n in range(1, 16):
    if f"scenarios/{n:02d}-" not in out:
        failures.append(f"scenario {n:02d} was not checked")

code, out = check(os.path.join(DATA, "wrong-expect.json"))
if code != 1:
    failures.append(f"wrong-expect.json: exit {code}, expected 1\n{out}")
if out.count("  FAIL  ") != 2 or "  pass  " not in out:
    failures.append(f"wrong-expect.json: expected one pass and two FAIL lines\n{out}")
if "because: nothing bounced" not in out or "because: a letter was delivered at" not in out:
    failures.append(f"wrong-expect.json: the reasons are missing\n{out}")

code, out = check(os.path.join(DATA, "broken.json"))
if code != 2 or "broken.json" not in out or "/hosts/0/role" not in out:
    failures.append(f"broken.json: exit {code}, expected 2 with the place\n{out}")

if failures:
    print("\n\n".join(failures))
    sys.exit(1)
print("mailsim check: library ok, wrong expectation reported, broken scenario refused")
