#!/usr/bin/env bats
# Host cgroups (lib/placement.h): a sandbox's QEMU, virtiofsd, vsock backend
# and shim in the host cgroup linux.cgroupsPath names, with the pod's limits,
# removed at delete; a member's shim in its own; the v2 layout in a mount
# namespace with a cgroup2 mount; OOM events from the guest.

bats_require_minimum_version 1.5.0
load helpers

CG_ROOT=/sys/fs/cgroup

setup() {
  setup_bundle
  # A top-level cgroup of the test's own, removed by vcrun (it made it).
  CG_TOP="vcrun-bats-$$-$BATS_TEST_NUMBER"
  set_args "$BUNDLE" sleep 1000
}

teardown() {
  teardown_state_root
  local d
  for d in "$CG_ROOT"/*/"$CG_TOP" "$CG_ROOT"/*/vcrun.slice/vcrun-bats$$.slice; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# The pids of the sandbox's processes, from state.json, and its shim's.
sandbox_pids() {
  local st="$STATE_ROOT/$1/state.json"
  jq -r '.hypervisor.pid, .devices[].daemon_pid' "$st"
  vcrun state "$1" | jq -r .pid
}

# cg_dirs_absent: no directory of the test's cgroup in any hierarchy.
cg_dirs_absent() {
  local left
  left=$(ls -d "$CG_ROOT"/*/"$CG_TOP" 2>/dev/null || true)
  [ -z "$left" ] || fail "cgroups left behind: $left"
}

@test "host cgroup: the VM's processes and the shims in cgroupsPath, limits written, removed at delete" {
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/c1\" |
    .linux.resources.memory = {\"limit\": 67108864} |
    .linux.resources.cpu = {\"quota\": 50000, \"period\": 100000, \"shares\": 512}"
  vcrun_bg create --bundle "$BUNDLE" c1
  local pids ctrl pid
  pids=$(sandbox_pids c1)
  [ "$(echo "$pids" | wc -l)" -ge 4 ] # qemu, virtiofsd, backend, shim
  for ctrl in memory cpu pids systemd unified; do
    for pid in $pids; do
      grep -qx "$pid" "$CG_ROOT/$ctrl/$CG_TOP/c1/cgroup.procs" ||
        fail "pid $pid ($(cat /proc/$pid/comm)) not in $ctrl"
    done
  done
  # What the runc shim reads: the pid vcrun reports, by /proc/<pid>/cgroup.
  pid=$(vcrun state c1 | jq -r .pid)
  grep -qx "[0-9]*:memory:/$CG_TOP/c1" "/proc/$pid/cgroup"
  # The memory limit plus [runtime] host_cgroup_overhead (384 MiB).
  [ "$(cat "$CG_ROOT/memory/$CG_TOP/c1/memory.limit_in_bytes")" = $((67108864 + 384 * 1048576)) ]
  [ "$(cat "$CG_ROOT/cpu/$CG_TOP/c1/cpu.cfs_quota_us")" = 50000 ]
  [ "$(cat "$CG_ROOT/cpu/$CG_TOP/c1/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$CG_ROOT/cpu/$CG_TOP/c1/cpu.shares")" = 512 ]
  # The engine's stats are the VM's now, not the caller's whole cgroup.
  [ "$(cat "$CG_ROOT/memory/$CG_TOP/c1/memory.usage_in_bytes")" -gt 0 ]
  # A detached exec's shim joins it too.
  vcrun start c1
  vcrun_bg exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" c1 sleep 1000
  grep -qx "$(cat "$BATS_TEST_TMPDIR/exec.pid")" "$CG_ROOT/memory/$CG_TOP/c1/cgroup.procs"
  vcrun delete --force c1
  cg_dirs_absent
  assert_no_leftovers
}

@test "host cgroup: delete --force after kill -9 of create removes it" {
  # The boot is what this test kills create during (bats-factory: no pool).
  stop_test_factory
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/c2\""
  vcrun create --bundle "$BUNDLE" c2 </dev/null >/dev/null 2>&1 &
  local create=$! i
  # Killed once the cgroup holds QEMU (the boot is still going on).
  for i in $(seq 1 200); do
    grep -q . "$CG_ROOT/memory/$CG_TOP/c2/cgroup.procs" 2>/dev/null &&
      pgrep -f "qemu.*$STATE_ROOT.run" >/dev/null && break
    sleep 0.05
  done
  kill -9 "$create"
  wait "$create" || true
  [ -d "$CG_ROOT/memory/$CG_TOP/c2" ]
  vcrun delete --force c2
  cg_dirs_absent
  assert_no_leftovers
}

@test "host cgroup: kill -9 of QEMU and the shim, then delete --force" {
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/c3\""
  vcrun_bg run -d --bundle "$BUNDLE" c3
  kill -9 $(sandbox_pids c3)
  vcrun delete --force c3
  cg_dirs_absent
  assert_no_leftovers
}

@test "host cgroup: a pod member's shim in its own cgroupsPath, the VM in the sandbox's" {
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/pod\" |
    .annotations = {\"io.kubernetes.cri.container-type\": \"sandbox\"}"
  vcrun_bg run -d --bundle "$BUNDLE" pod
  local member="$BATS_TEST_TMPDIR/member"
  cp -a "$BUNDLE" "$member"
  set_config "$member" ".linux.cgroupsPath = \"/$CG_TOP/m1\" |
    .annotations = {\"io.kubernetes.cri.container-type\": \"container\",
                    \"io.kubernetes.cri.sandbox-id\": \"pod\"}"
  vcrun_bg run -d --bundle "$member" m1
  local shim qemu
  shim=$(vcrun state m1 | jq -r .pid)
  qemu=$(jq -r .hypervisor.pid "$STATE_ROOT/pod/state.json")
  [ "$(cat "$CG_ROOT/memory/$CG_TOP/m1/cgroup.procs")" = "$shim" ]
  grep -qx "$qemu" "$CG_ROOT/memory/$CG_TOP/pod/cgroup.procs"
  vcrun delete --force m1
  [ ! -d "$CG_ROOT/memory/$CG_TOP/m1" ]
  [ -d "$CG_ROOT/memory/$CG_TOP/pod" ]
  vcrun delete --force pod
  cg_dirs_absent
  assert_no_leftovers
}

@test "host cgroup: --systemd-cgroup's slice:prefix:name under the expanded slice" {
  set_config "$BUNDLE" ".linux.cgroupsPath = \"vcrun-bats$$.slice:pfx:c4\""
  "$VCRUN" --root "$STATE_ROOT" --systemd-cgroup create --bundle "$BUNDLE" c4 </dev/null >/dev/null 2>&1
  local dir="$CG_ROOT/memory/vcrun.slice/vcrun-bats$$.slice/pfx-c4.scope"
  grep -qx "$(vcrun state c4 | jq -r .pid)" "$dir/cgroup.procs"
  vcrun delete --force c4
  [ ! -d "$CG_ROOT/memory/vcrun.slice/vcrun-bats$$.slice" ]
  assert_no_leftovers
}

@test "host cgroup: [runtime] host_cgroups = false leaves the processes where they were" {
  sed -i "s/^host_cgroups = .*/host_cgroups = false/" "$VCRUN_CONFIG"
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/c5\""
  vcrun_bg create --bundle "$BUNDLE" c5
  cg_dirs_absent
  [ "$(jq '.containers.c5.host_cgroup' "$STATE_ROOT/c5/state.json")" = null ]
  vcrun delete --force c5
  assert_no_leftovers
}

@test "host cgroup: the v2 layout, a cgroup2 mount at /sys/fs/cgroup in a mount namespace" {
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$CG_TOP/c6\""
  # Everything in one mount namespace whose /sys/fs/cgroup is the v2
  # hierarchy (the same one as the host's unified/ mount).  bats-factory:
  # the pool is filled in that namespace too (a pooled virtiofsd must see
  # the binds create makes there), and the claimed QEMU is moved.
  local factory=0
  if factory_mode; then
    stop_test_factory
    factory=1
  fi
  run unshare -m --propagation private sh -c '
    set -e
    mount -t cgroup2 none /sys/fs/cgroup
    "$0" --root "$1" check | grep "^OK   cgroups .*unified"
    [ "$4" = 0 ] || "$0" factory init >/dev/null
    "$0" --root "$1" create --bundle "$2" c6 </dev/null >/dev/null
    pid=$("$0" --root "$1" state c6 | sed -n "s/.*\"pid\":\([0-9]*\).*/\1/p")
    grep -x "0::/$3/c6" /proc/$pid/cgroup
    grep -qx "$pid" /sys/fs/cgroup/$3/c6/cgroup.procs
    qemu=$(jq -r .hypervisor.pid "$1/c6/state.json")
    grep -qx "$qemu" /sys/fs/cgroup/$3/c6/cgroup.procs
    "$0" --root "$1" delete --force c6
    [ "$4" = 0 ] || "$0" factory destroy
    test ! -e /sys/fs/cgroup/$3' "$VCRUN" "$STATE_ROOT" "$BUNDLE" "$CG_TOP" "$factory"
  assert_success
  assert_line --partial "unified (cgroup v2)"
  assert_line "0::/$CG_TOP/c6"
  [ ! -d "$CG_ROOT/unified/$CG_TOP" ]
  assert_no_leftovers
}

@test "events: an OOM kill in the guest is an oom event; the killed init exits 137" {
  set_args "$BUNDLE" sh -c 'sleep 1; exec dd if=/dev/zero of=/dev/null bs=64M count=1'
  set_config "$BUNDLE" '.linux.resources.memory = {"limit": 33554432}'
  vcrun_bg create --bundle "$BUNDLE" oom
  vcrun events --interval 60s oom >"$BATS_TEST_TMPDIR/events" 2>&1 &
  local events=$!
  vcrun start oom
  wait_for_stopped oom
  wait "$events"
  run jq -c 'select(.type == "oom")' "$BATS_TEST_TMPDIR/events"
  assert_output '{"type":"oom","id":"oom"}'
  vcrun delete oom
  # The status engines see: the foreground run's, as runc gives it.
  run vcrun run --bundle "$BUNDLE" oom2 </dev/null
  assert_equal "$status" 137
  assert_no_leftovers
}
