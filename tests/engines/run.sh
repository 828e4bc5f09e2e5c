#!/bin/bash
# Engine suite: containerd (ctr, runc shim v2; its CRI plugin driven by
# tests/engines/cri.py as the kubelet would) and podman (conmon) drive
# vcrun.  Installs nothing (scripts/install-deps.sh does); starts a private
# containerd and a private podman under a temp dir, builds a busybox OCI
# image (and a pause image for CRI pods) offline, and prints one line per
# check and a summary.
# usage: tests/engines/run.sh [BUILD_DIR]   (default: build)
#   ENGINES_SUITES="ctr cri podman network" (the default) picks the suites to run.
set -u
cd "$(dirname "$0")/../.."
B=$(cd "${1:-build}" && pwd)
[ -x "$B/vcrun" ] || { echo "engines: $B/vcrun missing (make all guest)" >&2; exit 1; }
for tool in containerd ctr podman conmon umoci jq; do
  command -v "$tool" >/dev/null || { echo "engines: $tool missing (make deps)" >&2; exit 1; }
done
# Debian's python, with its grpc packages (a python3 earlier in PATH may
# lack them).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import grpc, grpc_tools' 2>/dev/null ||
  { echo "engines: python3-grpcio / python3-grpc-tools missing (make deps)" >&2; exit 1; }

# Short paths: unix socket names are limited to 107 bytes.
T=$(mktemp -d /tmp/vce.XXXXXX)
NS=vce$$
PASS=0 FAIL=0
CTD_PID=
IMG=localhost/vcrun-busybox:test
PAUSE_IMG=localhost/vcrun-pause:test
# CRI pods run under the runc shim's stock root, /run/containerd/runc/<ns>
# (not overridden, as on a node): what the suite makes there it removes.
CRI_NS=k8s.io
CRI_ROOT=/run/containerd/runc/$CRI_NS
CRI_ROOT_MADE=
CRI_ROOT_BEFORE=
if [ -d "$CRI_ROOT" ]; then CRI_ROOT_BEFORE=$(ls -A "$CRI_ROOT")
else CRI_ROOT_MADE=$(d=$CRI_ROOT; while [ ! -d "$(dirname "$d")" ]; do d=$(dirname "$d"); done; echo "$d"); fi
GUEST_KERNEL=$(cat "$B/guest/kernel.release")

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME CMD...: ok when CMD succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

# Our processes carry $T (or the ctr namespace) in their command line;
# other VMs on the machine are not ours.
our_pids() { pgrep -f -- "$T|/$NS/" | grep -vx "$$" || true; }

cleanup() {
  trap - EXIT INT TERM
  set +e
  # Keep the command lines and engine logs when something failed.
  if [ "$FAIL" != 0 ] || [ -n "${ENGINES_KEEP_LOGS:-}" ]; then
    local keep=${ENGINES_KEEP_LOGS:-/tmp/vce-logs.$$}
    mkdir -p "$keep" && cp "$T/calls.log" "$T/ctd/log" "$T/pm/events.log" "$keep/" 2>/dev/null
    echo "engines: logs kept in $keep"
  fi
  if [ -n "$CTD_PID" ]; then
    for id in $(ctr -a "$T/ctd.sock" -n "$NS" task ls -q 2>/dev/null); do
      ctr -a "$T/ctd.sock" -n "$NS" task kill -s KILL "$id" >/dev/null 2>&1
      ctr -a "$T/ctd.sock" -n "$NS" task rm -f "$id" >/dev/null 2>&1
    done
  fi
  if [ -n "$CTD_PID" ]; then
    for id in $(ctr -a "$T/ctd.sock" -n "$CRI_NS" task ls -q 2>/dev/null); do
      ctr -a "$T/ctd.sock" -n "$CRI_NS" task kill -s KILL "$id" >/dev/null 2>&1
      ctr -a "$T/ctd.sock" -n "$CRI_NS" task rm -f "$id" >/dev/null 2>&1
    done
  fi
  pm rm -af -t 0 >/dev/null 2>&1
  netns_cleanup
  [ -n "$CTD_PID" ] && kill "$CTD_PID" 2>/dev/null && wait "$CTD_PID" 2>/dev/null
  # The CRI containers' state under the stock runc root, ours only.
  local id
  for id in $(ls -A "$CRI_ROOT" 2>/dev/null); do
    printf '%s\n' "$CRI_ROOT_BEFORE" | grep -qxF "$id" && continue
    "$T/vcrun" --root "$CRI_ROOT" delete -f "$id" >/dev/null 2>&1
  done
  if [ -n "$CRI_ROOT_MADE" ]; then
    local d=$CRI_ROOT
    while rmdir "$d" 2>/dev/null && [ "$d" != "$CRI_ROOT_MADE" ]; do d=$(dirname "$d"); done
  fi
  local p
  for p in $(our_pids); do kill -9 "$p" 2>/dev/null; done
  # podman leaves read-only layers and mounts behind; unmount before rm.
  grep -o " $T[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$T" 2>/dev/null || { chattr -R -i "$T" 2>/dev/null; rm -rf "$T"; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# containerd's shim and conmon scrub the environment (conmon's `delete
# --force` runs with almost none), so the engines call a wrapper that names
# the configuration and logs every command line.
# The sandboxes' run directories go below $T too, so that everything of ours
# is found (and checked for leftovers) by that one path.
sed -e "s|^run_root = .*|run_root = \"$T/run\"|" "$B/configuration-dev.toml" > "$T/vcrun.toml"
cat > "$T/vcrun" <<EOF
#!/bin/sh
echo "\$*" >> "$T/calls.log"
VCRUN_CONFIG='$T/vcrun.toml' exec '$B/vcrun' "\$@"
EOF
chmod +x "$T/vcrun"
VCRUN_ROOT_CTD=$T/ctd-vcrun

# --- image -------------------------------------------------------------------
if ! tests/engines/make-image.sh "$T/img" "$T/busybox.tar" > "$T/image.log" 2>&1 ||
   ! tests/engines/make-image.sh "$T/pause" "$T/pause.tar" "$PAUSE_IMG" \
       /bin/sleep 2147483647 >> "$T/image.log" 2>&1; then
  cat "$T/image.log"; fail "image build"; echo "engines: $PASS passed, $FAIL failed"; exit 1
fi

# --- containerd --------------------------------------------------------------
mkdir -p "$T/ctd"
cat > "$T/ctd/config.toml" <<EOF
version = 2
root = "$T/ctd/root"
state = "$T/ctd/state"
[grpc]
  address = "$T/ctd.sock"
[ttrpc]
  address = "$T/ctd.sock.ttrpc"
# CRI as a node has it, vcrun as the runc runtime's binary: only
# BinaryName set in the runtime's options (Root left to the shim's
# default); no CNI (the test pod uses the host's network).
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMG"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$T/vcrun"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$T/cni/bin"
    conf_dir = "$T/cni/conf"
EOF
containerd --config "$T/ctd/config.toml" > "$T/ctd/log" 2>&1 &
CTD_PID=$!
ctr_() { ctr -a "$T/ctd.sock" -n "$NS" "$@"; }
for _ in $(seq 50); do ctr_ version >/dev/null 2>&1 && break; sleep 0.2; done
check "containerd starts" eval 'ctr_ version >/dev/null'
check "ctr images import" eval 'ctr_ images import "$T/busybox.tar" > "$T/import.log" 2>&1'

# ctr run with vcrun as the runc binary; remaining args: ctr flags, id, cmd.
ctr_run() { ctr_ run --runc-binary "$T/vcrun" --runc-root "$VCRUN_ROOT_CTD" \
  --runtime io.containerd.runc.v2 "$@"; }
ctr_run_fg() { local id=$1; shift; ctr_run --rm "$IMG" "$id" "$@"; }
ctr_run_bg() { local id=$1; shift; ctr_run -d "$IMG" "$id" "$@" >/dev/null; }
# ctr 1.6 has no `task wait`: a foreground `ctr run` in the background
# exits with the task's status.  ctr_run_waited ID CMD... sets WAITER.
ctr_run_waited() { local id=$1; shift; ctr_run_fg "$id" "$@" </dev/null >/dev/null 2>&1 & WAITER=$!
  for _ in $(seq 100); do ctr_ task ls 2>/dev/null | grep -q "^$id .*RUNNING" && return 0; sleep 0.2; done; return 1; }
# Sets RC to the waiter's exit status (no subshell: it must be our child).
ctr_waiter_status() { timeout 60 tail --pid="$WAITER" -f /dev/null; wait "$WAITER"; RC=$?; }
ctr_gone() { ctr_ task kill -s KILL "$1" >/dev/null 2>&1; ctr_ task rm -f "$1" >/dev/null 2>&1; ctr_ c rm "$1" >/dev/null 2>&1; }
# ctr -t insists that its own stdin is a terminal: script(1) gives it one.
ctr_in_pty() { script -qec "$(printf '%q ' ctr -a "$T/ctd.sock" -n "$NS" "$@")" /dev/null \
  </dev/null 2>&1 | tr -d '\r'; }
# The pty echoes what script(1) passes in (a "^@"), before or after the
# process's output: dropped, the process's own word comes last.
last_word() { local s=${1//^@/}; s=${s%"${s##*[a-z]}"}; printf '%s' "${s##*[!a-z]}"; }
ctr_rootfs() { echo "$T/ctd/state/io.containerd.runtime.v2.task/$NS/$1/rootfs"; }

# Reads the counter file a paused/resumed container writes in its rootfs.
# A read can race with the writer's truncation: retry an empty one.
counter() { local v; for _ in 1 2 3 4 5; do v=$(cat "$1/c" 2>/dev/null); [ -n "$v" ] && break; sleep 0.05; done; echo "${v:-0}"; }
# pause_check NAME ROOTFS PAUSE_CMD RESUME_CMD: the counter stops, then goes on.
pause_check() {
  local name=$1 rootfs=$2 pause=$3 resume=$4 a b c
  for _ in $(seq 100); do [ "$(counter "$rootfs")" -gt 2 ] && break; sleep 0.2; done
  if ! eval "$pause"; then fail "$name pause"; return; fi
  sleep 0.5; a=$(counter "$rootfs"); sleep 1.5; b=$(counter "$rootfs")
  if ! eval "$resume"; then fail "$name resume"; return; fi
  sleep 1.5; c=$(counter "$rootfs")
  if [ "$a" = "$b" ] && [ "$c" -gt "$b" ]; then ok "$name pause+resume ($a,$b,$c)"
  else fail "$name pause+resume" "counter $a,$b,$c"; fi
}
COUNTER='i=0; while :; do i=$((i+1)); echo $i > /c; sleep 0.1; done'

ctr_suite() {
  local out err rc
  out=$(ctr_run_fg c-uname uname -r 2>"$T/err")
  if [ "$out" = "$GUEST_KERNEL" ] && [ "$out" != "$(uname -r)" ]; then ok "ctr run: guest kernel"
  else fail "ctr run: guest kernel" "got '$out' $(tail -c 300 "$T/err")"; fi

  ctr_run_fg c-exit3 sh -c 'exit 3' >/dev/null 2>&1; rc=$?
  check "ctr run: exit code 3 (got $rc)" test "$rc" = 3

  ctr_run_fg c-stdio sh -c 'echo out; echo err >&2' >"$T/o" 2>"$T/e"
  out=$(cat "$T/o"); err=$(cat "$T/e")
  check "ctr run: stdout and stderr apart" test "$out" = out -a "$err" = err

  if ctr_run_bg c-det sleep 300; then
    ctr_ task exec --exec-id e1 c-det sh -c 'exit 4'; rc=$?
    check "ctr task exec: exit 4 (got $rc)" test "$rc" = 4
    out=$(ctr_ task exec --exec-id e2 c-det cat /etc/passwd 2>&1)
    check "ctr task exec: output" test "$out" = 'root:x:0:0:root:/root:/bin/sh'
    out=$(ctr_in_pty task exec -t --exec-id e3 c-det sh -c 'test -t 0 && echo tty')
    check "ctr task exec -t (printed: ${out:0:200})" test "$(last_word "$out")" = tty
    ctr_ task ps c-det > "$T/ps" 2>&1
    check "ctr task ps" eval 'grep -Eq "^[0-9]+ " "$T/ps"'
    ctr_ task kill -s KILL c-det >/dev/null
    for _ in $(seq 100); do ctr_ task ls | grep -q '^c-det .*STOPPED' && break; sleep 0.2; done
    ctr_ task rm c-det >/dev/null 2>&1
    check "ctr task rm" eval '! ctr_ task ls -q | grep -qx c-det'
    ctr_ c rm c-det >/dev/null 2>&1
  else fail "ctr run -d" "$(tail -n 3 "$T/ctd/log")"; fi

  if ctr_run_bg c-pause sh -c "$COUNTER"; then
    pause_check "ctr" "$(ctr_rootfs c-pause)" 'ctr_ task pause c-pause' 'ctr_ task resume c-pause'
    ctr_gone c-pause
  else fail "ctr run -d (counter)"; fi

  if ctr_run_waited c-term sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'; then
    sleep 0.5
    ctr_ task kill -s TERM c-term; ctr_waiter_status; rc=$RC
    check "ctr task kill TERM: handler's status 42 (got $rc)" test "$rc" = 42
  else fail "ctr run (term)"; fi
  ctr_gone c-term

  if ctr_run_waited c-kill sleep 300; then
    ctr_ task kill -s KILL c-kill; ctr_waiter_status; rc=$RC
    check "ctr task kill KILL: status 137 (got $rc)" test "$rc" = 137
  else fail "ctr run (kill)"; fi
  ctr_gone c-kill

  if ctr_run_bg c-rmf sleep 300; then
    ctr_ task rm -f c-rmf >/dev/null 2>&1
    check "ctr task rm -f of a running task" eval '! ctr_ task ls -q | grep -qx c-rmf'
    ctr_ c rm c-rmf >/dev/null 2>&1
  else fail "ctr run -d (rm -f)"; fi

  out=$(ctr_in_pty run --runc-binary "$T/vcrun" --runc-root "$VCRUN_ROOT_CTD" \
    --runtime io.containerd.runc.v2 --rm -t "$IMG" c-tty sh -c 'test -t 0 && echo tty')
  check "ctr run -t (printed: ${out:0:200})" test "$(last_word "$out")" = tty
}

# --- the pod network: network_suite ------------------------------------------
. tests/engines/network.sh

# --- podman ------------------------------------------------------------------
mkdir -p "$T/pm"
# Root here lacks CAP_SYS_RESOURCE: podman's default (raise to the max)
# fails, so pin the limits to the current hard ones.
cat > "$T/pm/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$(ulimit -Hu):$(ulimit -Hu)"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/pm/events.log"
runtime = "vcrun"
runtime_supports_json = ["vcrun", "crun", "runc"]
tmp_dir = "$T/pm/tmp"
[engine.runtimes]
vcrun = ["$T/vcrun"]
EOF
pm() { CONTAINERS_CONF="$T/pm/containers.conf" podman --root "$T/pm/root" --runroot "$T/pm/run" \
  --storage-driver vfs --runtime vcrun "$@"; }
pm_status() { pm inspect -f '{{.State.ExitCode}}' "$1" 2>/dev/null; }

podman_suite() {
  local out err rc
  out=$(pm run --rm --name p-uname "$IMG" uname -r 2>"$T/err")
  if [ "$out" = "$GUEST_KERNEL" ] && [ "$out" != "$(uname -r)" ]; then ok "podman run: guest kernel"
  else fail "podman run: guest kernel" "got '$out' $(tail -c 300 "$T/err")"; fi

  pm run --rm "$IMG" sh -c 'exit 3' >/dev/null 2>&1; rc=$?
  check "podman run: exit code 3 (got $rc)" test "$rc" = 3

  pm run --rm "$IMG" sh -c 'echo out; echo err >&2' >"$T/o" 2>"$T/e"
  out=$(cat "$T/o"); err=$(cat "$T/e")
  check "podman run: stdout and stderr apart" test "$out" = out -a "$err" = err

  if pm run -d --name p-det "$IMG" sleep 300 >/dev/null 2>"$T/err"; then
    pm exec p-det sh -c 'exit 4'; rc=$?
    check "podman exec: exit 4 (got $rc)" test "$rc" = 4
    out=$(pm exec p-det cat /etc/passwd 2>&1)
    check "podman exec: output" test "$out" = 'root:x:0:0:root:/root:/bin/sh'
    # Plain `podman top` reads /proc in the mount namespace of the pid-file
    # process, the shim: alone in its pid namespace, it is all it shows
    # (never the host's processes).  ps options make podman exec ps inside
    # the container instead.
    pm top p-det > "$T/top0" 2>&1
    check "podman top: the shim alone, no host process" \
      eval 'grep -q "shim" "$T/top0" && ! grep -q kthreadd "$T/top0" && [ "$(grep -c . "$T/top0")" = 2 ]'
    grep -q "shim" "$T/top0" || head -n 5 "$T/top0"
    pm top p-det -o pid,args > "$T/top" 2>&1
    check "podman top -o pid,args (ps in the guest)" eval 'grep -q "sleep 300" "$T/top" && ! grep -q kthreadd "$T/top"'
    grep -q "sleep 300" "$T/top" || head -n 5 "$T/top"
    out=$(pm exec -t p-det sh -c 'test -t 0 && echo tty' </dev/null 2>&1 | tr -d '\r')
    check "podman exec -t" test "$out" = tty
    pm stop -t 2 p-det >/dev/null 2>&1; rc=$(pm_status p-det)
    check "podman stop -t 2 escalates to KILL: 137 (got $rc)" test "$rc" = 137
    pm rm p-det >/dev/null 2>&1
    check "podman rm" eval '! pm container exists p-det'
  else fail "podman run -d" "$(tail -c 300 "$T/err")"; fi

  if pm run -d --name p-pause "$IMG" sh -c "$COUNTER" >/dev/null 2>&1; then
    pause_check "podman" "$(pm mount p-pause)" 'pm pause p-pause >/dev/null' 'pm unpause p-pause >/dev/null'
    pm rm -f -t 0 p-pause >/dev/null 2>&1
  else fail "podman run -d (counter)"; fi

  if pm run -d --name p-term "$IMG" sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1; then
    sleep 1
    pm kill -s TERM p-term >/dev/null; pm wait p-term >/dev/null 2>&1; rc=$(pm_status p-term)
    check "podman kill TERM: handler's status 42 (got $rc)" test "$rc" = 42
    pm rm -f p-term >/dev/null 2>&1
  else fail "podman run -d (term)"; fi

  if pm run -d --name p-rmf "$IMG" sleep 300 >/dev/null 2>&1; then
    pm rm -f -t 0 p-rmf >/dev/null 2>&1
    check "podman rm -f of a running container" eval '! pm container exists p-rmf'
  else fail "podman run -d (rm -f)"; fi

  out=$(pm run --rm -t "$IMG" sh -c 'test -t 0 && echo tty' </dev/null 2>&1 | tr -d '\r')
  check "podman run -t" test "$out" = tty

  # A pod: the member joins the infra container's namespaces by path
  # (/proc/<infra pid>/ns/...), so vcrun puts it in the infra's VM.
  if pm pod create --name vpod --infra-image "$IMG" --infra-command "sleep 1000" >/dev/null 2>"$T/err" &&
     pm run -d --name p-member --pod vpod "$IMG" sleep 300 >/dev/null 2>>"$T/err"; then
    local infra vms member_ns infra_ns
    infra=$(pm pod inspect -f '{{.InfraContainerID}}' vpod)
    member_ns=$(pm exec p-member sh -c 'for n in uts ipc net; do readlink /proc/self/ns/$n; done')
    infra_ns=$(pm exec "$infra" sh -c 'for n in uts ipc net; do readlink /proc/self/ns/$n; done')
    check "podman pod: the member shares the infra's uts, ipc and net namespaces" \
      test -n "$infra_ns" -a "$member_ns" = "$infra_ns"
    # podman gives no --root: the VMs' state is under vcrun's default root.
    vms=$(pgrep -fc "qemu-system.*($infra|$(pm inspect -f '{{.Id}}' p-member))")
    check "podman pod: one VM for the pod (got $vms)" test "$vms" = 1
    pm pod stop -t 0 vpod >/dev/null 2>&1
    check "podman pod rm" eval 'pm pod rm -f vpod >/dev/null 2>&1 && ! pm pod exists vpod'
  else fail "podman pod create / run --pod" "$(tail -c 300 "$T/err")"; fi
}

# CRI: a pod of two containers in one VM, as the kubelet drives it.
cri_suite() {
  local out
  if ! ctr -a "$T/ctd.sock" -n "$CRI_NS" images import "$T/busybox.tar" > "$T/cri-import.log" 2>&1 ||
     ! ctr -a "$T/ctd.sock" -n "$CRI_NS" images import "$T/pause.tar" >> "$T/cri-import.log" 2>&1; then
    fail "cri: images import" "$(tail -n 3 "$T/cri-import.log")"; return
  fi
  local log_from
  log_from=$(($(wc -l < "$T/ctd/log") + 1))
  "$PY" tests/engines/cri.py --socket "$T/ctd.sock" --gen "$T/cri-gen" \
    --runc-root "$CRI_ROOT" --run-root "$T/run" --image "$IMG" --pause-image "$PAUSE_IMG" \
    --guest-kernel "$GUEST_KERNEL" --log-dir "$T/cri-logs" > "$T/cri.out" 2>&1
  cat "$T/cri.out"
  PASS=$((PASS + $(grep -c '^ok ' "$T/cri.out")))
  FAIL=$((FAIL + $(grep -c '^FAIL ' "$T/cri.out")))
  # runc's answer to kill --all of an exited task (the shim's last kill) is
  # success; an error there would be logged.
  out=$(tail -n +"$log_from" "$T/ctd/log" | grep -i 'killall failed\|failed to kill init' | head -n 2)
  check "cri: the shim's kill --all after exit succeeds (containerd logs no error)" test -z "$out"
  [ -z "$out" ] || echo "$out" | cut -c1-300
  # Its last check; a client that died before it says why on stderr.
  grep -q 'cri: no run directory left' "$T/cri.out" ||
    fail "cri: the client ran to its end" "$(tail -n 3 "$T/cri.out")"
}

SUITES=" ${ENGINES_SUITES:-ctr cri podman network} "
[[ $SUITES == *" ctr "* ]] && ctr_suite
[[ $SUITES == *" cri "* ]] && cri_suite
if [[ $SUITES == *" podman "* || $SUITES == *" network "* ]]; then
  check "podman load" eval 'pm load -i "$T/busybox.tar" > "$T/load.log" 2>&1'
fi
[[ $SUITES == *" podman "* ]] && podman_suite
[[ $SUITES == *" network "* ]] && network_suite

# --- afterwards: nothing of ours left ----------------------------------------
sleep 1
left=$(for p in $(our_pids); do tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -E 'qemu|vcrun shim|virtiofsd|vsock-backend'; done)
check "no QEMU, shim, virtiofsd or vsock backend left" test -z "$left"
[ -z "$left" ] || echo "$left" | head -n 5
# The shim keeps one directory per namespace under its root (as with runc).
state=$(find "$VCRUN_ROOT_CTD" -mindepth 2 -maxdepth 2 2>/dev/null; find "$T/pm/run/vcrun" "$T/run" -mindepth 1 -maxdepth 1 2>/dev/null)
check "no state left under vcrun's roots" test -z "$state"
[ -z "$state" ] || echo "$state" | head -n 5

echo "engines: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
