#!/bin/bash
# The systemd lane's container: a Debian root booted with systemd as PID 1 under systemd-nspawn,
# on this project's CI hosts (hybrid cgroups, PID 1 of the host is not systemd). Used by
# test/systemd/lane.test.ts; every state file lives in WORK.
#
#   container.sh prepare TARBALL ROOT   unpack the cached root (mkroot.sh builds it) + this host's node
#   container.sh boot ROOT WORK         boot; waits until systemd says running/degraded; WORK/leader.pid
#   container.sh halt WORK              clean shutdown (SIGRTMIN+3 to PID 1), waits for nspawn to exit
#   container.sh powercut WORK          SIGKILL to the container's PID 1: the whole container dies at once
#   container.sh clean WORK             kill what is left (by recorded pid), remove our sub-cgroups and
#                                       nspawn's leftovers under /run/systemd/nspawn
#
# Why the sub-cgroup: nspawn's container gets a cgroup namespace rooted where the launcher runs.
# Putting the launcher into a fresh sub-cgroup of every v1 hierarchy (and the unified one) keeps
# nspawn's payload/ and supervisor/ groups and the container's system.slice inside it, so they are
# removed with it. cg-rw-init (the container's first process) makes the v1 controllers writable,
# without which MemoryMax=, TasksMax= and DevicePolicy= are silently not enforced.
set -uo pipefail
cmd=${1:?usage: container.sh prepare|boot|halt|powercut|clean ...}; shift
say() { printf '[container] %s\n' "$*"; }

case "$cmd" in
prepare)
  TAR=${1:?tarball}; ROOT=${2:?root dir}
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  zstd -dc "$TAR" | tar -C "$ROOT" --numeric-owner --xattrs -xf - || exit 1
  chmod 0755 "$ROOT"
  # sudo resolves the hostname; a board has it in /etc/hosts.
  grep -q "$(cat "$ROOT/etc/hostname")" "$ROOT/etc/hosts" || echo "127.0.1.1 $(cat "$ROOT/etc/hostname")" >> "$ROOT/etc/hosts"
  # The board's node: the release needs Node >= 20 at /usr/bin/node (README "Install on a board").
  node=$(command -v node); node=$(readlink -f "$node")
  install -m755 "$node" "$ROOT/usr/bin/node"
  ;;

boot)
  ROOT=${1:?root dir}; WORK=${2:?work dir}
  mkdir -p "$WORK"; echo "$ROOT" > "$WORK/root.path"
  n=$(( $(cat "$WORK/boots" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$WORK/boots"
  SUB=edge-lane-$(basename "$WORK")-$n
  MACHINE=$(cat "$WORK/machine" 2>/dev/null || { m=edge-lane-$$; echo "$m" > "$WORK/machine"; echo "$m"; })
  for c in memory devices pids cpu cpuacct blkio name=systemd; do
    cur=$(awk -F: -v c="$c" '$2==c{print $3}' /proc/self/cgroup); m=${c#name=}
    d=/sys/fs/cgroup/$m${cur%/}/$SUB
    mkdir -p "$d" && echo "$d" >> "$WORK/cgroups" && echo $$ > "$d/cgroup.procs" || { say "cannot use cgroup $d"; exit 1; }
  done
  cur=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup); d=/sys/fs/cgroup/unified${cur%/}/$SUB
  mkdir -p "$d" && echo "$d" >> "$WORK/cgroups" && echo $$ > "$d/cgroup.procs" || { say "cannot use cgroup $d"; exit 1; }
  # --register=no --keep-unit: no systemd on the host to register with. Console output goes
  # through a pipe: nspawn writes a read-only console to a regular file only when it exits. Nothing
  # of the container may hold this script's stdout/stderr open, or a caller waits for EOF forever.
  setsid systemd-nspawn -q -D "$ROOT" --register=no --keep-unit --console=read-only \
    --kill-signal=SIGRTMIN+3 --machine="$MACHINE" /usr/local/sbin/cg-rw-init \
    < /dev/null > >(exec cat >> "$WORK/console.log" 2>/dev/null) 2>&1 &
  NSPAWN=$!; echo "$NSPAWN" > "$WORK/nspawn.pid"; echo "$NSPAWN" >> "$WORK/pids"
  s=
  for i in $(seq 1 300); do
    LEADER=$(ps -o pid=,comm= --ppid "$NSPAWN" 2>/dev/null | awk '$2=="systemd"{print $1}')
    if [ -n "$LEADER" ]; then
      s=$(nsenter -t "$LEADER" -a systemctl is-system-running 2>/dev/null)
      case "$s" in running|degraded)
        echo "$LEADER" > "$WORK/leader.pid"; echo "$LEADER" >> "$WORK/pids"
        say "booted: leader=$LEADER state=$s after ~${i}00 ms"; exit 0 ;;
      esac
    fi
    kill -0 "$NSPAWN" 2>/dev/null || { say "nspawn exited"; tail -20 "$WORK/console.log"; exit 1; }
    sleep 0.1
  done
  say "boot timeout (state=$s)"; tail -30 "$WORK/console.log"; exit 1
  ;;

halt)
  WORK=${1:?work dir}; L=$(cat "$WORK/leader.pid" 2>/dev/null); N=$(cat "$WORK/nspawn.pid" 2>/dev/null)
  [ -n "$N" ] && kill -0 "$N" 2>/dev/null || { say "not running"; exit 0; }
  [ -n "$L" ] && kill -s RTMIN+3 "$L" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$N" 2>/dev/null || { say "halted (${i}00 ms)"; exit 0; }; sleep 0.1; done
  say "still running after 15 s: SIGKILL to PID 1"; kill -9 "$L" 2>/dev/null; sleep 1
  kill -0 "$N" 2>/dev/null && kill -9 "$N"; exit 1
  ;;

powercut)
  WORK=${1:?work dir}; L=$(cat "$WORK/leader.pid"); N=$(cat "$WORK/nspawn.pid")
  kill -9 "$L" || exit 1
  for i in $(seq 1 100); do kill -0 "$N" 2>/dev/null || { say "container gone (${i}00 ms)"; exit 0; }; sleep 0.1; done
  say "nspawn still there after 10 s"; kill -9 "$N"; exit 1
  ;;

clean)
  WORK=${1:?work dir}; rc=0
  # Only processes this lane started (recorded pids), never a name match.
  for p in $(tac "$WORK/pids" 2>/dev/null); do kill -0 "$p" 2>/dev/null && { say "killing leftover $p"; kill -9 "$p"; }; done
  sleep 0.2
  for d in $(sort -u "$WORK/cgroups" 2>/dev/null); do
    [ -d "$d" ] || continue
    # Anything still inside (it should not be): kill it, then remove the tree bottom-up.
    for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -d "$d" ] && { sleep 0.5; find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; }
    [ -d "$d" ] && { say "busy: $d"; rc=1; }
  done
  m=$(cat "$WORK/machine" 2>/dev/null)
  if [ -n "$m" ]; then
    for d in /run/systemd/nspawn/propagate/"$m" /run/systemd/nspawn/unix-export/"$m"; do
      [ -e "$d" ] && { umount -R "$d" 2>/dev/null; rm -rf "$d"; }
    done
  fi
  # Mounts nspawn may leave under the root (it unmounts its own; this is the safety net).
  if [ -f "$WORK/root.path" ]; then
    r=$(cat "$WORK/root.path")
    grep -q " $r" /proc/self/mounts && awk -v r="$r" '$2 ~ "^"r {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
  fi
  exit $rc
  ;;

*) echo "container.sh: unknown command $cmd" >&2; exit 2 ;;
esac
