#!/bin/sh
# The VM factory's figures: `run /bin/true` with a VM booted for it, one
# claimed from a pool of booted VMs, one claimed from a pool of template
# clones, and a clone restored by create itself (no pool); the host memory
# (PSS) of an idle pooled VM with its helpers, booted and cloned.  Figures,
# not a test.  Usage: factory.sh VCRUN CONFIG
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
: > "$root.times"
cleanup() {
  "$VCRUN" factory destroy >/dev/null 2>&1 || true
  [ -z "${BENCH_KEEP_TIMES:-}" ] || cat "$root.times" >&2
  rm -rf "$dir" "$root" "$root.run" "$root.toml" "$root.times" "$root.err"
}
trap cleanup EXIT
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

runs() { # label [pool]
  i=0
  while [ $i -lt "$N" ]; do
    [ "${2:-}" = pool ] && wait_full
    s=$(now_ms)
    "$VCRUN" --root "$root" run --bundle "$dir" "f-$1-$i" >/dev/null 2>"$root.err" ||
      echo "bench: $1 run failed: $(tail -c 600 "$root.err")" >&2
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

# KiB of a clone's (unlinked) RAM file that no process maps: tmpfs pages
# the copy made and the guest has not touched since, which PSS misses.
unmapped_ram() { # qemu-pid
  fd=$(ls -l "/proc/$1/fd" 2>/dev/null | awk '/\.ram \(deleted\)/ {print $9}' | head -1)
  [ -n "$fd" ] || { echo 0; return; }
  allocated=$(( $(stat -L -c %b "/proc/$1/fd/$fd") / 2 ))
  mapped=$(awk '/\.ram \(deleted\)/ {m=1; next} /^[0-9a-f]+-/ {m=0} m && /^Rss:/ {s+=$2} END {print s+0}' "/proc/$1/smaps")
  echo $((allocated > mapped ? allocated - mapped : 0))
}

idle_pss() { # mean MiB of the ready VMs, after a few idle seconds
  wait_full
  sleep 5
  sum=0; n=0; extra=0
  for vm in $("$VCRUN" factory status | awk '$1 == "vm" && $3 == "ready" {print $2, $7}' | tr ' ' ':'); do
    sum=$((sum + $(pss_of "$root.run/${vm%%:*}"))); n=$((n + 1))
    extra=$((extra + $(unmapped_ram "${vm##*:}")))
  done
  echo "$(((sum + extra) / n / 1024)) MiB (PSS $((sum / n / 1024)) + unmapped RAM file $((extra / n / 1024)); mean of $n)"
}

row() { printf '%-46s %s\n' "$1" "$2"; }

row "run /bin/true, cold boot" "$(runs cold) ms"
"$VCRUN" factory init >/dev/null
row "run /bin/true, from a pool of booted VMs" "$(runs pool pool) ms"
row "host PSS per idle booted VM (with helpers)" "$(idle_pss)"
"$VCRUN" factory destroy >/dev/null
sed -i 's/^template = false/template = true/' "$root.toml"
s=$(now_ms)
"$VCRUN" factory init >/dev/null
e=$(now_ms)
row "factory init: template + $POOL clones" "$((e - s)) ms"
row "run /bin/true, from a pool of template clones" "$(runs clone pool) ms"
row "host PSS per idle template clone (with helpers)" "$(idle_pss)"
# No ready VM: kill the pooled clones (a dead one is discarded, and no
# refill starts without a claim), so each create restores a clone itself.
for q in $("$VCRUN" factory status | awk '$1 == "vm" {print $7}'); do kill -9 "$q"; done
row "run /bin/true, restoring a clone (no pool)" "$(runs restore) ms"
echo "(medians of $N; pools of $POOL refilled before each pooled run)"
