#!/usr/bin/env bats
# The pod's network namespace reaches the VM: a bundle naming a network
# namespace made here (a veth pair to a "gateway" namespace, addresses in
# 10.x and fd00:: only) runs in a VM whose eth0 mirrors the veth; the peer
# namespace talks to it; delete leaves the namespace as the test made it.
# Each model of [network] model, the cold path (no hook) and the hot-plug
# path (a createRuntime hook fills the namespace after the container exists).

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_bundle
  POD="vcrun-test-pod$$-$BATS_TEST_NUMBER"
  GW="vcrun-test-gw$$-$BATS_TEST_NUMBER"
  ip netns add "$POD"
  ip netns add "$GW"
  ip -n "$POD" link set lo up
  set_config "$BUNDLE" ".linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$POD\" else . end)"
  # ping needs a raw socket, as under runc.
  set_config "$BUNDLE" '.process.capabilities.bounding += ["CAP_NET_RAW"] | .process.capabilities.effective += ["CAP_NET_RAW"] | .process.capabilities.permitted += ["CAP_NET_RAW"]'
}

teardown() {
  [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
  teardown_state_root
  ip netns del "$POD" 2>/dev/null || true
  ip netns del "$GW" 2>/dev/null || true
}

# veth N MTU ADDR GWADDR: eth<N> in the pod, gw<N> in the gateway namespace.
veth() {
  ip -n "$POD" link add "eth$1" type veth peer name "gw$1" netns "$GW"
  ip -n "$POD" link set "eth$1" mtu "$2"
  ip -n "$GW" link set "gw$1" mtu "$2"
  ip -n "$GW" link set "gw$1" up
  ip -n "$POD" link set "eth$1" up
  ip -n "$POD" addr add "$3" dev "eth$1"
  ip -n "$GW" addr add "$4" dev "gw$1"
}

# The pod namespace's links (name, flags but carrier, MTU, MAC) and qdiscs.
pod_state() {
  ip -n "$POD" -o link show |
    sed -E 's/^[0-9]+: ([^:@]+)[^:]*: <([^>]*)> mtu ([0-9]+) .*link\/[a-z]+ ([0-9a-f:]+).*/\1 \2 \3 \4/; s/(NO-CARRIER,|,LOWER_UP|M-DOWN,)//g'
  tc -n "$POD" qdisc show | grep -v noqueue || true
}

mac_of() {
  ip -n "$POD" -o link show "$1" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2
}

# listen ADDR PORT: one TCP connection in the gateway namespace; it answers
# "got <bytes received>" once the sender is done.
listen() {
  nsenter --net="/run/netns/$GW" /usr/bin/python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(120)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.sendall(b"got %d\n" % n)
c.close()' "$1" "$2" 3>&- &
  LISTENER=$!
}

use_model() {
  sed -i -e "s/^model = .*/model = \"$1\"/" "$VCRUN_CONFIG"
  grep -q "^model = \"$1\"" "$VCRUN_CONFIG" || fail "no [network] model line"
}

@test "tcfilter: eth0 has the veth's address, MAC and MTU and the default route; ping and a TCP transfer reach the peer; delete leaves only the veth" {
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  ip -n "$POD" route add default via 10.200.0.1
  local before mac
  before=$(pod_state)
  mac=$(mac_of eth0)
  listen 10.200.0.1 7777
  in_container 'ip -o addr show eth0; ip -o link show eth0; ip route; ping -c 1 -W 5 10.200.0.1 >/dev/null && echo ping-ok; dd if=/dev/zero bs=1k count=1024 2>/dev/null | nc 10.200.0.1 7777'
  assert_success
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line --regexp "^[0-9]+: eth0: <[^>]*UP[^>]*> mtu 1500 .*link/ether $mac "
  assert_line --regexp '^default via 10\.200\.0\.1 dev eth0'
  assert_line ping-ok
  assert_line 'got 1048576'
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "two links with MTU 1400, IPv6 and their routes; a link that is down is ignored" {
  veth 0 1400 10.200.0.2/24 10.200.0.1/24
  ip -n "$POD" addr add fd00:200::2/64 dev eth0 nodad
  ip -n "$GW" addr add fd00:200::1/64 dev gw0 nodad
  veth 1 1500 10.201.0.2/24 10.201.0.1/24
  ip -n "$POD" route add default via 10.200.0.1
  ip -n "$POD" route add 10.210.0.0/16 via 10.201.0.1
  ip -n "$POD" -6 route add default via fd00:200::1
  veth 2 1500 10.202.0.2/24 10.202.0.1/24
  ip -n "$POD" link set eth2 down
  local before
  before=$(pod_state)
  listen fd00:200::1 7778
  in_container 'ip -o link; ip -o addr; ip route; ip -6 route; ping -c 1 -W 5 10.201.0.1 >/dev/null && echo ping1-ok; echo hello-v6 | nc fd00:200::1 7778'
  assert_success
  assert_line --regexp '^[0-9]+: eth0: .* mtu 1400 '
  assert_line --regexp '^[0-9]+: eth1: .* mtu 1500 '
  refute_line --regexp '^[0-9]+: eth2'
  assert_line --regexp '^[0-9]+: eth0 +inet6 fd00:200::2/64 '
  assert_line --regexp '^10\.210\.0\.0/16 via 10\.201\.0\.1 dev eth1'
  assert_line --regexp '^default via fd00:200::1 dev eth0'
  assert_line ping1-ok
  assert_line 'got 9'
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "a configured link of a kind that cannot be mirrored is refused before the VM boots, naming it" {
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  ip -n "$POD" link add br0 type bridge
  ip -n "$POD" addr add 10.203.0.1/24 dev br0
  ip -n "$POD" link set br0 up
  local before
  before=$(pod_state)
  in_container 'true'
  assert_failure
  assert_output --partial 'network interface "br0" is of kind "bridge"'
  refute_output --partial 'guest'
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "a createRuntime hook that makes the veth: the NIC is hot-plugged after the hooks, before start" {
  local hook="ip -n $POD link add eth0 type veth peer name gw0 netns $GW && ip -n $GW link set gw0 up && ip -n $GW addr add 10.200.0.1/24 dev gw0 && ip -n $POD link set eth0 up && ip -n $POD addr add 10.200.0.2/24 dev eth0 && ip -n $POD route add default via 10.200.0.1"
  set_config "$BUNDLE" ".hooks.createRuntime = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", $(jq -R . <<<"$hook")]}]"
  in_container 'ip -o addr show eth0; ip route; ping -c 1 -W 5 10.200.0.1 >/dev/null && echo ping-ok'
  assert_success
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line --regexp '^default via 10\.200\.0\.1 dev eth0'
  assert_line ping-ok
  run tc -n "$POD" qdisc show
  refute_output --partial ingress
  run ip -n "$POD" link show tap0_vc
  assert_failure
  assert_no_leftovers
}

@test "state shows the interfaces; delete --force after QEMU was killed -9 removes the tap and the qdiscs" {
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  local before
  before=$(pod_state)
  set_args "$BUNDLE" sleep 600
  vcrun_bg create --bundle "$BUNDLE" c1
  run vcrun state c1
  assert_success
  [ "$(jq -r .vcrun.network.model <<<"$output")" = tcfilter ]
  [ "$(jq -r '.vcrun.network.interfaces[0].name' <<<"$output")" = eth0 ]
  [ "$(jq -r '.vcrun.network.interfaces[0].addresses[0]' <<<"$output")" = 10.200.0.2/24 ]
  [ "$(jq -r '.vcrun.network.interfaces[0].mac' <<<"$output")" = "$(mac_of eth0)" ]
  [ "$(jq -r '.vcrun.network.interfaces[0].host_device' <<<"$output")" = tap0_vc ]
  run tc -n "$POD" qdisc show dev eth0
  assert_output --partial 'qdisc ingress ffff:'
  local qemu
  qemu=$(jq -r .hypervisor.pid "$STATE_ROOT/c1/state.json")
  kill -9 "$qemu"
  run vcrun delete --force c1
  assert_success
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "macvtap: the guest reaches the peer; delete restores the link's MAC and ARP" {
  use_model macvtap
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  ip -n "$POD" route add default via 10.200.0.1
  local before
  before=$(pod_state)
  in_container 'ip -o addr show eth0; ping -c 1 -W 5 10.200.0.1 >/dev/null && echo ping-ok'
  assert_success
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line ping-ok
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "model none: the container sees only loopback, and nothing is made in the namespace" {
  use_model none
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  local before
  before=$(pod_state)
  in_container 'ip -o link'
  assert_success
  assert_line --regexp '^1: lo: '
  refute_line --regexp 'eth0'
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}

@test "a pod: a member given the sandbox's netns path shares eth0; they talk over 127.0.0.1 and eth0, and the peer reaches them" {
  veth 0 1500 10.200.0.2/24 10.200.0.1/24
  ip -n "$POD" route add default via 10.200.0.1
  local before
  before=$(pod_state)
  set_args "$BUNDLE" httpd -f -p 8080 -h /etc
  set_config "$BUNDLE" '.annotations = {"io.kubernetes.cri.container-type": "sandbox"}'
  vcrun_bg create --bundle "$BUNDLE" pod
  vcrun start pod
  local member=$BATS_TEST_TMPDIR/member
  cp -a "$BUNDLE" "$member"
  set_config "$member" '.annotations = {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "pod"}'
  set_args "$member" sh -c 'ip -o addr show eth0; wget -qO- http://127.0.0.1:8080/passwd; wget -qO- http://10.200.0.2:8080/group'
  run vcrun run --bundle "$member" m1 </dev/null
  assert_success
  assert_line --regexp '^[0-9]+: eth0 +inet 10\.200\.0\.2/24 '
  assert_line 'root:x:0:0:root:/root:/bin/sh'
  assert_line 'root:x:0:'
  run nsenter --net="/run/netns/$GW" busybox wget -qO- http://10.200.0.2:8080/passwd
  assert_success
  assert_output 'root:x:0:0:root:/root:/bin/sh'
  # The member is gone; the sandbox keeps the network until it goes too.
  run tc -n "$POD" qdisc show dev eth0
  assert_output --partial 'qdisc ingress ffff:'
  vcrun delete --force pod
  [ "$(pod_state)" = "$before" ] || fail "pod namespace changed: $before -> $(pod_state)"
  assert_no_leftovers
}
