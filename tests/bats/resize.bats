#!/usr/bin/env bats
# A pod's VM follows what its containers ask: it grows by hot-plug (vCPUs,
# memory DIMMs) as members join and as `update` raises a limit, gives the
# vCPUs back when a member leaves, and names the setting when it cannot
# grow.  Seen from inside the guest: nproc and MemTotal.

bats_require_minimum_version 1.5.0
load helpers

CRI_TYPE=io.kubernetes.cri.container-type
CRI_SANDBOX=io.kubernetes.cri.sandbox-id

start_sandbox() {
  set_args "$BUNDLE" sleep 1000
  set_config "$BUNDLE" ".annotations = {\"$CRI_TYPE\": \"sandbox\"}"
  vcrun_bg create --bundle "$BUNDLE" pod
  vcrun start pod
}

# member ID RESOURCES: a running member of the pod with linux.resources.
member() {
  local dir=$BATS_TEST_TMPDIR/$1
  cp -a "$BUNDLE_TEMPLATE" "$dir"
  set_args "$dir" sleep 1000
  set_config "$dir" ".annotations = {\"$CRI_TYPE\": \"container\", \"$CRI_SANDBOX\": \"pod\"}
    | .linux.resources = $2"
  vcrun_bg create --bundle "$dir" "$1"
  vcrun start "$1"
}

# guest_size: "<online CPUs> <MemTotal in MiB>" as the sandbox container sees them.
guest_size() {
  vcrun exec pod sh -c 'echo $(nproc) $(( $(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo) / 1024 ))'
}

host_cpus=$(nproc)

@test "resize: members and update grow the pod's VM; a member's delete gives its vCPUs back" {
  [ "$host_cpus" -ge 2 ] || skip "the host has one CPU: no vCPU to add"
  start_sandbox
  local cpus mib base_mib
  read -r cpus base_mib <<<"$(guest_size)"
  assert_equal "$cpus" 1

  # One CPU of quota and 256 MiB: one more vCPU, 256 MiB more memory.
  member m1 '{"cpu": {"quota": 100000, "period": 100000}, "memory": {"limit": 268435456}}'
  read -r cpus mib <<<"$(guest_size)"
  assert_equal "$cpus" 2
  [ $((mib - base_mib)) -ge 250 ] && [ $((mib - base_mib)) -le 260 ] ||
    fail "MemTotal grew by $((mib - base_mib)) MiB for a 256 MiB member"
  # The member's own view: the same VM.
  run -0 vcrun exec m1 nproc
  assert_output 2

  # update raises m1's limit to 512 MiB: 256 more.
  run -0 vcrun update --memory 536870912 m1
  read -r cpus mib <<<"$(guest_size)"
  [ $((mib - base_mib)) -ge 500 ] && [ $((mib - base_mib)) -le 520 ] ||
    fail "MemTotal grew by $((mib - base_mib)) MiB for a 512 MiB member"
  run -0 vcrun exec m1 sh -c 'cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max'
  assert_output 536870912

  # The member leaves: its vCPU goes, memory stays (a guest keeps it).
  vcrun kill m1 KILL
  wait_for_stopped m1
  run -0 vcrun delete m1
  read -r cpus mib <<<"$(guest_size)"
  assert_equal "$cpus" 1
  [ $((mib - base_mib)) -ge 500 ] || fail "memory shrank to $mib MiB"

  # The sandbox container's own update grows the VM as well.
  run -0 vcrun update --cpu-quota 100000 --cpu-period 100000 pod
  read -r cpus mib <<<"$(guest_size)"
  assert_equal "$cpus" 2
  jq -e '.containers.pod.vm_ask.vcpus == 1' "$STATE_ROOT/pod/state.json"
  run -0 vcrun delete --force pod
  assert_no_leftovers
}

@test "resize: a VM that cannot grow says which setting holds it; the pod keeps running" {
  # One DIMM slot: the first member gets it, the second cannot grow the VM.
  sed -i 's/^memory_slots = .*/memory_slots = 1/' "$VCRUN_CONFIG"
  grep -q '^memory_slots = 1$' "$VCRUN_CONFIG" || fail "no memory_slots line in $VCRUN_CONFIG"
  start_sandbox
  member m1 '{"memory": {"limit": 134217728}}'
  local dir=$BATS_TEST_TMPDIR/m2
  cp -a "$BUNDLE_TEMPLATE" "$dir"
  set_config "$dir" ".annotations = {\"$CRI_TYPE\": \"container\", \"$CRI_SANDBOX\": \"pod\"}
    | .linux.resources = {\"memory\": {\"limit\": 134217728}}"
  run vcrun create --bundle "$dir" m2 </dev/null
  assert_failure
  assert_output --partial "resize the VM of sandbox \`pod\`"
  assert_output --partial "memory_slots"
  [ ! -e "$STATE_ROOT/m2" ] || fail "m2's state directory is left"
  run -0 vcrun exec m1 true
  run vcrun delete --force m1
  echo "$output"
  assert_success
  run -0 vcrun delete --force pod
  assert_no_leftovers
}
