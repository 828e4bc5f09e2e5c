#!/usr/bin/env bats
# The networking building blocks against the real kernel, in network
# namespaces made here (addresses in 10.x and fd00:: only, never the host's
# own interfaces): the scan and plan, tcfilter and macvtap attach/detach
# (tests/tools/vcnet), the agent's guest configuration run on the host
# (tests/tools/agentnet), and a NIC hot-plugged into a q35 VM and out again.

bats_require_minimum_version 1.5.0
load helpers

VCNET=${VCNET:-$SRCDIR/build/tools/vcnet}
AGENTNET=${AGENTNET:-$SRCDIR/build/tools/agentnet}

setup_file() {
  [ -x "$VCNET" ] && [ -x "$AGENTNET" ] ||
    skip "build/tools/vcnet and agentnet are missing (make build/tools/vcnet build/tools/agentnet)"
  export POD="vcrun-test-pod$$"
  export GW="vcrun-test-gw$$"
}

# The pod namespace as an engine leaves it: eth0 (MTU 1400, IPv4 and IPv6,
# a default route each way, permanent neighbours), eth1 (a route with an
# MTU), eth2 (up, no address), their peers in the gateway namespace.
setup() {
  ip netns add "$POD"
  ip netns add "$GW"
  local i
  for i in 0 1 2; do
    ip -n "$POD" link add "eth$i" type veth peer name "gw$i" netns "$GW"
    ip -n "$GW" link set "gw$i" up
  done
  ip -n "$POD" link set lo up
  ip -n "$POD" link set eth0 mtu 1400 up
  ip -n "$POD" link set eth1 up
  ip -n "$POD" link set eth2 up
  ip -n "$POD" addr add 10.200.0.2/24 dev eth0
  ip -n "$POD" addr add fd00:200::2/64 dev eth0 nodad
  ip -n "$POD" addr add 10.201.0.2/24 dev eth1
  ip -n "$POD" route add default via 10.200.0.1
  ip -n "$POD" route add 10.210.0.0/16 via 10.201.0.1 mtu 1300
  ip -n "$POD" -6 route add default via fd00:200::1
  ip -n "$POD" neigh add 10.200.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent
  ip -n "$POD" neigh add fd00:200::1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent
  # Carrier comes a moment after the peers are up; before/after comparisons
  # of the links need it settled.
  for i in $(seq 1 50); do
    [ "$(ip -n "$POD" -o link show up | grep -c LOWER_UP)" -ge 4 ] && break
    sleep 0.1
  done
}

teardown() {
  if [ -n "${QEMU_PID:-}" ]; then
    kill "$QEMU_PID" 2>/dev/null || true
  fi
  ip netns del "$POD" 2>/dev/null || true
  ip netns del "$GW" 2>/dev/null || true
  ! ip netns list | grep -q "vcrun-test-.*$$" || fail "namespaces left behind"
}

# The pod namespace's links: name, flags (carrier aside), MTU and MAC, for
# before/after comparisons.
links_state() {
  ip -n "$POD" -o link show |
    sed -E 's/^[0-9]+: ([^:]+): <([^>]*)> mtu ([0-9]+) .*link\/[a-z]+ ([0-9a-f:]+).*/\1 \2 \3 \4/; s/(NO-CARRIER,|,LOWER_UP|M-DOWN,)//g'
}

@test "scan lists links, addresses, main-table routes and permanent neighbours; the plan keeps what the VM needs" {
  run "$VCNET" scan "/run/netns/$POD"
  assert_success
  assert_line --regexp '^scan link eth0 kind=veth mac=([0-9a-f]{2}:){5}[0-9a-f]{2} mtu=1400 up=1$'
  assert_line 'scan addr eth0 10.200.0.2/24'
  assert_line 'scan addr eth0 fd00:200::2/64'
  assert_line --regexp '^scan link eth2 kind=veth '
  assert_line 'scan route 10.210.0.0/16 via 10.201.0.1 dev eth1 mtu 1300 proto 3'
  assert_line 'scan neigh 10.200.0.1/32 lladdr 02:00:00:00:00:01 dev eth0'
  assert_line 'scan neigh fd00:200::1/128 lladdr 02:00:00:00:00:01 dev eth0'
  # The plan: eth0 and eth1 (lo is loopback, eth2 has no address), no
  # kernel routes, gateway routes, both neighbours.
  assert_line --regexp '^plan link eth0 '
  assert_line --regexp '^plan link eth1 '
  refute_line --regexp '^plan link (lo|eth2) '
  refute_line --regexp '^plan route .* proto 2$'
  assert_line 'plan route 0.0.0.0/0 via 10.200.0.1 dev eth0 mtu 0 proto 3'
  assert_line 'plan route ::/0 via fd00:200::1 dev eth0 mtu 0 proto 3'
  assert_line 'plan route 10.210.0.0/16 via 10.201.0.1 dev eth1 mtu 1300 proto 3'
  assert_line 'plan neigh fd00:200::1/128 lladdr 02:00:00:00:00:01 dev eth0'
}

@test "a configured link of another kind is refused, naming it" {
  ip -n "$POD" link add br0 type bridge
  ip -n "$POD" addr add 10.202.0.1/24 dev br0
  ip -n "$POD" link set br0 up
  run "$VCNET" scan "/run/netns/$POD"
  assert_failure
  assert_output --partial 'network interface "br0" is of kind "bridge"'
}

@test "tcfilter: a tap with the link's MTU and u32 redirects both ways; detach leaves only the veth" {
  local before
  before=$(links_state)
  run "$VCNET" attach "/run/netns/$POD" tcfilter eth0 sh -c '
    set -e
    ip -n "$0" -d link show tap0_vc | grep -q "mtu 1400 "
    ip -n "$0" -d link show tap0_vc | grep -q "tun type tap pi off vnet_hdr on"
    tc -n "$0" qdisc show dev eth0 | grep -q "qdisc ingress ffff:"
    tc -n "$0" qdisc show dev tap0_vc | grep -q "qdisc ingress ffff:"
    tc -n "$0" filter show dev eth0 ingress | grep -q "u32"
    tc -n "$0" filter show dev eth0 ingress | grep -q "mirred (Egress Redirect to device tap0_vc) stolen"
    tc -n "$0" filter show dev tap0_vc ingress | grep -q "mirred (Egress Redirect to device eth0) stolen"
    echo checked' "$POD"
  assert_success
  assert_line --regexp '^attached eth0 dev tap0_vc mac .* mtu 1400 fd yes$'
  assert_line checked
  assert_line 'detached eth0'
  [ "$(links_state)" = "$before" ] || fail "links changed: $before -> $(links_state)"
  run tc -n "$POD" qdisc show
  refute_output --partial ingress
}

@test "tcfilter: detach while the tap is still open (an unplug) removes the tap too" {
  local before
  before=$(links_state)
  run "$VCNET" attach -k "/run/netns/$POD" tcfilter eth1 true
  assert_success
  [ "$(links_state)" = "$before" ] || fail "links changed: $before -> $(links_state)"
  run tc -n "$POD" qdisc show
  refute_output --partial ingress
}

@test "tcfilter: a link that already has an ingress qdisc is refused and kept as it was" {
  tc -n "$POD" qdisc add dev eth0 ingress
  run "$VCNET" attach "/run/netns/$POD" tcfilter eth0 true
  assert_failure
  assert_output --partial 'eth0 already has an ingress qdisc'
  run ip -n "$POD" link show tap0_vc
  assert_failure
  run tc -n "$POD" qdisc show dev eth0
  assert_output --partial 'qdisc ingress ffff:'
}

@test "macvtap: a bridge-mode macvtap with the link's MAC; detach restores the link's MAC and ARP" {
  local before mac
  before=$(links_state)
  mac=$(ip -n "$POD" -o link show eth1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  run "$VCNET" attach "/run/netns/$POD" macvtap eth1 sh -c '
    set -e
    ip -n "$0" -d link show mvt0_vc | grep -q "macvtap mode bridge"
    ip -n "$0" link show mvt0_vc | grep -q "link/ether $1 "
    ip -n "$0" link show eth1 | grep -q NOARP
    ! ip -n "$0" link show eth1 | grep -q "link/ether $1 "
    echo checked' "$POD" "$mac"
  assert_success
  assert_line --regexp "^attached eth1 dev mvt0_vc mac $mac mtu 1500 fd yes\$"
  assert_line checked
  [ "$(links_state)" = "$before" ] || fail "links changed: $before -> $(links_state)"
}

@test "probe: tcfilter works on this host" {
  run "$VCNET" probe
  assert_success
  assert_line 'tcfilter yes'
  assert_line --regexp '^macvtap (yes|no: .+)$'
}

@test "agent: NICs found by MAC, renamed (swapping a taken name), MTU, addresses, routes and neighbours" {
  # Two links whose names the plan swaps: the one named eth0 must become
  # eth1 and the other eth0.
  ip -n "$GW" link add eth0 address 02:00:00:00:0b:01 type veth peer name vcx0 address 02:00:00:00:0a:01
  run nsenter --net="/run/netns/$GW" "$AGENTNET" \
    "link 02:00:00:00:0a:01 eth0 1400 10.30.0.2/24 fd00:30::2/64" \
    "link 02:00:00:00:0b:01 eth1 1500 10.31.0.2/24" \
    "route 10.40.0.0/16 - eth1 0" \
    "route 0.0.0.0/0 10.30.0.1 eth0 0" \
    "route 10.50.0.0/16 10.31.0.1 eth1 1300" \
    "route ::/0 fd00:30::1 eth0 0" \
    "neigh 10.30.0.1 02:00:00:00:00:01 eth0" \
    "neigh fd00:30::1 02:00:00:00:00:01 eth0"
  assert_success
  run ip -n "$GW" -o link show eth0
  assert_output --regexp 'eth0@eth1: <[A-Z_,]*UP[A-Z_,]*> mtu 1400 .*link/ether 02:00:00:00:0a:01'
  run ip -n "$GW" -o link show eth1
  assert_output --regexp 'mtu 1500 .*link/ether 02:00:00:00:0b:01'
  run ip -n "$GW" -o addr show dev eth0
  assert_output --partial 'inet 10.30.0.2/24'
  assert_output --regexp 'inet6 fd00:30::2/64 scope global nodad'
  run ip -n "$GW" route show
  assert_line --regexp '^default via 10.30.0.1 dev eth0'
  assert_line --regexp '^10.40.0.0/16 dev eth1 .*scope link'
  assert_line --regexp '^10.50.0.0/16 via 10.31.0.1 dev eth1 .*mtu 1300'
  run ip -n "$GW" -6 route show default
  assert_output --regexp 'default via fd00:30::1 dev eth0'
  run ip -n "$GW" neigh show dev eth0
  assert_line --regexp '^10.30.0.1 lladdr 02:00:00:00:00:01 PERMANENT'
  assert_line --regexp '^fd00:30::1 lladdr 02:00:00:00:00:01 PERMANENT'
}

@test "agent: a MAC no NIC has is an error naming it" {
  run nsenter --net="/run/netns/$GW" "$AGENTNET" "link 02:00:00:00:ee:01 eth0 1500 10.30.0.2/24"
  assert_failure
  assert_output --partial 'no network interface with MAC 02:00:00:00:ee:01'
}

@test "hot-plug: the tap goes into a running q35 VM on a root port and out again" {
  local kernel="$SRCDIR/build/guest/vmlinux" initrd="$SRCDIR/build/guest/initramfs.cpio"
  [ -f "$kernel" ] && [ -f "$initrd" ] || skip "no guest image (make guest)"
  local dir="$BATS_TEST_TMPDIR"
  qemu-system-x86_64 -M q35,accel=tcg -cpu qemu64,+arat -m 256M -nodefaults \
    -nographic -no-user-config -no-reboot \
    -device pcie-root-port,id=rp0,bus=pcie.0,chassis=1 \
    -device pcie-root-port,id=rp1,bus=pcie.0,chassis=2 \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 loglevel=7 tsc=reliable no_timer_check nokaslr mitigations=off cryptomgr.notests audit=0 nowatchdog" \
    -serial "file:$dir/console.log" -qmp "unix:$dir/qmp.sock,server=on,wait=off" \
    -daemonize -pidfile "$dir/qemu.pid"
  QEMU_PID=$(cat "$dir/qemu.pid")
  # The guest's PCIe hot-plug driver must be up to release the NIC: wait
  # for the kernel to start init, after every built-in driver.
  local i
  for i in $(seq 1 240); do
    grep -q 'Run /init' "$dir/console.log" 2>/dev/null && break
    sleep 0.5
  done
  grep -q 'Run /init' "$dir/console.log" || fail "the guest did not boot in 120 s"
  run "$VCNET" hotplug "/run/netns/$POD" eth0 "$dir/qmp.sock"
  assert_success
  assert_line --regexp '^hotplugged nic0 on rp0 in [0-9]+ ms$'
  assert_line 'query-pci lists nic0: yes'
  assert_line --regexp '^unplugged nic0 in [0-9]+ ms$'
  run ip -n "$POD" link show tap0_vc
  assert_failure
}
