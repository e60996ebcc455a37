#!/usr/bin/env bash
# Install and start a one-node Slurm on localhost (munged, slurmctld, slurmd) for the tests in tests/slurm/.
#
#   bash .ci/slurm-up.sh          # install if needed, configure, start; exit 0 once `srun hostname` works
#   bash .ci/slurm-up.sh --down   # stop the daemons this script started (by their pid files)
#
# Idempotent: a cluster that already answers is left alone; daemons already running are not started twice;
# a slurm.conf that this script did not write is never overwritten. Every failure prints why (and the
# tail of the daemon's log) and exits 1, so that CI can go on and the Slurm tests skip.
set -uo pipefail

MARK="# written by simsiam-tui .ci/slurm-up.sh"
CONF=/etc/slurm/slurm.conf
LOGDIR=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

say() { echo "slurm-up: $*"; }
die() {
    say "FAILED: $*"
    for log in "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log" /var/log/munge/munged.log; do
        [ -s "$log" ] && { echo "--- tail $log"; tail -n 15 "$log"; }
    done
    exit 1
}
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Wait up to $1 seconds for the command in "${@:2}" to succeed.
wait_for() {
    local t=$1
    shift
    for _ in $(seq "$((t * 2))"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}
works() { timeout 30 srun --quiet --time=1 -N1 -n1 hostname >/dev/null 2>&1; }

if [ "${1:-}" = "--down" ]; then
    for pidfile in "$SLURMD_PID" "$CTLD_PID"; do
        alive "$pidfile" && kill "$(cat "$pidfile")" && say "stopped $(basename "$pidfile" .pid)"
    done
    exit 0
fi

if ! grep -qsF "$MARK" "$CONF" && command -v sinfo >/dev/null 2>&1 && timeout 10 sinfo -h >/dev/null 2>&1 && works; then
    say "a Slurm cluster already answers: $(sinfo -h -o '%P %D %T' | head -n 3 | tr '\n' ';')"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root to install and start slurmctld/slurmd (running as $(id -un))"

# 1. Packages (Debian/Ubuntu).
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "slurmctld/slurmd/munged are missing and there is no apt-get to install them"
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q slurm-wlm munge >/tmp/slurm-up-apt.log 2>&1; then
        apt-get update -q >>/tmp/slurm-up-apt.log 2>&1
        apt-get install -y -q slurm-wlm munge >>/tmp/slurm-up-apt.log 2>&1 ||
            { tail -n 20 /tmp/slurm-up-apt.log; die "apt-get install slurm-wlm munge failed (log above)"; }
    fi
fi

# 2. munge: a key, then munged running as the munge user.
if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then mungekey --create --force >/dev/null; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --force || die "munged did not start"
    wait_for 10 sh -c 'munge -n | unmunge' || die "munge credentials do not round-trip (munge -n | unmunge)"
fi

# 3. slurm.conf: one node, this machine, as slurmd -C sees it.
host=$(hostname -s)
if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; not touching it (start that cluster, or move the file away)"
fi
node_line=$(slurmd -C 2>/dev/null | head -n 1)
case "$node_line" in NodeName=*) ;; *) die "slurmd -C did not describe this node: '$node_line'" ;; esac
# Leave the OS some memory; CPUs/Sockets/Cores/Threads stay exactly what slurmd detects, so the node is not drained.
mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
node_line=$(sed "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/" <<<"$node_line")
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
conf_new=$(
    cat <<EOF
$MARK
# One node on localhost for tests: the job runs as its submitter, the daemons as root.
ClusterName=localcluster
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits cred_expire seconds before it may start again (default 120 s); short for tests.
AuthInfo=cred_expire=10
MpiDefault=none
# linuxproc tracks a job's processes by parentage: no cgroup setup needed in a container.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Jobs may be requeued (the sbatch scripts call 'scontrol requeue' after a SIGUSR1 checkpoint).
JobRequeue=1
# A node that restarts comes back on its own.
ReturnToService=2
# Keep finished jobs visible to 'scontrol show job' for an hour (no accounting database here).
MinJobAge=3600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Schedule often, so a requeued job starts again within seconds.
SchedulerParameters=sched_interval=2,bf_interval=2
KillWait=30
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$conf_new" ]; then
    say "writing $CONF for node '$host' ($(sed -n 's/.*\(CPUs=[0-9]*\).*/\1/p' <<<"$node_line"))"
    printf '%s\n' "$conf_new" >"$CONF"
    changed=1
else
    changed=0
fi

# 4. Daemons: start what is not running; restart both when the config changed.
if [ "$changed" = 1 ]; then
    for pidfile in "$SLURMD_PID" "$CTLD_PID"; do
        if alive "$pidfile"; then
            say "restarting $(basename "$pidfile" .pid) for the new config"
            pid=$(cat "$pidfile")
            kill "$pid"
            wait_for 20 sh -c "! kill -0 $pid 2>/dev/null" || die "$(basename "$pidfile" .pid) did not stop"
        fi
    done
fi
if ! alive "$CTLD_PID"; then
    say "starting slurmctld"
    /usr/sbin/slurmctld || die "slurmctld did not start"
fi
wait_for 20 scontrol ping || die "slurmctld does not answer (scontrol ping)"
if ! alive "$SLURMD_PID"; then
    say "starting slurmd"
    /usr/sbin/slurmd || die "slurmd did not start"
fi
idle() { sinfo -h -n "$host" -o %T | grep -qE '^(idle|mixed|allocated|completing)'; }
if ! wait_for 20 idle; then
    # A node left down/drained by an earlier run: bring it back.
    scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1
    wait_for 20 idle || die "node '$host' is not idle: $(sinfo -h -N -o '%N %T %E')"
fi
works || die "srun hostname did not run on the local node"
say "ok: $(sinfo -h -o 'partition %P, %D node(s) %N, %c CPUs, %T')"
