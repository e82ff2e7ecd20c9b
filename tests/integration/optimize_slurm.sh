#!/usr/bin/env bash
# optimize plan/run/reduce on a real one-node Slurm cluster started here:
# packaging/slurm/optimize.sbatch submits the job array (two tasks at a
# time) and the afterany reduce; task 2 fails once, so the reduce refuses
# naming --array=2; that index is resubmitted, the reduce rerun, and
# results.csv must equal the one-machine run byte for byte. Installs
# Debian's slurmctld, slurmd, slurm-client and munge when missing; starts
# a private munged (own socket) and slurmctld/slurmd on free ports from a
# temporary slurm.conf; stops each daemon by its pid. SKIPs, saying why,
# only where the daemons cannot run.
set -u
. "$(dirname "$0")/lib.bash"
DATA="$PT_SHARED_DATA/freqtrade_ADA-BTC_5m.csv"
SBATCH_SCRIPT="$PT_SOURCE_DIR/packaging/slurm/optimize.sbatch"
skip() { echo "SKIP: optimize_slurm: $1"; echo "0 passed, 0 failed"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "needs root to run munged and slurmd"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
  ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y slurmctld slurmd slurm-client munge >/dev/null 2>&1 ||
    skip "apt-get install slurmctld slurmd slurm-client munge failed"
fi
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key"
T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
scale=$([ -n "${PT_SANITIZE:-}" ] && echo 3 || echo 1)
wait_for() { # SECONDS CMD...: poll until CMD succeeds
  local n=$(($1 * 10 * scale)); shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# --- a private munged
mkdir -p "$T/munge" && chown munge: "$T/munge"
runuser -u munge -- munged -F --socket="$T/munge/sock" --pid-file="$T/munge/pid" \
  --log-file="$T/munge/log" --seed-file="$T/munge/seed" --key-file=/etc/munge/munge.key &
PIDS+=($!)
wait_for 10 test -S "$T/munge/sock" || skip "munged did not start: $(tail -3 "$T/munge/log" 2>/dev/null)"

# --- slurm.conf for this host, free ports
P1=$(free_port) P2=$(free_port)
node=$(slurmd -C 2>/dev/null | head -1)
[ -n "$node" ] || skip "slurmd -C gives no node line"
mkdir -p "$T/state" "$T/spool" "$T/work"
cat >"$T/slurm.conf" <<CONF
ClusterName=pt$P1
SlurmctldHost=$(hostname)(127.0.0.1)
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
$node NodeAddr=127.0.0.1
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -i >"$T/ctld.out" 2>&1 &
PIDS+=($!)
slurmd -D >"$T/slurmd.out" 2>&1 &
PIDS+=($!)
idle() { sinfo -h -o %T | grep -qx idle; }
wait_for 30 idle || skip "the node did not come up idle: $(tail -3 "$T/slurmctld.log" "$T/slurmd.log" 2>/dev/null | tr '\n' ' ')"
ok "one-node Slurm cluster up (munged, slurmctld, slurmd)"

# --- the search on one machine, then as a plan on the cluster
G=(--strategy sma_cross --grid fast=5,8,10,13 --grid slow=10:40:10 --quiet)
run_pt optimize "${G[@]}" --jobs 2 --out "$T/one" "$DATA"
expect_exit 0 "one-machine optimize"
run_pt optimize plan "${G[@]}" --tasks 4 --out "$T/plan" "$DATA"
expect_exit 0 "optimize plan --tasks 4"
cat >"$T/pt-wrap" <<WRAP
#!/bin/bash
# task 2 fails once, as a node or a bad disk would make it
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ] && [ ! -e "$T/failed-once" ]; then touch "$T/failed-once"; exit 1; fi
exec "$PT_BIN" "\$@"
WRAP
chmod +x "$T/pt-wrap"
export PAPERTRADER="$T/pt-wrap" PT_MAX_RUNNING=2
cd "$T/work" || exit 1
sub=$(bash "$SBATCH_SCRIPT" "$T/plan" 2>&1)
reduce=$(sed -n 's/.*reduce job \([0-9]*\).*/\1/p' <<<"$sub")
[ -n "$reduce" ] && ok "optimize.sbatch submitted the array and the reduce ($sub)" || bad "submit" "$sub"
gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
wait_for 300 gone "$reduce" || bad "reduce job $reduce did not finish"
grep -q -- "--array=2" "$T/work"/pt-optimize-reduce-*.out 2>/dev/null &&
  ok "the afterany reduce ran after the failed task and names it: --array=2" ||
  bad "reduce output lacks --array=2" "$(cat "$T/work"/*.out 2>/dev/null | tail -5)"
[ -e "$T/plan/tasks/0.csv" ] && [ -e "$T/plan/tasks/3.csv" ] && [ ! -e "$T/plan/tasks/2.csv" ] &&
  ok "tasks 0, 1, 3 done, task 2 missing" || bad "task files: $(ls "$T/plan/tasks")"
sbatch --wait --array=2 "$SBATCH_SCRIPT" "$T/plan" >/dev/null 2>&1
[ -e "$T/plan/tasks/2.csv" ] && ok "sbatch --array=2 reran just that index" || bad "task 2 rerun"
PT_MODE=reduce sbatch --wait "$SBATCH_SCRIPT" "$T/plan" >/dev/null 2>&1
cmp -s "$T/one/results.csv" "$T/plan/results.csv" && ok "cluster results.csv byte-identical to one machine" ||
  bad "cluster results.csv differs" "$(ls "$T/plan"; tail -3 "$T/work"/*.out)"
cd / || exit 1
finish
