# /metrics of a live session (demo: simulator + session + dashboard) uses the
# one prefix papertrader_ and is clean under `promtool check metrics`
# (Debian package prometheus; scripts/install-deps.sh installs it): HELP and
# TYPE for every family, the REST latency a proper summary.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
if ! command -v promtool >/dev/null; then bad "promtool missing (apt-get install prometheus)"; finish; exit; fi
SCALE=1; [ "${PT_SANITIZE:-0}" = 1 ] && SCALE=3
"$PT_BIN" demo --quiet --port 0 --out "$T/d" --duration $((60 * SCALE)) >"$T/out" 2>"$T/err" &
pid=$!
url=
for _ in $(seq $((100 * SCALE))); do
  url=$(sed -n 's/^dashboard: \(http[^ ]*\)$/\1/p' "$T/out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] && ok "demo serves $url" || { bad "no dashboard line" "$(cat "$T/out" "$T/err")"; finish; exit; }
# wait until the REST latency summary has samples (the demo backfills gaps)
for _ in $(seq $((200 * SCALE))); do
  curl -s "${url}metrics" >"$T/m" && grep -q '^papertrader_rest_latency_seconds_count [1-9]' "$T/m" && break
  sleep 0.1
done
grep -q '^# TYPE papertrader_rest_latency_seconds summary$' "$T/m" && ok "REST latency is a summary" ||
  bad "REST latency is not a summary" "$(grep rest_latency "$T/m")"
grep -q '^papertrader_rest_latency_seconds_sum ' "$T/m" && ok "with _sum and _count" || bad "no _sum"
others=$(awk '/^# TYPE/ && $3 !~ /^papertrader_/ {print $3}' "$T/m")
[ -z "$others" ] && ok "every family starts with papertrader_ ($(grep -c '^# TYPE' "$T/m") families)" ||
  bad "families without the papertrader_ prefix" "$others"
if promtool check metrics <"$T/m" >"$T/prom" 2>&1; then ok "promtool check metrics: clean"
else bad "promtool check metrics" "$(cat "$T/prom")"; fi
# the check can fail: a gauge with a quantile label is refused
printf '# HELP x_seconds x\n# TYPE x_seconds gauge\nx_seconds{quantile="0.5"} 1\n' | promtool check metrics >/dev/null 2>&1 &&
  bad "promtool accepted a gauge with a quantile label" || ok "promtool refuses a gauge with a quantile label"
finish
