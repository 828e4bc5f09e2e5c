#!/bin/sh
# The VM factory's figures: `run /bin/true` with a VM booted for it against
# one claimed from the pool, and the host memory (PSS) of an idle pooled VM
# with its helpers.  Figures, not a test.  Usage: factory.sh VCRUN CONFIG
set -eu
VCRUN=$1
N=${BENCH_RUNS:-5}
POOL=${BENCH_POOL:-2}
dir=$(mktemp -d /tmp/vcrun-fbench.XXXXXX)
root=$(mktemp -d /tmp/vcf.XXXXXX)
# A private run root (and so pool), with [factory] enabled.
sed -e "s|^run_root = .*|run_root = \"$root.run\"|" -e 's/^enable = false/enable = true/' \
  -e "s/^pool_size = .*/pool_size = $POOL/" "$2" > "$root.toml"
export VCRUN_CONFIG="$root.toml"
cleanup() {
  "$VCRUN" factory destroy >/dev/null 2>&1 || true
  [ -z "${BENCH_KEEP_TIMES:-}" ] || cat "$root.times" >&2
  rm -rf "$dir" "$root" "$root.run" "$root.toml" "$root.times"
}
trap cleanup EXIT
: > "$root.times"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/" && ln -s busybox "$dir/rootfs/bin/true"
(cd "$dir" && "$VCRUN" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$dir/config.json" > "$dir/c.json" && mv "$dir/c.json" "$dir/config.json"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ready() { "$VCRUN" factory status | awk '$1 == "ready:" {print $2}'; }
wait_full() { # the pool refilled, so that no boot competes with the run
  w=0
  while [ "$(ready)" -lt "$POOL" ] && [ $w -lt 600 ]; do sleep 0.1; w=$((w + 1)); done
  sleep 1
}

runs() { # label
  i=0
  while [ $i -lt "$N" ]; do
    [ "$1" = pool ] && wait_full
    s=$(now_ms)
    "$VCRUN" --root "$root" run --bundle "$dir" "f-$1-$i" >/dev/null 2>&1 || echo "bench: $1 run failed" >&2
    e=$(now_ms)
    echo $((e - s))
    i=$((i + 1))
  done | tee -a "$root.times" | median
}

# PSS (KiB) of every process whose command line names dir/.
pss_of() {
  total=0
  for p in $(ps -eo pid=,args= | grep -F "$1/" | grep -v grep | awk '{print $1}'); do
    kb=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

printf '%-40s %s\n' "vcrun run /bin/true, cold boot" "$(runs cold) ms (median of $N)"
"$VCRUN" factory init >/dev/null
printf '%-40s %s\n' "vcrun run /bin/true, from the pool" "$(runs pool) ms (median of $N, pool of $POOL refilled between runs)"
wait_full
sleep 5 # idle
sum=0; n=0
for vm in $("$VCRUN" factory status | awk '$1 == "vm" && $3 == "ready" {print $2}'); do
  sum=$((sum + $(pss_of "$root.run/$vm"))); n=$((n + 1))
done
printf '%-40s %s\n' "host PSS per idle pooled VM" "$((sum / n / 1024)) MiB (QEMU + virtiofsd + vsock backend, mean of $n)"
