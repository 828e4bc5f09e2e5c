#!/usr/bin/env bats
# What a stock Kubernetes node asks of a runc drop-in: containerd's long
# --root and 64-hex ids, runc's answers for bad ids and for kill after
# exit, a pod member's id used again at once, and a shim whose pid shows
# tools no host process.

bats_require_minimum_version 1.5.0
load helpers

CRI_TYPE=io.kubernetes.cri.container-type
CRI_SANDBOX=io.kubernetes.cri.sandbox-id

teardown() {
  if [ -n "${RUNC_ROOT:-}" ]; then
    runc --root "$RUNC_ROOT" delete -f r1 >/dev/null 2>&1 || true
    rm -rf "$RUNC_ROOT"
  fi
  teardown_state_root
  rm -rf "${STATE_ROOT:-/nonexistent}.long"
}

# A root as long as the one containerd's runc shim gives (/run/containerd/
# runc/k8s.io), and longer, below the test's own state root.
long_root() {
  LONG_ROOT=$STATE_ROOT.long/run/containerd/runc/k8s.io
  mkdir -p "$LONG_ROOT"
}

vcrun_long() {
  "$VCRUN" --root "$LONG_ROOT" "$@"
}

hex64() {
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

@test "a 64-hex id under a root as long as containerd's: create, start, exec, delete" {
  long_root
  local id
  id=$(hex64)
  set_args "$BUNDLE" sleep 1000
  vcrun_long create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err" ||
    fail "create: $(cat "$BATS_TEST_TMPDIR/err")"
  run -0 vcrun_long start "$id"
  run -0 vcrun_long exec "$id" cat /etc/passwd
  assert_output 'root:x:0:0:root:/root:/bin/sh'
  run -0 vcrun_long state "$id"
  assert_equal "$(jq -r .status <<<"$output")" running
  # Every socket of the sandbox fits a unix socket address (108 bytes).
  local sock
  for sock in $(find "$(readlink "$LONG_ROOT/$id/run")" -type s); do
    [ "${#sock}" -lt 108 ] || fail "socket path too long: $sock"
  done
  run -0 vcrun_long delete -f "$id"
  [ -z "$(ls -A "$LONG_ROOT")" ] || fail "left in the root: $(ls -A "$LONG_ROOT")"
  assert_no_leftovers
}

@test "a 100-character id under a short root runs end to end, rootfs over virtio-fs" {
  local id
  id=$(printf 'x%.0s' $(seq 100))
  set_args "$BUNDLE" cat /etc/passwd
  run -0 vcrun run --bundle "$BUNDLE" "$id" </dev/null
  assert_output 'root:x:0:0:root:/root:/bin/sh'
  assert_no_leftovers
}

@test "ids: runc's errors for an invalid and a too long id; 255 bytes is a valid id" {
  RUNC_ROOT=$(mktemp -d /tmp/vcr-runc.XXXXXX)
  local id256 id255
  id256=$(printf 'a%.0s' $(seq 256))
  id255=${id256:1}
  run -1 runc --root "$RUNC_ROOT" create --bundle "$BUNDLE" "$id256"
  assert_output --partial "lstat $RUNC_ROOT/$id256: file name too long"
  run -1 vcrun create --bundle "$BUNDLE" "$id256"
  assert_output --partial "lstat $STATE_ROOT/$id256: file name too long"
  run -1 vcrun state "$id256"
  assert_output --partial "lstat $STATE_ROOT/$id256: file name too long"
  run -1 vcrun delete -f "$id256"
  assert_output --partial "file name too long"
  local bad
  for bad in 'a/b' '..' 'a b'; do
    run -1 runc --root "$RUNC_ROOT" create --bundle "$BUNDLE" "$bad"
    assert_output --partial "invalid container ID format"
    run -1 vcrun create --bundle "$BUNDLE" "$bad"
    assert_output --partial "invalid container ID format"
  done
  # 255 bytes fit a directory name: not there, rather than invalid.
  run -1 vcrun state "$id255"
  assert_output --partial "does not exist"
  assert_no_leftovers
}

@test "kill: --all after the container exited exits 0 and signal 0 checks the process, as runc" {
  RUNC_ROOT=$(mktemp -d /tmp/vcr-runc.XXXXXX)
  set_args "$BUNDLE" sleep 1000
  runc --root "$RUNC_ROOT" create --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
  vcrun_bg create --bundle "$BUNDLE" v1
  local rt
  for rt in "runc --root $RUNC_ROOT" "vcrun"; do
    local cid=r1
    [ "$rt" = vcrun ] && cid=v1
    run -0 $rt kill "$cid" 0
    run -0 $rt kill --all "$cid" 0
    run -0 $rt start "$cid"
    run -0 $rt kill "$cid" 0
    run -0 $rt kill "$cid" KILL
    local i
    for i in $(seq 100); do
      [ "$($rt state "$cid" | jq -r .status)" = stopped ] && break
      sleep 0.2
    done
    run -0 $rt kill --all "$cid" 9
    run -0 $rt kill --all "$cid" 0
    run -1 $rt kill "$cid" 9
    assert_output --partial "container not running"
    run -1 $rt kill "$cid" 0
    assert_output --partial "container not running"
    run -0 $rt delete "$cid"
  done
  assert_no_leftovers
}

@test "a pod member's id is used again right after its delete" {
  set_args "$BUNDLE" sleep 1000
  set_config "$BUNDLE" ".annotations = {\"$CRI_TYPE\": \"sandbox\"}"
  vcrun_bg create --bundle "$BUNDLE" pod
  vcrun start pod
  local m=$BATS_TEST_TMPDIR/m
  cp -a "$BUNDLE_TEMPLATE" "$m"
  set_config "$m" ".annotations = {\"$CRI_TYPE\": \"container\", \"$CRI_SANDBOX\": \"pod\"}"
  set_args "$m" sleep 1000
  # create, delete, create back to back (the container's root is set up,
  # pivot_root included, at create).
  local i share_names=
  for i in 1 2 3; do
    vcrun_bg create --bundle "$m" member
    run -0 vcrun start member
    share_names="$share_names $(jq -r '.containers.member.share // empty' "$STATE_ROOT/member/state.json")"
    run -0 vcrun delete -f member
  done
  # run (create, start, wait, delete) three times over under one id.
  set_args "$m" cat /etc/passwd
  for i in 1 2 3; do
    run -0 vcrun run --bundle "$m" member </dev/null
    assert_output 'root:x:0:0:root:/root:/bin/sh'
  done
  # Each create shared the member under a name of its own.
  [ "$(tr ' ' '\n' <<<"$share_names" | sort -u | grep -c .)" = 3 ] ||
    fail "share names not unique per create: $share_names"

  [ -z "$(ls -A "$(run_dir_of pod)/shared" | grep -v '^pod-')" ] ||
    fail "members left in the share: $(ls "$(run_dir_of pod)/shared")"
  run -0 vcrun delete -f pod
  assert_no_leftovers
}

@test "the shim runs in a pid namespace of its own: its pid shows no host process" {
  set_args "$BUNDLE" sleep 1000
  vcrun_bg create --bundle "$BUNDLE" c1
  local pid
  pid=$(vcrun state c1 | jq -r .pid)
  [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] ||
    fail "the shim is in the host's pid namespace"
  # Through the pid, as podman top and nsenter look: the shim alone, as 1.
  run -0 ls "/proc/$pid/root/proc"
  assert_equal "$(grep -E '^[0-9]+$' <<<"$output")" 1
  run -0 nsenter -t "$pid" -p -m ps -o pid,args
  refute_line --partial kthreadd
  assert_line --regexp '^ +1 .*vcrun.* shim '
  # It is still the host process standing for the container.
  grep -q "shim" "/proc/$pid/cmdline"
  run -0 vcrun start c1
  run -0 vcrun kill c1 KILL
  wait_for_stopped c1
  run -0 vcrun delete c1
  assert_no_leftovers
}
