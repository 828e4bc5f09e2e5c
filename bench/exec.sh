#!/bin/sh
# Prints, side by side for vcrun, runc and crun (where it runs), the median
# of: `exec true` latency, stdout and stdin throughput through `exec` (dd
# bs=1M count=$BENCH_MIB in the container, stdout to the host / stdin from
# it), and the host memory (PSS) one idle container costs: for vcrun its
# QEMU, virtiofsd, vsock back-end and shim; for runc and crun the
# container's process.  Figures, not a test.
#   bench/exec.sh VCRUN CONFIG
set -eu
VCRUN=$1
export VCRUN_CONFIG="$2"
N=${BENCH_RUNS:-5}
MIB=${BENCH_MIB:-200}
dir=$(mktemp -d /tmp/vcrun-bench.XXXXXX)
root=$(mktemp -d /tmp/vcb.XXXXXX)
started=""
cleanup() {
  for r in $started; do
    "$r" --root "$root/$(basename "$r")" delete --force bench-idle >/dev/null 2>&1 || true
  done
  rm -rf "$dir" "$root"
}
trap cleanup EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/"
for a in true sleep dd cat sh; do ln -s busybox "$dir/rootfs/bin/$a"; done
(cd "$dir" && "$VCRUN" spec)
jq '.process.terminal = false | .process.args = ["/bin/sleep", "100000"]' \
  "$dir/config.json" > "$dir/c.json" && mv "$dir/c.json" "$dir/config.json"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
# pss PID...: the summed Pss of the processes and their children, in MiB.
pss() {
  for p in "$@"; do echo "$p"; pgrep -P "$p" || true; done | sort -u |
    while read -r p; do awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true; done |
    awk '{s += $1} END {printf "%.0f", s / 1024}'
}

# Each runtime gets one idle container; the runs alternate between them,
# so that the load of a shared machine falls on all alike.
runtimes="$VCRUN"
command -v runc >/dev/null && runtimes="$runtimes $(command -v runc)"
command -v crun >/dev/null && runtimes="$runtimes $(command -v crun)"
ok=""
for r in $runtimes; do
  mkdir -p "$root/$(basename "$r")"
  if "$r" --root "$root/$(basename "$r")" run -d --bundle "$dir" bench-idle </dev/null >/dev/null 2>&1; then
    ok="$ok $r"
    started="$started $r"
  fi
done
x() { r=$1; shift; "$r" --root "$root/$(basename "$r")" "$@"; }

for r in $ok; do
  for f in true out in; do : > "$dir/$(basename "$r").$f"; done
done
i=0
while [ $i -lt "$N" ]; do
  for r in $ok; do
    b=$(basename "$r")
    s=$(now_ms); x "$r" exec bench-idle true; e=$(now_ms)
    echo $((e - s)) >> "$dir/$b.true"
  done
  for r in $ok; do
    b=$(basename "$r")
    s=$(now_ms)
    x "$r" exec bench-idle dd if=/dev/zero bs=1M count="$MIB" 2>/dev/null | cat > /dev/null
    e=$(now_ms)
    echo $((MIB * 1000 / (e - s + 1))) >> "$dir/$b.out"
    s=$(now_ms)
    head -c $((MIB * 1048576)) /dev/zero | x "$r" exec bench-idle dd of=/dev/null bs=1M 2>/dev/null
    e=$(now_ms)
    echo $((MIB * 1000 / (e - s + 1))) >> "$dir/$b.in"
  done
  i=$((i + 1))
done

idle_pss() { # runtime: the PSS of its idle container
  b=$(basename "$1")
  if [ "$1" = "$VCRUN" ]; then
    st="$root/$b/bench-idle/state.json"
    # shellcheck disable=SC2046
    pss $(jq -r '[.hypervisor.pid, .devices[].daemon_pid, .containers[].process.pid] | .[]' "$st")
  else
    pss "$(x "$1" state bench-idle | jq -r .pid)"
  fi
}

printf '%-40s' "median of $N (dd of $MIB MiB)"
for r in $ok; do printf ' %12s' "$(basename "$r")"; done
echo
printf '%-40s' "exec true (ms)"
for r in $ok; do printf ' %12s' "$(median < "$dir/$(basename "$r").true")"; done
echo
printf '%-40s' "exec stdout, guest -> host (MiB/s)"
for r in $ok; do printf ' %12s' "$(median < "$dir/$(basename "$r").out")"; done
echo
printf '%-40s' "exec stdin, host -> guest (MiB/s)"
for r in $ok; do printf ' %12s' "$(median < "$dir/$(basename "$r").in")"; done
echo
printf '%-40s' "host PSS of an idle container (MiB)"
for r in $ok; do printf ' %12s' "$(idle_pss "$r")"; done
echo
case " $ok " in *" $(command -v crun 2>/dev/null || echo none) "*) ;; *)
  command -v crun >/dev/null && echo "(crun: run -d failed here, e.g. it refuses hybrid cgroups)";;
esac
