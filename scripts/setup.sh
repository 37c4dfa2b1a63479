#!/usr/bin/env bash
# Installs what mailsim needs on Debian 12 (only what is missing), then
# configures and builds into ./build. Safe to run again: it does nothing
# that is already done. Used by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config ccache
  libboost-dev libssl-dev openssl nlohmann-json3-dev catch2 libcli11-dev libfmt-dev libmd4c-dev
  libimgui-dev libglfw3-dev libgoogle-perftools-dev fonts-ipafont-gothic xvfb xauth imagemagick
)
if [[ "${MAILSIM_TEST_PEERS:-0}" == 1 ]]; then
  # Real clients the interop tests talk to. A missing peer fails its test.
  packages+=(python3 curl swaks libnet-ssleay-perl msmtp python3-aiosmtpd tshark)
fi
if [[ "${MAILSIM_BENCH_PEERS:-0}" == 1 ]]; then
  # Peers the benchmarks measure beside mailsim: Postfix's smtp-source and
  # smtp-sink, and Dovecot. Only their programs are used; no daemon starts.
  packages+=(postfix dovecot-imapd dovecot-pop3d python3)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "mailsim: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  # A mail server package must not start a system daemon here (policy-rc.d
  # exit 101 = "not allowed"); one that was already there is left alone.
  guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$guard" >/dev/null
    $sudo chmod +x "$guard"
  fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n "$guard" ]]; then $sudo rm -f "$guard"; fi
fi

if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build build --parallel "$(nproc)"
