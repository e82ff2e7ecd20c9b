#!/usr/bin/env bash
# `cmake --install` gives a working layout (issue 5): the installed binary,
# run from an unrelated folder, serves the INSTALLED dashboard files and chart
# library, finds the shipped sample for `demo`, and writes report.html.
# A marker added to the installed index.html proves which copy is served.
set -u
. "$(dirname "$0")/lib.bash"

tmp=$(mktemp -d); trap 'kill $demo 2>/dev/null; rm -rf "$tmp"' EXIT
demo=
if ! cmake --install "$PT_BUILD_DIR" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; then
  bad "cmake --install" "$(tail -5 "$tmp/install.log")"; finish; fi
ok "cmake --install into a prefix"
bin=$tmp/prefix/bin/papertrader
share=$tmp/prefix/share/papertrader
for f in "$bin" "$share/web/index.html" "$share/web/app.js" "$share/web/report.js" \
         "$share/web/vendor/lightweight-charts.standalone.production.js" \
         "$share/data/freqtrade_UNITTEST-BTC_1m.csv" "$share/data/papertrader.example.ini" \
         "$share/systemd/papertrader.service"; do
  [ -e "$f" ] && ok "installed ${f#"$tmp/prefix/"}" || bad "missing ${f#"$tmp/prefix/"}"
done
echo '<!-- installed-copy -->' >> "$share/web/index.html"

mkdir -p "$tmp/elsewhere" && cd "$tmp/elsewhere" || exit 1
PT_BIN=$bin run_pt backtest --quiet --out "$tmp/bt" "$share/data/freqtrade_UNITTEST-BTC_1m.csv"
expect_exit 0 "installed backtest runs from another folder"
[ -s "$tmp/bt/report.html" ] && grep -q "createChart" "$tmp/bt/report.html" \
  && ok "report.html written with the installed chart library inlined" || bad "no report.html"

port=$(free_port)
"$bin" demo --port "$port" --duration 20 --out "$tmp/demo" --quiet >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo=$!
for _ in $(seq 100); do grep -q "dashboard:" "$tmp/demo.out" 2>/dev/null && break; sleep 0.1; done
page=$(curl -s "http://127.0.0.1:$port/" || true)
grep -q "installed-copy" <<<"$page" && ok "dashboard served from the installed files" \
  || bad "dashboard not from the installed copy" "$(head -c 300 <<<"$page"; cat "$tmp/demo.err" | tail -5)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/vendor/lightweight-charts.js" || true)
[ "$code" = 200 ] && ok "chart library served" || bad "chart library: HTTP $code"
kill -TERM $demo; wait $demo; rc=$?
[ "$rc" -eq 0 ] && ok "installed demo stops cleanly (exit 0)" || bad "installed demo exit $rc" "$(tail -5 "$tmp/demo.err")"
[ -s "$tmp/demo/candles/UNITTESTBTC.csv" ] && ok "installed demo found the shipped sample and recorded candles" \
  || bad "installed demo recorded nothing" "$(tail -5 "$tmp/demo.err")"
finish
