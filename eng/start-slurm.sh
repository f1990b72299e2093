#!/usr/bin/env bash
# Installs and starts a single-node Slurm (slurm-wlm + munge, Debian 12) without systemd, for the sweep --slurm tests.
# Idempotent: packages, key, config and daemons are only created or started when missing; safe to rerun.
# Recipe: shared/notes/slurm-single-node.md. Needs root (or sudo). Stop: eng/start-slurm.sh --stop
set -euo pipefail
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if [ "${1:-}" = "--stop" ]; then
  for pid in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    running "$pid" && $sudo_cmd kill "$(cat "$pid")" || true
  done
  exit 0
fi

if ! dpkg -s slurm-wlm munge >/dev/null 2>&1; then
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# Where systemd runs, the packages start their own daemons: never start a second set.
if [ -d /run/systemd/system ] && systemctl is-active --quiet slurmctld 2>/dev/null; then
  sinfo -h >/dev/null && exit 0
fi

host=$(hostname -s)
getent hosts "$host" >/dev/null || echo "127.0.1.1 $host" | $sudo_cmd tee -a /etc/hosts >/dev/null
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
config=/etc/slurm/slurm.conf
wanted=$(cat <<CONF
ClusterName=ci
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
)
if [ ! -f "$config" ] || [ "$(cat "$config")" != "$wanted" ]; then
  # A changed config needs restarted daemons.
  for pid in /run/slurmd.pid /run/slurmctld.pid; do running "$pid" && $sudo_cmd kill "$(cat "$pid")" && sleep 1 || true; done
  echo "$wanted" | $sudo_cmd tee "$config" >/dev/null
fi

$sudo_cmd install -d -o munge -g munge -m0755 /run/munge
[ -f /etc/munge/munge.key ] || $sudo_cmd mungekey --create
$sudo_cmd chown munge:munge /etc/munge/munge.key
$sudo_cmd chmod 0400 /etc/munge/munge.key
running /run/munge/munged.pid || $sudo_cmd runuser -u munge -- /usr/sbin/munged
munge -n | unmunge | grep -q 'STATUS: *Success' || { echo "start-slurm: munge does not work" >&2; exit 1; }

$sudo_cmd install -d -o slurm -g slurm /var/spool/slurmctld /var/log/slurm
$sudo_cmd install -d /var/spool/slurmd
running /run/slurmctld.pid || $sudo_cmd /usr/sbin/slurmctld
running /run/slurmd.pid || $sudo_cmd /usr/sbin/slurmd

for _ in $(seq 1 30); do
  state=$(sinfo -h -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in idle|mixed|allocated) echo "slurm: node $host $state ($cpus CPUs)"; exit 0 ;; esac
  sleep 0.5
done
echo "start-slurm: the node did not become idle; see /var/log/slurm/*.log" >&2
exit 1
