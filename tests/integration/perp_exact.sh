# Perpetual futures (issue 16 item 7): hand-made scenarios in
# tests/integration/perp/*.json run through `backtest --market perp` with the
# plan strategy (perp/plan.py) and compared, every fill, funding payment and
# portfolio row, with an independent reference written plainly with exact
# fractions (perp/reference.py) to the cent: a 10x long liquidated on a drop,
# a short receiving funding, cross margin shared by two symbols, a gap through
# the liquidation price past bankruptcy, fees on notional with a mark file.
set -u
. "$(dirname "$0")/lib.bash"
D="$(cd "$(dirname "$0")" && pwd)/perp"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# scenario.json -> candle files (one per symbol), marks, funding; prints the args
inputs() {
  python3 - "$1" "$2" <<'PY'
import json, sys
sc, out = json.load(open(sys.argv[1])), sys.argv[2]
args = []
for s in sc["symbols"]:
    for kind in ("candles", "marks"):
        if kind not in s:
            continue
        path = "%s/%s%s.csv" % (out, s["name"], "" if kind == "candles" else "-mark")
        with open(path, "w") as f:
            f.write("timestamp,symbol,open,high,low,close,volume\n")
            for c in s[kind]:
                f.write("%d,%s,%s,%s,%s,%s,1000\n" % (c[0], s["name"], c[1], c[2], c[3], c[4]))
        args += [path] if kind == "candles" else ["--mark", path]
if "funding" in sc:
    with open(out + "/funding.csv", "w") as f:
        f.write("ts,symbol,rate,mark_price\n")
        for r in sc["funding"]:
            f.write("%d,%s,%s,%s\n" % (r[0], r[1], r[2], r[3] if len(r) > 3 else ""))
    args += ["--funding", out + "/funding.csv"]
p = sc["plan"]
args += ["--leverage", str(sc["leverage"]), "--margin", sc.get("margin", "isolated"),
         "--cash", str(sc.get("cash", 10000)), "--fee-bps", str(sc.get("fee_bps", 10))]
for k in ("enter", "side", "qty", "exit"):
    if k in p:
        args += ["--param", "%s=%s" % (k, p[k])]
print("\n".join(args))
PY
}

for sc in "$D"/*.json; do
  name=$(basename "$sc" .json)
  mkdir -p "$T/$name"
  mapfile -t A < <(inputs "$sc" "$T/$name")
  run_pt backtest --market perp --strategy "$D/plan.py" --min-quality 0 --quiet --out "$T/$name/out" "${A[@]}"
  expect_exit 0 "$name: backtest --market perp runs"
  if R=$(python3 "$D/reference.py" "$sc" "$T/$name/out" 2>&1); then
    ok "$name: every fill, funding payment and portfolio row equals the reference to the cent"
  else
    bad "$name: differs from the reference" "$R"
  fi
done
finish
