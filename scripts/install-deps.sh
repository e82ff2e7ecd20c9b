#!/usr/bin/env bash
# Installs what papertrader needs on Debian 12, and nothing when it is all
# there already (fast path: dpkg-query + a lockfile stamp). Run as root, or
# with sudo available. Called by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PKGS=(build-essential cmake pkg-config libwebsockets-dev libcurl4-openssl-dev libcjson-dev
          libcsv-dev libinih-dev libcmocka-dev nodejs npm chromium iproute2 procps curl cppcheck)
# optional extras for `make test` tiers: clang for fuzz targets
if [ "${PT_WITH_FUZZ:-0}" = 1 ]; then DEB_PKGS+=(clang libclang-rt-14-dev); fi
# the test suite's tools: promtool (tests/integration/metrics_promtool.sh; Debian ships it only in
# the prometheus package, whose own server service Debian enables), systemd-analyze, clang (make
# build-matrix)
if [ "${PT_WITH_TEST_TOOLS:-0}" = 1 ]; then DEB_PKGS+=(prometheus systemd clang); fi

missing=()
for p in "${DEB_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from elsewhere on a dev machine: accept the commands
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages from the committed lockfile; re-run only when it changes
if [ -f package-lock.json ]; then
  stamp=node_modules/.pt-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "install-deps: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi
