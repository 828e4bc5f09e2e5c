#!/usr/bin/env bats
# The VM factory ([factory], vcrun factory init|status|destroy): creates
# claim pre-booted VMs from the pool, each once; a dead pooled VM, an empty
# pool or a pool of another configuration fall back to a boot; destroy and
# crashed fills leave nothing behind.

bats_require_minimum_version 1.5.0
load helpers
# This file drives the pool itself, in either mode of the suite.
VCRUN_TEST_FACTORY=0

# enable_factory SIZE: this test's configuration gets [factory] enabled
# with a pool of SIZE VMs.
enable_factory() {
  sed -i -e 's/^enable = false/enable = true/' \
    -e "s/^pool_size = .*/pool_size = $1/" "$VCRUN_CONFIG"
  grep -q '^enable = true' "$VCRUN_CONFIG" || fail "no [factory] enable in $VCRUN_CONFIG"
}

# enable_template: clones of a saved template VM.
enable_template() {
  sed -i 's/^template = false/template = true/' "$VCRUN_CONFIG"
}

# The guest's view: boot id, 32 random bytes, the time, the kernel's
# command line (a clone's says vcrun.template).
GUEST_FACTS='cat /proc/sys/kernel/random/boot_id; head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s; cat /proc/cmdline'

teardown() {
  "$VCRUN" factory destroy 2>/dev/null || true
  teardown_state_root
  if [ -n "${POD:-}" ]; then
    ip netns del "$POD" 2>/dev/null || true
    ip netns del "$GW" 2>/dev/null || true
  fi
  local d
  for d in /sys/fs/cgroup/*/"vcrun-bats-$$-$BATS_TEST_NUMBER"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# pod_netns: a pod network namespace $POD whose eth0 (10.200.0.2/24, the
# default route) is a veth to gw0 (10.200.0.1/24) in $GW, named by the
# bundle's network namespace; the container may ping.
pod_netns() {
  POD="vcrun-test-fpod$$-$BATS_TEST_NUMBER"
  GW="vcrun-test-fgw$$-$BATS_TEST_NUMBER"
  ip netns add "$POD"
  ip netns add "$GW"
  ip -n "$POD" link set lo up
  ip -n "$POD" link add eth0 type veth peer name gw0 netns "$GW"
  ip -n "$GW" link set gw0 up
  ip -n "$POD" link set eth0 up
  ip -n "$POD" addr add 10.200.0.2/24 dev eth0
  ip -n "$GW" addr add 10.200.0.1/24 dev gw0
  ip -n "$POD" route add default via 10.200.0.1
  set_config "$BUNDLE" ".linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$POD\" else . end)"
  set_config "$BUNDLE" '.process.capabilities.bounding += ["CAP_NET_RAW"] | .process.capabilities.effective += ["CAP_NET_RAW"] | .process.capabilities.permitted += ["CAP_NET_RAW"]'
}

# The pod namespace's links (name, MTU, MAC) and qdiscs: what vcrun must
# leave as it found it.
pod_links() {
  ip -n "$POD" -o link show | sed -E 's/^[0-9]+: ([^:@]+)[^:]*: <[^>]*> mtu ([0-9]+) .*link\/[a-z]+ ([0-9a-f:]+).*/\1 \2 \3/'
  tc -n "$POD" qdisc show | grep -v noqueue || true
}

# pooled_qemu VM: the QEMU pid factory status gives VM.
pooled_qemu() {
  "$VCRUN" factory status | awk -v vm="$1" '$2 == vm {print $7}'
}

# ready_vms: the names of the pool's ready VMs, one a line.
ready_vms() {
  "$VCRUN" factory status | awk '$1 == "vm" && $3 == "ready" {print $2}'
}

# wait_for_ready N: polls (up to 60 s) until N VMs are ready.
wait_for_ready() {
  local i
  for i in $(seq 600); do
    [ "$(ready_vms | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "the pool has not got $1 ready VMs: $("$VCRUN" factory status)"
}

# claimed_vm FILE: the pooled VM a create's --debug output says it claimed.
claimed_vm() {
  sed -n 's/.*factory: claimed pooled VM \([a-z0-9]*\).*/\1/p' "$1"
}

@test "factory: verbs, status without a pool, init needs [factory] enable" {
  run "$VCRUN" factory
  assert_failure
  assert_output "vcrun: factory: expects one of init, status, destroy"
  run "$VCRUN" factory bogus
  assert_failure
  assert_output "vcrun: factory: unknown verb \`bogus\` (init, status, destroy)"
  run "$VCRUN" factory init
  assert_failure
  assert_output --partial "[factory] enable is false"
  run "$VCRUN" factory status
  assert_success
  assert_line "factory: disabled, pool_size 2, template off"
  assert_line "template: off"
  assert_line "ready: 0"
  assert_line --partial "(no pool: run vcrun factory init)"
  run "$VCRUN" check
  assert_line --regexp '^OK +factory +disabled'
  # Nothing to destroy is not an error.
  run "$VCRUN" factory destroy
  assert_success
  assert_no_leftovers
}

@test "factory: a create claims a VM booted before it, and the pool is refilled" {
  enable_factory 1
  run "$VCRUN" factory init
  assert_success
  assert_output "factory: 1 VM(s) booted into the pool"
  local vm
  vm=$(ready_vms)
  [ -n "$vm" ]
  run "$VCRUN" check
  assert_line --regexp "^OK +factory +enabled: 1 of 1 ready"
  sleep 2
  set_args "$BUNDLE" sh -c 'cut -d" " -f1 /proc/uptime'
  local t0 t1
  t0=$(date +%s.%N)
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  t1=$(date +%s.%N)
  assert_success
  [ "$(claimed_vm <(echo "$stderr"))" = "$vm" ] || fail "not claimed: $stderr"
  # The guest was up before the run began: it booted before it.
  awk -v up="$output" -v t0="$t0" -v t1="$t1" 'BEGIN {exit !(up > t1 - t0 + 1)}' ||
    fail "guest uptime $output s is not older than the run ($t0 .. $t1)"
  # The refill create started puts another VM into the pool.
  wait_for_ready 1
  [ "$(ready_vms)" != "$vm" ]
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: create and delete of a claimed VM, its state names the pooled VM" {
  enable_factory 1
  "$VCRUN" factory init
  local vm qemu
  vm=$(ready_vms)
  qemu=$("$VCRUN" factory status | awk -v vm="$vm" '$2 == vm {print $7}')
  set_args "$BUNDLE" sleep 1000
  vcrun_bg --debug create --bundle "$BUNDLE" c1
  [ "$(claimed_vm "$BATS_TEST_TMPDIR/bg.err")" = "$vm" ]
  [ "$(jq -r .hypervisor.pid "$STATE_ROOT/c1/state.json")" = "$qemu" ]
  [ "$(jq -r .sandbox.run_dir "$STATE_ROOT/c1/state.json")" = "$STATE_ROOT.run/$vm" ]
  [ "$(run_dir_of c1)" = "$STATE_ROOT.run/$vm" ]
  vcrun start c1
  run vcrun exec c1 cat /proc/1/cmdline
  assert_success
  assert_output "sleep1000"
  vcrun kill c1 KILL
  wait_for_stopped c1
  vcrun delete c1
  [ ! -e "$STATE_ROOT.run/$vm" ]
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: 6 creates at once on a pool of 3 claim each VM once, the rest boot" {
  enable_factory 3
  "$VCRUN" factory init
  local before
  before=$(ready_vms | sort)
  [ "$(echo "$before" | wc -l)" -eq 3 ]
  set_args "$BUNDLE" sleep 1000
  local i pids=()
  for i in 1 2 3 4 5 6; do
    "$VCRUN" --root "$STATE_ROOT" --debug create --bundle "$BUNDLE" "r$i" \
      </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/r$i.err" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || fail "a create failed: $(cat "$BATS_TEST_TMPDIR"/r*.err)"
  done
  local claimed booted
  claimed=$(for i in 1 2 3 4 5 6; do claimed_vm "$BATS_TEST_TMPDIR/r$i.err"; done | sort)
  booted=$(cat "$BATS_TEST_TMPDIR"/r*.err | grep -c 'booting a VM' || true)
  # Each pooled VM went to exactly one create; the others booted.
  [ "$claimed" = "$before" ] || fail "claimed: $claimed; pool: $before"
  [ "$booted" -eq 3 ] || fail "$booted creates booted: $(cat "$BATS_TEST_TMPDIR"/r*.err)"
  # Six containers, six VMs.
  local vms
  vms=$(for i in 1 2 3 4 5 6; do jq -r .hypervisor.pid "$STATE_ROOT/r$i/state.json"; done | sort -u | wc -l)
  [ "$vms" -eq 6 ]
  for i in 1 2 3 4 5 6; do vcrun delete --force "r$i"; done
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: a dead pooled VM is skipped and discarded, create boots" {
  enable_factory 1
  "$VCRUN" factory init
  local vm qemu
  vm=$(ready_vms)
  qemu=$("$VCRUN" factory status | awk -v vm="$vm" '$2 == vm {print $7}')
  kill -9 "$qemu"
  run "$VCRUN" factory status
  assert_line "dead: 1"
  set_args "$BUNDLE" true
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [[ "$stderr" == *"pooled VM $vm is dead or unreadable (discarded)"* ]] || fail "$stderr"
  [[ "$stderr" == *"booting a VM"* ]] || fail "$stderr"
  [ ! -e "$STATE_ROOT.run/$vm" ]
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: a pool of another configuration (kernel path) is never used" {
  enable_factory 1
  "$VCRUN" factory init
  local vm kernel
  vm=$(ready_vms)
  kernel=$(sed -n 's/^kernel = "\(.*\)"/\1/p' "$VCRUN_CONFIG")
  ln -s "$kernel" "$BATS_TEST_TMPDIR/vmlinux"
  sed "s|^kernel = .*|kernel = \"$BATS_TEST_TMPDIR/vmlinux\"|" "$VCRUN_CONFIG" > "$STATE_ROOT.other.toml"
  set_args "$BUNDLE" true
  run --separate-stderr env VCRUN_CONFIG="$STATE_ROOT.other.toml" \
    "$VCRUN" --root "$STATE_ROOT" --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [[ "$stderr" == *"no VM pool for this configuration"*"booting a VM"* ]] || fail "$stderr"
  # The old pool is untouched, and stale for the new configuration.
  [ "$(ready_vms)" = "$vm" ]
  run env VCRUN_CONFIG="$STATE_ROOT.other.toml" "$VCRUN" factory status
  assert_line "stale: 1 key(s), 1 VM(s)"
  assert_line --partial "(no pool: run vcrun factory init)"
  rm -f "$STATE_ROOT.other.toml"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: destroy leaves nothing, also after a fill killed mid-boot" {
  enable_factory 2
  # A fill killed while it boots: its VMs are half-started.
  "$VCRUN" factory init >/dev/null 2>&1 &
  local init=$!
  sleep 1.5
  local children
  children=$(ps -o pid= --ppid "$init" || true)
  kill -9 "$init" $children 2>/dev/null || true
  wait "$init" 2>/dev/null || true
  run "$VCRUN" factory status
  assert_success
  # The next init sweeps what the dead fill left, and fills the pool.
  run "$VCRUN" factory init
  assert_success
  wait_for_ready 2
  # A claim starts a refill; destroy stops it too, mid-boot.
  set_args "$BUNDLE" true
  run vcrun run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  sleep 0.5
  run "$VCRUN" factory destroy
  assert_success
  [ ! -e "$STATE_ROOT.run/pool" ]
  assert_no_leftovers
}

@test "factory template: clones differ in boot id and RNG and keep the host's clock" {
  enable_factory 2
  enable_template
  run "$VCRUN" factory init
  assert_success
  run "$VCRUN" factory status
  assert_line "template: ready"
  assert_line "ready: 2"
  set_args "$BUNDLE" sh -c "$GUEST_FACTS"
  local i before after boots=() rngs=()
  for i in 1 2; do
    before=$(date +%s)
    run --separate-stderr vcrun --debug run --bundle "$BUNDLE" "c$i" </dev/null
    after=$(date +%s)
    assert_success
    [[ "$stderr" == *"factory: claimed pooled VM"* ]] || fail "$stderr"
    [[ "${lines[3]}" == *vcrun.template* ]] || fail "not a clone: ${lines[3]}"
    # The clock is the host's, not the template's (saved seconds ago).
    [ "${lines[2]}" -ge $((before - 1)) ] && [ "${lines[2]}" -le $((after + 1)) ] ||
      fail "guest time ${lines[2]}, host $before .. $after"
    boots+=("${lines[0]}")
    rngs+=("${lines[1]}")
  done
  # Identical clones, yet their boot ids and random bytes differ.
  [ "${#rngs[0]}" -eq 64 ] && [ "${#rngs[1]}" -eq 64 ] || fail "random bytes: ${rngs[*]}"
  [ "${#boots[0]}" -eq 36 ] && [ "${#boots[1]}" -eq 36 ] || fail "boot ids: ${boots[*]}"
  [ "${boots[0]}" != "${boots[1]}" ]
  [ "${rngs[0]}" != "${rngs[1]}" ]
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory template: with no ready VM, create restores a clone itself" {
  enable_factory 1
  enable_template
  "$VCRUN" factory init
  local vm qemu
  vm=$(ready_vms)
  qemu=$("$VCRUN" factory status | awk -v vm="$vm" '$2 == vm {print $7}')
  kill -9 "$qemu"
  set_args "$BUNDLE" sh -c "$GUEST_FACTS"
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [[ "$stderr" == *"pooled VM $vm is dead or unreadable (discarded)"* ]] || fail "$stderr"
  [[ "$stderr" == *"restoring a clone of the template"* ]] || fail "$stderr"
  [[ "$stderr" == *"restore-to-agent"* ]] || fail "$stderr"
  [[ "${lines[3]}" == *vcrun.template* ]]
  # The clone's RAM copy went with its VM; the template stays (and once
  # the refill the empty pool started is done, nothing else is there).
  wait_for_ready 1
  [ "$(ls "$STATE_ROOT.run/pool/ram")" = "$(ls "$STATE_ROOT.run/pool/ram" | grep '\.template$')" ] ||
    fail "RAM copies: $(ls "$STATE_ROOT.run/pool/ram")"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory template: init rebuilds it for a changed kernel; destroy unmounts its tmpfs" {
  enable_factory 1
  enable_template
  "$VCRUN" factory init
  local old kernel
  old=$(ls "$STATE_ROOT.run/pool/ram")
  [[ "$old" == *.template ]]
  grep -q "$STATE_ROOT.run/pool/ram" /proc/self/mountinfo
  kernel=$(sed -n 's/^kernel = "\(.*\)"/\1/p' "$VCRUN_CONFIG")
  ln -s "$kernel" "$BATS_TEST_TMPDIR/vmlinux"
  sed -i "s|^kernel = .*|kernel = \"$BATS_TEST_TMPDIR/vmlinux\"|" "$VCRUN_CONFIG"
  run "$VCRUN" factory status
  assert_line "template: missing"
  run "$VCRUN" factory init
  assert_success
  # A template of the new key, the old one and its pool gone.
  run ls "$STATE_ROOT.run/pool/ram"
  assert_output --regexp '^[0-9a-f]{16}\.template$'
  [ "$output" != "$old" ]
  run "$VCRUN" factory status
  assert_line "template: ready"
  assert_line "stale: 0 key(s), 0 VM(s)"
  assert_line "ready: 1"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: a claimed VM's processes join the container's host cgroup with its limits, removed at delete; idle ones stay out" {
  enable_factory 1
  "$VCRUN" factory init
  local vm qemu cg pids pid
  vm=$(ready_vms)
  qemu=$(pooled_qemu "$vm")
  cg="vcrun-bats-$$-$BATS_TEST_NUMBER"
  # Not in any cgroup of the container before the claim.
  ! grep -q ":/$cg/" "/proc/$qemu/cgroup"
  # The pod's limits as containerd gives them (the sandbox annotations set
  # the host cgroup's; the VM stays at the pool's size).
  set_config "$BUNDLE" ".linux.cgroupsPath = \"/$cg/c1\" |
    .annotations[\"io.kubernetes.cri.sandbox-memory\"] = \"67108864\" |
    .annotations[\"io.kubernetes.cri.sandbox-cpu-quota\"] = \"50000\" |
    .annotations[\"io.kubernetes.cri.sandbox-cpu-period\"] = \"100000\""
  set_args "$BUNDLE" sleep 1000
  vcrun_bg --debug create --bundle "$BUNDLE" c1
  [ "$(claimed_vm "$BATS_TEST_TMPDIR/bg.err")" = "$vm" ] || fail "not claimed: $(cat "$BATS_TEST_TMPDIR/bg.err")"
  [ "$(jq -r .hypervisor.pid "$STATE_ROOT/c1/state.json")" = "$qemu" ]
  # QEMU (all its threads), virtiofsd, the vsock backend and the shim.
  pids=$(jq -r '.hypervisor.pid, .devices[].daemon_pid' "$STATE_ROOT/c1/state.json"
         vcrun state c1 | jq -r .pid)
  [ "$(echo "$pids" | wc -l)" -ge 4 ] || fail "pids: $pids"
  for pid in $pids; do
    grep -q ":memory:/$cg/c1\$" "/proc/$pid/cgroup" ||
      fail "pid $pid ($(cat "/proc/$pid/comm")) not in /$cg/c1: $(cat "/proc/$pid/cgroup")"
    grep -q ":cpu[^:]*:/$cg/c1\$" "/proc/$pid/cgroup" ||
      fail "pid $pid ($(cat "/proc/$pid/comm")) not in cpu /$cg/c1"
  done
  for pid in $(ls "/proc/$qemu/task"); do
    grep -q ":memory:/$cg/c1\$" "/proc/$qemu/task/$pid/cgroup" || fail "QEMU thread $pid not moved"
  done
  # The limits a booted VM's cgroup gets: memory plus host_cgroup_overhead.
  local overhead
  overhead=$(sed -n 's/^host_cgroup_overhead = \([0-9]*\).*/\1/p' "$VCRUN_CONFIG")
  [ -n "$overhead" ] || overhead=384
  [ "$(cat "/sys/fs/cgroup/memory/$cg/c1/memory.limit_in_bytes")" = $((67108864 + overhead * 1048576)) ]
  [ "$(cat "/sys/fs/cgroup/cpu/$cg/c1/cpu.cfs_quota_us")" = 50000 ]
  # The refill's idle VM stays outside the container's cgroup.
  wait_for_ready 1
  local idle
  idle=$(pooled_qemu "$(ready_vms)")
  [ "$idle" != "$qemu" ]
  ! grep -q ":/$cg/" "/proc/$idle/cgroup" || fail "idle VM $idle in the container's cgroup"
  vcrun start c1
  vcrun delete --force c1
  local left
  left=$(ls -d /sys/fs/cgroup/*/"$cg" 2>/dev/null || true)
  [ -z "$left" ] || fail "cgroups left behind: $left"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: a create with the pod's network namespace claims a pooled VM, its NIC hot-plugged; delete leaves only the veth" {
  enable_factory 1
  "$VCRUN" factory init
  local vm before
  vm=$(ready_vms)
  pod_netns
  before=$(pod_links)
  set_args "$BUNDLE" sh -c 'ip -o addr show eth0; ip route; ping -c 1 -W 5 10.200.0.1 >/dev/null && echo ping-ok'
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [ "$(claimed_vm <(echo "$stderr"))" = "$vm" ] || fail "not claimed: $stderr"
  [[ "$stderr" == *"NIC hot-plug (1)"* ]] || fail "no hot-plug: $stderr"
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line --regexp '^default via 10\.200\.0\.1 dev eth0'
  assert_line ping-ok
  [ "$(pod_links)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_links)"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory template: a restored clone gets the pod's NIC by hot-plug, also with a createRuntime hook" {
  enable_factory 1
  enable_template
  "$VCRUN" factory init
  local vm before
  vm=$(ready_vms)
  # No ready VM: create restores a clone of the template itself.
  kill -9 "$(pooled_qemu "$vm")"
  pod_netns
  before=$(pod_links)
  set_args "$BUNDLE" sh -c 'ip -o addr show eth0; ping -c 1 -W 5 10.200.0.1 >/dev/null && echo ping-ok'
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [[ "$stderr" == *"restoring a clone of the template"* ]] || fail "$stderr"
  [[ "$stderr" == *"NIC hot-plug (1)"* ]] || fail "no hot-plug: $stderr"
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line ping-ok
  [ "$(pod_links)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_links)"
  # The hot path (a hook may still change the namespace): a claimed clone,
  # the one the empty pool's refill made.
  wait_for_ready 1
  vm=$(ready_vms)
  [ -n "$vm" ]
  set_config "$BUNDLE" '.hooks.createRuntime = [{"path": "/bin/true"}]'
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c2 </dev/null
  assert_success
  [ "$(claimed_vm <(echo "$stderr"))" = "$vm" ] || fail "not claimed: $stderr"
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line ping-ok
  [ "$(pod_links)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_links)"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

@test "factory: a pod network link that cannot be mirrored fails create naming it before a VM is claimed; nothing is left" {
  enable_factory 1
  "$VCRUN" factory init
  local vm before
  vm=$(ready_vms)
  pod_netns
  ip -n "$POD" link add br0 type bridge
  ip -n "$POD" link set br0 up
  ip -n "$POD" addr add 10.201.0.1/24 dev br0
  before=$(pod_links)
  set_args "$BUNDLE" true
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_failure
  [[ "$stderr" == *br0* ]] || fail "the link is not named: $stderr"
  [[ "$stderr" != *"claimed pooled VM"* ]] || fail "a VM was claimed: $stderr"
  # The pooled VM is still there for the next create.
  [ "$(ready_vms)" = "$vm" ]
  [ ! -e "$STATE_ROOT/c1" ]
  [ "$(pod_links)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_links)"
  "$VCRUN" factory destroy
  assert_no_leftovers
}

# A container with limits takes a pooled VM (or a clone) of the base size
# and grows it by hot-plug to what it asks, as a pod member does.
@test "factory: a container with limits claims a pooled VM and grows it; a clone grows too" {
  [ "$(nproc)" -ge 2 ] || skip "the host has one CPU: no vCPU to add"
  enable_factory 1
  enable_template
  "$VCRUN" factory init
  set_config "$BUNDLE" '.linux.resources = {"cpu": {"quota": 100000, "period": 100000},
    "memory": {"limit": 268435456}}'
  set_args "$BUNDLE" sh -c 'nproc; sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo'
  # No ready VM: create restores a clone, and grows it.
  kill -9 "$(pooled_qemu "$(ready_vms)")"
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c1 </dev/null
  assert_success
  [[ "$stderr" == *"restoring a clone of the template"* ]] || fail "$stderr"
  assert_line --index 0 2
  # The base VM's 256 MiB plus the 256 the container asks: well above what
  # a 256 MiB guest shows (about 200 MiB).
  [ "${lines[1]}" -gt $((400 * 1024)) ] || fail "MemTotal ${lines[1]} kB"
  # A refilled pool: the claimed VM grows the same way.
  wait_for_ready 1
  local vm
  vm=$(ready_vms)
  run --separate-stderr vcrun --debug run --bundle "$BUNDLE" c2 </dev/null
  assert_success
  [ "$(claimed_vm <(echo "$stderr"))" = "$vm" ] || fail "not claimed: $stderr"
  assert_line --index 0 2
  [ "${lines[1]}" -gt $((400 * 1024)) ] || fail "MemTotal ${lines[1]} kB"
  "$VCRUN" factory destroy
  assert_no_leftovers
}
