# One table of engine options (ops/ops_config.c's schema, printed by
# `papertrader config keys`): every ranged option with a flag is accepted or
# refused alike at its boundaries by the flag, a config file and the
# environment, for backtest and for run; --fsync takes the same words
# everywhere (fill = every). Fails when two paths disagree or when a value
# in range is refused / one out of range accepted.
set -u
. "$(dirname "$0")/lib.bash"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F="$T/c.csv"
node -e 'let s="timestamp,open,high,low,close,volume\n";for(let i=0;i<60;i++){const p=100+10*Math.sin(i/5);s+=`${1700000000000+i*60000},${p},${p+1},${p-1},${p+0.5},${10+i}\n`}process.stdout.write(s)' >"$F"
RUN_BASE=(run --quiet --duration 0.1 --no-dashboard --ws-url ws://127.0.0.1:9 --rest-url http://127.0.0.1:9
          --symbols BTCUSDT)
N=0
# try CMD PATH SECTION KEY FLAGARG VALUE: exit code of one command with the
# value given one way (flag / file / env); prints the exit code
try() {
  local cmd="$1" how="$2" sec="$3" key="$4" flagarg="$5" val="$6" out="$T/o$((N += 1))" args=() envv=()
  case "$how" in
    flag) args=("$flagarg") ;;
    file) printf '[%s]\n%s = %s\n' "$sec" "$key" "$val" >"$out.ini"; args=(--config "$out.ini") ;;
    env) envv=("PAPERTRADER_${sec^^}_${key^^}=$val") ;;
  esac
  local rc
  if [ "$cmd" = backtest ]; then
    env "${envv[@]}" "$PT_BIN" backtest --quiet --out "$out" "${args[@]}" "$F" >/dev/null 2>"$out.err"
    rc=$?
  else
    env "${envv[@]}" "$PT_BIN" "${RUN_BASE[@]}" --out "$out" "${args[@]}" >/dev/null 2>"$out.err"
    rc=$?
    # offline, the session gets no candle and says so with exit 1: its options were accepted
    [ "$rc" = 1 ] && grep -q "session ended with 0 candles" "$out.err" && rc=0
  fi
  echo "$rc"
}

# start SECTION KEY FLAG VALUE: the six paths (backtest and run; flag, file,
# env) in the background, each exit code into $T/r.<tag>.<path>
start() {
  local sec="$1" key="$2" flag="$3" val="$4" c h fa
  for c in backtest run; do
    for h in flag file env; do
      if [ "$flag" = cooldown ]; then # --cooldown-losses N:CANDLES sets both keys
        [ "$key" = cooldown_losses ] && fa="--cooldown-losses=$val:5" || fa="--cooldown-losses=2:$val"
      else fa="--$flag=$val"; fi
      N=$((N + 10))
      (N=$N; try "$c" "$h" "$sec" "$key" "$fa" "$val" >"$T/r.$key.$val.$c-$h") &
    done
  done
}

# check SECTION KEY VALUE WANT: WANT 0 (accepted) or 2 (refused) on all six paths
check() {
  local sec="$1" key="$2" val="$3" want="$4" got="" p
  for p in backtest-flag backtest-file backtest-env run-flag run-file run-env; do
    got+=" $p=$(cat "$T/r.$key.$val.$p")"
  done
  if [ "$(tr ' ' '\n' <<<"$got" | grep -c "=$want\$")" -eq 6 ]; then
    ok "[$sec] $key = $val: $( [ "$want" = 0 ] && echo accepted || echo refused) by every path"
  else
    bad "[$sec] $key = $val: want exit $want everywhere, got$got"
  fi
}

KEYS=$("$PT_BIN" config keys)
[ "$(grep -c '^risk\.' <<<"$KEYS")" -ge 5 ] && ok "config keys prints the schema" || bad "config keys" "$KEYS"
rows=0
while IFS=$'\t' read -r key flag cmds type lo hi _def _help; do
  case "$key" in \#*) continue ;; esac
  [ "$type" = number ] || [ "$type" = integer ] || continue
  sec=${key%%.*} k=${key#*.}
  if [ "$k" = cooldown_losses ] || [ "$k" = cooldown_candles ]; then f=cooldown
  elif [ "$cmds" = backtest,run,demo ]; then f=${flag#--}
  else continue; fi
  rows=$((rows + 1))
  read -r below above < <(awk -v t="$type" -v lo="$lo" -v hi="$hi" 'BEGIN {
    if (t == "integer") { b = lo - 1; a = hi + 1 } else { b = lo > 0 ? lo / 2 : lo - 0.5; a = hi >= 1e6 ? hi * 2 : hi + 0.5 }
    printf "%.10g %.10g\n", b, a }')
  for v in "$lo" "$hi" "$below" "$above"; do start "$sec" "$k" "$f" "$v"; done
  wait
  check "$sec" "$k" "$lo" 0
  check "$sec" "$k" "$hi" 0
  check "$sec" "$k" "$below" 2
  check "$sec" "$k" "$above" 2
done <<<"$KEYS"
[ "$rows" -ge 14 ] && ok "$rows ranged engine options checked" || bad "only $rows ranged engine options found"

# --fsync: one set of words (every|none, fill an alias of every)
for w in every none fill; do
  for c in backtest run; do
    N=$((N + 10)); r=$(try "$c" flag session fsync "--fsync=$w" "$w")
    [ "$r" = 0 ] && ok "$c --fsync $w accepted" || bad "$c --fsync $w refused ($r)" "$(cat "$T/o$((N + 1)).err")"
  done
  for h in file env; do
    N=$((N + 10)); r=$(try run "$h" session fsync "" "$w")
    [ "$r" = 0 ] && ok "run fsync = $w by $h accepted" || bad "run fsync = $w by $h refused ($r)"
  done
done
for c in backtest run; do
  N=$((N + 10)); r=$(try "$c" flag session fsync "--fsync=sometimes" sometimes)
  [ "$r" = 2 ] && ok "$c --fsync sometimes refused" || bad "$c --fsync sometimes: exit $r"
done
finish
