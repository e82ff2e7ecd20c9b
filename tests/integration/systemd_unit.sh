# packaging/papertrader.service passes `systemd-analyze verify` (Debian
# package systemd) with its ExecStart binary installed: cmake --install into
# a temporary prefix, the unit's /usr/local/bin/papertrader pointed there.
# Skipped with a message only where systemd-analyze cannot run at all.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
UNIT="$PT_SOURCE_DIR/packaging/papertrader.service"
if ! command -v systemd-analyze >/dev/null; then
  echo "# SKIP: no systemd-analyze here (apt-get install systemd)"; finish; exit; fi
printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' >"$T/probe.service"
if ! systemd-analyze verify "$T/probe.service" >"$T/probe.log" 2>&1; then
  echo "# SKIP: systemd-analyze verify cannot run here: $(head -1 "$T/probe.log")"; finish; exit; fi

grep -q '^ExecStart=/usr/local/bin/papertrader ' "$UNIT" && ok "ExecStart is the installed binary" ||
  bad "ExecStart is not /usr/local/bin/papertrader"
if cmake --install "$PT_BUILD_DIR" --prefix "$T/prefix" >"$T/install.log" 2>&1; then ok "cmake --install"
else bad "cmake --install" "$(tail -5 "$T/install.log")"; finish; exit; fi
sed "s|/usr/local/bin/papertrader|$T/prefix/bin/papertrader|g" "$UNIT" >"$T/papertrader.service"
if systemd-analyze verify "$T/papertrader.service" >"$T/verify.log" 2>&1 && [ ! -s "$T/verify.log" ]; then
  ok "systemd-analyze verify: clean"
else bad "systemd-analyze verify" "$(cat "$T/verify.log")"; fi
# the test can fail: a unit whose binary is missing is refused
sed "s|/usr/local/bin/papertrader|$T/none/papertrader|g" "$UNIT" >"$T/broken.service"
if ! systemd-analyze verify "$T/broken.service" >/dev/null 2>&1; then ok "a missing ExecStart binary is refused"
else bad "systemd-analyze accepted a missing binary"; fi
finish
