#!/usr/bin/env bash
# A single-node Slurm on this machine (Debian's slurmctld + slurmd, no munge: auth/none), for the tests of
# the array scripts and for trying them out. Not for a real cluster: there, use the site's Slurm.
#
# Usage: pipelines/slurm/local-cluster.sh start DIR   # writes DIR/slurm.conf, starts both daemons
#        pipelines/slurm/local-cluster.sh stop DIR
# Then: SLURM_CONF=DIR/slurm.conf sbatch ...
set -euo pipefail
action=${1:?usage: local-cluster.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: local-cluster.sh start|stop DIR}" && cd "$2" && pwd)
export SLURM_CONF=$dir/slurm.conf
host=$(hostname -s)

case $action in
start)
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  cpus=$(nproc)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  cat > "$SLURM_CONF" <<CONF
ClusterName=jdrl-local
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
MpiDefault=none
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$(( 16817 + RANDOM % 1000 ))
SlurmdPort=$(( 17818 + RANDOM % 1000 ))
JobCompType=jobcomp/none
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  slurmctld -c -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; then echo "local Slurm up: SLURM_CONF=$SLURM_CONF"; exit 0; fi
    sleep 1
  done
  echo "local Slurm did not come up; logs in $dir/log" >&2; exit 1
  ;;
stop)
  for pid in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  ;;
*) echo "usage: local-cluster.sh start|stop DIR" >&2; exit 64 ;;
esac
