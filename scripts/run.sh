#!/usr/bin/env bash
# The main job: installs what is missing, builds, and starts mailsim.
#   bash scripts/run.sh            the classroom view on the first scenario; without
#                                  a display, the same scenario told as a story in text
#   bash scripts/run.sh ARGS...    any mailsim subcommand, e.g. `serve`, `open FILE`,
#                                  `run FILE`, `check scenarios/`
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if (($# > 0)); then
  exec build/ui/mailsim "$@"
fi
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec build/ui/mailsim
fi
echo "No display here, so this is the first scenario told in text (mailsim run)." >&2
echo "With a display, the same command opens the classroom view." >&2
exec build/ui/mailsim run scenarios/01-basic-send-pop3.json
