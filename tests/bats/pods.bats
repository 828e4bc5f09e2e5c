#!/usr/bin/env bats
# Pods: containers that join a running sandbox (VM) by the CRI annotations
# or by a namespace path naming another container of ours, and the
# namespaces they share there.

bats_require_minimum_version 1.5.0
load helpers

CRI_TYPE=io.kubernetes.cri.container-type
CRI_SANDBOX=io.kubernetes.cri.sandbox-id
POD_NETNS=vcrun-bats-pod

teardown() {
  ip netns del "$POD_NETNS" 2>/dev/null || true
  teardown_state_root
}

# A pod's sandbox container: sleeps, with a hostname, in a new pid, ipc and
# uts namespace (the defaults of `vcrun spec`).
start_sandbox() {
  set_args "$BUNDLE" sleep 1000
  set_config "$BUNDLE" ".hostname = \"podhost\" | .annotations = {\"$CRI_TYPE\": \"sandbox\"}"
  vcrun_bg create --bundle "$BUNDLE" pod
  vcrun start pod
  SANDBOX_PID=$(vcrun state pod | jq -r .pid)
}

# member_bundle DIR [ANNOTATED]: a copy of the bundle that joins the
# sandbox's pid, ipc and uts namespaces by path (and by annotation unless
# ANNOTATED is "no").
member_bundle() {
  local dir=$1 annotated=${2:-yes}
  cp -a "$BUNDLE_TEMPLATE" "$dir"
  # No hostname of its own: in the sandbox's uts namespace it would set the
  # pod's (as runc would).
  set_config "$dir" "del(.hostname) | .linux.namespaces |= map(
      if .type == \"pid\" or .type == \"ipc\" or .type == \"uts\"
      then .path = \"/proc/$SANDBOX_PID/ns/\" + .type else . end)"
  if [ "$annotated" = yes ]; then
    set_config "$dir" ".annotations = {\"$CRI_TYPE\": \"container\", \"$CRI_SANDBOX\": \"pod\"}"
  fi
}

ns_ids() {
  echo 'for n in pid ipc uts net mnt; do echo "$n $(readlink /proc/self/ns/$n)"; done'
}

@test "a pod member joins the sandbox's VM and its pid, ipc and uts namespaces" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m1"
  set_args "$BATS_TEST_TMPDIR/m1" sh -c "hostname; ps -o pid,args; $(ns_ids)"
  run vcrun run --bundle "$BATS_TEST_TMPDIR/m1" m1 </dev/null
  assert_success
  # The sandbox's hostname and processes: the same uts and pid namespace.
  assert_line --index 0 podhost
  assert_line --regexp '^ +1 sleep 1000$'
  member_ns=$output
  run vcrun exec pod sh -c "$(ns_ids)"
  assert_success
  local n
  for n in pid ipc uts; do
    assert_equal "$(grep "^$n " <<<"$member_ns")" "$(grep "^$n " <<<"$output")"
  done
  # Its own network and mount namespaces (none given by path).
  for n in net mnt; do
    [ "$(grep "^$n " <<<"$member_ns")" != "$(grep "^$n " <<<"$output")" ] ||
      fail "the $n namespace is shared"
  done
  # One VM: no second QEMU, virtiofsd or vsock backend was started.
  [ "$(pgrep -fc "$(run_dir_of pod)/")" -ge 3 ]
  [ "$(pgrep -fc "$STATE_ROOT/m1/" || true)" -eq 0 ]
  [ ! -e "$STATE_ROOT/m1/run" ] || fail "the member has a run directory of its own"
  assert_equal "$(ls "$STATE_ROOT")" pod
}

@test "a member has its own lifecycle; deleting it leaves the sandbox running" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m2"
  set_args "$BATS_TEST_TMPDIR/m2" sleep 500
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m2" m2
  assert_equal "$(vcrun state m2 | jq -r .status)" created
  vcrun start m2
  assert_equal "$(vcrun state m2 | jq -r .status)" running
  jq -e '.sandbox.id == "pod" and (.containers | has("m2")) and (has("hypervisor") | not)' \
    "$STATE_ROOT/m2/state.json"
  run vcrun exec m2 ps -o args
  assert_line 'sleep 1000'
  assert_line 'sleep 500'
  run -0 bash -c "'$VCRUN' --root '$STATE_ROOT' list -q | sort"
  assert_output "$(printf 'm2\npod')"
  grep -q "$(run_dir_of pod)/shared/m2-[A-Za-z0-9]*/rootfs" /proc/self/mountinfo
  vcrun kill m2 KILL
  wait_for_stopped m2
  assert_equal "$(vcrun state pod | jq -r .status)" running
  vcrun delete m2
  # Its rootfs left the share; the sandbox's is still there (each under a
  # share name of its own: ID-<random>).
  ! grep -q "/shared/m2-" /proc/self/mountinfo
  grep -q "$(run_dir_of pod)/shared/pod-[A-Za-z0-9]*/rootfs" /proc/self/mountinfo
  run vcrun exec pod ps -o args
  assert_line 'sleep 1000'
  refute_line 'sleep 500'
  vcrun delete --force pod
  assert_no_leftovers
}

@test "a namespace path naming a container of ours joins its sandbox without annotations" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m3" no
  set_args "$BATS_TEST_TMPDIR/m3" hostname
  run vcrun run --bundle "$BATS_TEST_TMPDIR/m3" m3 </dev/null
  assert_success
  assert_output podhost
}

@test "deleting the sandbox stops its members; they can still be deleted" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m4"
  # A pid namespace of its own: it outlives the sandbox container's init.
  set_config "$BATS_TEST_TMPDIR/m4" '.linux.namespaces |= map(if .type == "pid" then del(.path) else . end)'
  set_args "$BATS_TEST_TMPDIR/m4" sleep 500
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m4" m4
  vcrun start m4
  vcrun kill pod KILL
  wait_for_stopped pod
  # Not while a member runs, unless forced.
  run vcrun delete pod
  assert_failure 1
  assert_output --partial 'cannot delete sandbox container pod: container m4 of its pod is running'
  assert_equal "$(vcrun state m4 | jq -r .status)" running
  vcrun delete --force pod
  assert_equal "$(vcrun state m4 | jq -r .status)" stopped
  vcrun delete m4
  assert_no_leftovers
}

@test "bad pod specs fail at create naming the field and leave the sandbox alone" {
  start_sandbox
  local m="$BATS_TEST_TMPDIR/bad"
  member_bundle "$m"
  # A sandbox that does not exist.
  set_config "$m" ".annotations[\"$CRI_SANDBOX\"] = \"nope\" | .linux.namespaces |= map(del(.path))"
  run vcrun create --bundle "$m" bad </dev/null
  assert_failure 1
  assert_output --partial 'sandbox `nope`'
  # A path of the sandbox with annotations naming another sandbox.
  member_bundle "$m.2"
  set_config "$m.2" ".annotations[\"$CRI_SANDBOX\"] = \"other\""
  run vcrun create --bundle "$m.2" bad </dev/null
  assert_failure 1
  assert_output --regexp 'linux.namespaces\[[0-9]\].path: `/proc/[0-9]+/ns/pid` belongs to container `pod` in sandbox `pod`, not in sandbox `other`'
  # A host namespace, a path of the wrong type, a user namespace.
  local filter
  for filter in '.linux.namespaces |= map(if .type == "ipc" then .path = "/proc/1/ns/ipc" else . end)' \
    '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/ipc" else . end)' \
    '.linux.namespaces |= map(if .type == "ipc" then .path = "/proc/1/ns/uts" else . end)' \
    '.linux.namespaces += [{"type":"user","path":"/proc/1/ns/user"}]'; do
    cp -a "$BUNDLE_TEMPLATE" "$m.3"
    set_config "$m.3" "$filter"
    run vcrun create --bundle "$m.3" bad </dev/null
    assert_failure 1
    assert_output --regexp "config.json: linux.namespaces\[[0-9]\].path: "
    rm -rf "$m.3"
  done
  assert_equal "$(ls "$STATE_ROOT")" pod
  assert_equal "$(vcrun state pod | jq -r .status)" running
  vcrun delete --force pod
  assert_no_leftovers
}

@test "a deleted member's cgroup goes; its id can be used again" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m5"
  set_args "$BATS_TEST_TMPDIR/m5" sleep 500
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m5" m5
  vcrun start m5
  # The sandbox has no cgroup namespace: it sees the guest's whole tree.
  run vcrun exec pod ls /sys/fs/cgroup
  assert_line m5
  assert_line pod
  vcrun delete --force m5
  # Removed once the killed processes are reaped: poll a little.
  local i
  for i in $(seq 1 25); do
    run vcrun exec pod ls /sys/fs/cgroup
    assert_success
    [[ "$output" == *$'\nm5\n'* ]] || break
    sleep 0.2
  done
  assert_line pod
  refute_line m5
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m5" m5
  vcrun delete --force m5
  vcrun delete --force pod
  assert_no_leftovers
}

@test "a CRI pod's network namespace: the VM runs in it, members share the guest's" {
  local netns=$POD_NETNS
  ip netns add "$netns"
  set_args "$BUNDLE" sleep 1000
  set_config "$BUNDLE" ".annotations = {\"$CRI_TYPE\": \"sandbox\"}
    | .linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$netns\" else . end)"
  vcrun_bg create --bundle "$BUNDLE" pod
  vcrun start pod
  # QEMU is in the pod's network namespace; vcrun itself is not.  A VM
  # claimed from the factory's pool (bats-factory; its QEMU is named
  # vcrun-pool-*) was started before the namespace was known and stays
  # outside it: its NICs are hot-plugged (docs/networking.md).
  local qemu
  qemu=$(jq -r .hypervisor.pid "$STATE_ROOT/pod/state.json")
  if tr '\0' ' ' <"/proc/$qemu/cmdline" | grep -q -- '-name vcrun-pool-'; then
    assert_equal "$(stat -Lc %i /proc/self/ns/net)" "$(stat -Lc %i "/proc/$qemu/ns/net")"
  else
    assert_equal "$(stat -Lc %i "/var/run/netns/$netns")" "$(stat -Lc %i "/proc/$qemu/ns/net")"
    [ "$(stat -Lc %i /proc/self/ns/net)" != "$(stat -Lc %i "/proc/$qemu/ns/net")" ]
  fi
  # A member given the same path (as CRI gives it) shares the sandbox
  # container's network namespace in the guest.
  cp -a "$BUNDLE_TEMPLATE" "$BATS_TEST_TMPDIR/m6"
  set_config "$BATS_TEST_TMPDIR/m6" ".annotations = {\"$CRI_TYPE\": \"container\", \"$CRI_SANDBOX\": \"pod\"}
    | .linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$netns\" else . end)"
  set_args "$BATS_TEST_TMPDIR/m6" readlink /proc/self/ns/net
  run vcrun run --bundle "$BATS_TEST_TMPDIR/m6" m6 </dev/null
  assert_success
  member_net=$output
  run vcrun exec pod readlink /proc/self/ns/net
  assert_output "$member_net"
  run vcrun exec pod ip link show lo
  assert_output --partial ',UP'
  vcrun delete --force pod
  assert_no_leftovers
}

@test "ps, kill --all and delete of a member in the sandbox's pid namespace touch only its processes" {
  start_sandbox
  member_bundle "$BATS_TEST_TMPDIR/m7"
  set_args "$BATS_TEST_TMPDIR/m7" sh -c 'sleep 700 & exec sleep 600'
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m7" m7
  vcrun start m7
  # Its cgroup's processes, as runc lists and signals them.
  local i
  for i in $(seq 1 25); do
    run vcrun ps m7
    [[ "$output" == *"sleep 700"* ]] && break
    sleep 0.2
  done
  assert_output --partial 'sleep 700'
  assert_output --partial 'sleep 600'
  refute_output --partial 'sleep 1000'
  vcrun kill --all m7 KILL
  wait_for_stopped m7
  run vcrun exec pod ps -o args
  assert_line 'sleep 1000'
  refute_line 'sleep 700'
  vcrun delete m7
  # delete takes a daemon the member left behind in the shared namespace.
  member_bundle "$BATS_TEST_TMPDIR/m8"
  set_args "$BATS_TEST_TMPDIR/m8" sh -c 'sleep 800 & exec sleep 600'
  vcrun_bg create --bundle "$BATS_TEST_TMPDIR/m8" m8
  vcrun start m8
  vcrun delete --force m8
  for i in $(seq 1 25); do
    run vcrun exec pod ps -o args
    [[ "$output" == *"sleep 800"* ]] || break
    sleep 0.2
  done
  assert_line 'sleep 1000'
  refute_line 'sleep 800'
  vcrun delete --force pod
  assert_no_leftovers
}
