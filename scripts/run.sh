#!/usr/bin/env bash
# The main job: installs what is missing, builds, and starts mailsim.
# For now that is `mailsim serve` in the foreground (the real SMTP server on
# 127.0.0.1); arguments are passed on to it. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/ui/mailsim serve "$@"
