#!/bin/sh
# Prints the median wall time of `run /bin/true` under vcrun and runc on the
# same bundle, and the VM's boot-to-agent time.  Figures, not a test.
set -eu
VCRUN=$1
export VCRUN_CONFIG=$2
N=${BENCH_RUNS:-5}
dir=$(mktemp -d /tmp/vcrun-bench.XXXXXX)
root=$(mktemp -d /tmp/vcb.XXXXXX)
trap 'rm -rf "$dir" "$root"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/" && ln -s busybox "$dir/rootfs/bin/true"
(cd "$dir" && "$VCRUN" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$dir/config.json" > "$dir/c.json" && mv "$dir/c.json" "$dir/config.json"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

time_runs() { # runtime-binary label
  i=0
  while [ $i -lt "$N" ]; do
    s=$(now_ms)
    "$1" --root "$root" run --bundle "$dir" "bench-$i" >/dev/null 2>&1 || echo "bench: $2 run failed" >&2
    e=$(now_ms)
    echo $((e - s))
    i=$((i + 1))
  done | median
}

printf '%-34s %s\n' "what" "median ms (of $N)"
printf '%-34s %s\n' "vcrun run /bin/true (VM)" "$(time_runs "$VCRUN" vcrun)"
if command -v runc >/dev/null; then
  printf '%-34s %s\n' "runc run /bin/true" "$(time_runs runc runc)"
fi
if command -v crun >/dev/null; then
  crun_ms=$(time_runs crun crun 2>/dev/null)
  printf '%-34s %s\n' "crun run /bin/true" "$crun_ms (crun refuses hybrid cgroups here)"
fi
# Boot-to-agent: the guest's uptime when the agent first answered is in the
# console log only with debug; measure it from outside instead: the time
# from QEMU's start to the agent's Hello is what vcrun waits for.
i=0
while [ $i -lt "$N" ]; do
  VCRUN_BENCH_BOOT=1 "$VCRUN" --root "$root" --debug run --bundle "$dir" "boot-$i" 2>&1 >/dev/null | sed -n 's/.*boot-to-agent \([0-9]*\) ms.*/\1/p'
  i=$((i + 1))
done | median | { read -r m; printf '%-34s %s\n' "VM boot to agent answer" "${m:-n/a}"; }

# A pod member: `run /bin/true` in a running sandbox's VM (annotations as
# containerd's CRI writes them), against booting a VM for it.
cp "$dir/config.json" "$dir/plain.json"
jq '.process.args = ["/bin/busybox", "sleep", "600"] | .annotations = {"io.kubernetes.cri.container-type": "sandbox"}' \
  "$dir/plain.json" > "$dir/config.json"
"$VCRUN" --root "$root" create --bundle "$dir" bench-pod </dev/null >/dev/null 2>&1
"$VCRUN" --root "$root" start bench-pod
jq '.annotations = {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "bench-pod"}' \
  "$dir/plain.json" > "$dir/config.json"
printf '%-34s %s
' "vcrun run /bin/true (pod member)" "$(time_runs "$VCRUN" vcrun)"
"$VCRUN" --root "$root" delete --force bench-pod
mv "$dir/plain.json" "$dir/config.json"

# exec latency, stdio throughput through exec, idle host memory.
echo
"$(dirname "$0")/exec.sh" "$VCRUN" "$VCRUN_CONFIG"
# The VM factory: cold boot against a claim from the pool, idle PSS.
echo
"$(dirname "$0")/factory.sh" "$VCRUN" "$VCRUN_CONFIG"

# The vsock path against a virtio-serial port on the same (test) VM.
echo
"$(dirname "$0")/vsock-bench" | sed -n '/^vsock, /p; /^$/p; /^transport/,/^(/p'
