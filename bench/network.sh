#!/bin/sh
# The pod network's figures, not a test: TCP throughput between a container
# and a peer network namespace (a veth pair made here, addresses in 10.x
# only) under vcrun and runc on the same bundle and set-up, and what a NIC
# adds to `create` (cold: on QEMU's command line; hot: plugged after a
# createRuntime hook).  runsc is compared when installed (it is not
# packaged in Debian).
# usage: bench/network.sh VCRUN CONFIG   (root; BENCH_RUNS, BENCH_MB)
set -eu
VCRUN=$1
CONFIG=$2
N=${BENCH_RUNS:-5}
MB=${BENCH_MB:-16}
POD=vcb-pod$$
GW=vcb-gw$$
dir=$(mktemp -d /tmp/vcrun-nbench.XXXXXX)
root=$(mktemp -d /tmp/vcn.XXXXXX)
cleanup() {
  for id in $("$VCRUN" --root "$root" list -q 2>/dev/null); do
    "$VCRUN" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
  runc --root "$root.runc" delete --force nb-runc >/dev/null 2>&1 || true
  ip netns del "$POD" 2>/dev/null || true
  ip netns del "$GW" 2>/dev/null || true
  rm -rf "$dir" "$root" "$root.runc" "$root.toml" "$root.run"
}
trap cleanup EXIT
sed -e "s|^run_root = .*|run_root = \"$root.run\"|" "$CONFIG" > "$root.toml"
export VCRUN_CONFIG="$root.toml"

ip netns add "$POD"
ip netns add "$GW"
ip -n "$POD" link set lo up
ip -n "$POD" link add eth0 type veth peer name gw0 netns "$GW"
ip -n "$GW" link set gw0 up
ip -n "$GW" addr add 10.200.0.1/24 dev gw0
ip -n "$POD" link set eth0 up
ip -n "$POD" addr add 10.200.0.2/24 dev eth0
ip -n "$POD" route add default via 10.200.0.1

mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/"
for a in sh dd nc sleep true; do ln -s busybox "$dir/rootfs/bin/$a"; done
(cd "$dir" && "$VCRUN" spec)
jq --arg ns "/run/netns/$POD" '.process.terminal = false
  | .linux.namespaces |= map(if .type == "network" then .path = $ns else . end)' \
  "$dir/config.json" > "$dir/net.json"

args() { # JSON-ARRAY [EXTRA-JQ]
  jq ".process.args = $1 ${2:+| $2}" "$dir/net.json" > "$dir/config.json"
}

# serve MODE PORT: one connection in the peer namespace; "recv" counts what
# arrives until EOF, "send" sends BENCH_MB MiB and closes; prints MiB/s from
# the connection's accept to its end.
serve() {
  nsenter --net="/run/netns/$GW" /usr/bin/python3 -c '
import socket, sys, time
mode, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.200.0.1", port)); s.listen(1); s.settimeout(300)
c, _ = s.accept(); t0 = time.monotonic(); n = 0
if mode == "recv":
    while True:
        b = c.recv(1 << 16)
        if not b: break
        n += len(b)
else:
    chunk = b"\0" * (1 << 16)
    for _ in range(mb * 16): c.sendall(chunk)
    n = mb << 20
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16): pass
dt = time.monotonic() - t0
print("%.1f" % (n / dt / (1 << 20)))' "$1" "$2" "$MB" > "$dir/rate" &
  SERVER=$!
  sleep 0.3
}

# throughput RUNTIME-COMMAND LABEL: container -> peer, then peer -> container.
throughput() {
  serve recv 7001
  args "[\"sh\", \"-c\", \"dd if=/dev/zero bs=64k count=$((MB * 16)) 2>/dev/null | nc 10.200.0.1 7001\"]"
  $1 run --bundle "$dir" nb-up >/dev/null 2>&1 </dev/null || echo "bench: $2 upload failed" >&2
  wait "$SERVER" || true
  up=$(cat "$dir/rate")
  serve send 7002
  args '["sh", "-c", "nc 10.200.0.1 7002 > /dev/null"]'
  $1 run --bundle "$dir" nb-down >/dev/null 2>&1 </dev/null || echo "bench: $2 download failed" >&2
  wait "$SERVER" || true
  down=$(cat "$dir/rate")
  printf '%-40s %10s %10s\n' "$2" "${up:-n/a}" "${down:-n/a}"
}

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# create_ms LABEL MODEL [JQ]: median wall time of `vcrun create` (the VM
# booted, the container created, the NIC configured) with [network] model,
# and the medians of the parts --debug reports: boot to agent, the attach
# (tap, qdiscs, filters), the hot-plug, UpdateNetwork (modules, NIC found by
# MAC, addresses, routes).  Boots under TCG on a busy host vary by seconds:
# the parts say what a NIC costs.
create_ms() {
  sed -i -e "s/^model = .*/model = \"$2\"/" "$VCRUN_CONFIG"
  args '["sleep", "600"]' "${3:-}"
  : > "$dir/debug"
  i=0
  while [ $i -lt "$N" ]; do
    s=$(now_ms)
    "$VCRUN" --root "$root" --debug create --bundle "$dir" "nb-c$i" </dev/null \
      >/dev/null 2>>"$dir/debug" || echo "bench: create ($1) failed" >&2
    e=$(now_ms)
    "$VCRUN" --root "$root" delete --force "nb-c$i" >/dev/null 2>&1
    echo $((e - s))
    i=$((i + 1))
  done | median > "$dir/total"
  part() {
    sed -n "s/.*debug: $1.* \([0-9]*\) ms$/\1/p" "$dir/debug" | median |
      { read -r m || true; echo "${m:--}"; }
  }
  printf '%-40s %8s %8s %8s %8s %8s\n' "$1" "$(cat "$dir/total")" "$(part boot-to-agent)" \
    "$(part 'network attach')" "$(part 'NIC hot-plug')" "$(part UpdateNetwork)"
}

echo "TCP through a veth to a peer namespace, $MB MiB each way (MiB/s)"
printf '%-40s %10s %10s\n' "runtime" "to peer" "from peer"
throughput "$VCRUN --root $root" "vcrun (tcfilter, TCG guest)"
sed -i -e 's/^model = .*/model = "macvtap"/' "$VCRUN_CONFIG"
throughput "$VCRUN --root $root" "vcrun (macvtap, TCG guest)"
sed -i -e 's/^model = .*/model = "tcfilter"/' "$VCRUN_CONFIG"
if command -v runc >/dev/null; then
  throughput "runc --root $root.runc" "runc"
fi
if command -v runsc >/dev/null; then
  throughput "runsc --network=sandbox --root $root.runsc" "runsc (--network=sandbox)"
else
  echo "runsc: not installed (not packaged in Debian)"
fi

echo
echo "vcrun create with the pod's netns, median ms (of $N)"
printf '%-40s %8s %8s %8s %8s %8s\n' "" create boot attach hotplug UpdateNet
HOOK='.hooks.createRuntime = [{"path": "/bin/true"}]'
create_ms "no NIC (model none)" none
create_ms "no NIC (model none), a createRuntime hook" none "$HOOK"
create_ms "NIC cold (tcfilter, no hook)" tcfilter
create_ms "NIC hot-plugged after a hook (tcfilter)" tcfilter "$HOOK"
