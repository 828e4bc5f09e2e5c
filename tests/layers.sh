#!/bin/sh
# Checks the include rules of docs/architecture.md ("which file may include
# which"), so that the layers stay what the tree says they are.  Prints each
# breach as file:line and fails if there is one.
set -u
cd "$(dirname "$0")/.."
breaches=0

# check DIR ALLOWED-PREFIXES...: every project include ("a/b.h") of a file
# directly in DIR must start with one of the prefixes.
check() {
  dir=$1
  shift
  for f in "$dir"/*.c "$dir"/*.h; do
    [ -e "$f" ] || continue
    grep -n '^#include "' "$f" | while IFS= read -r line; do
      inc=${line#*\"}
      inc=${inc%%\"*}
      ok=0
      for p in "$@"; do
        case "$inc" in "$p"*) ok=1 ;; esac
      done
      [ $ok = 1 ] || echo "$f:${line%%:*}: includes \"$inc\" (allowed: $*)"
    done
  done
}

out=$( {
  check lib/base lib/base/
  check lib/host lib/base/ lib/host/
  check oci lib/base/ lib/host/ oci/
  check vmm lib/base/ lib/host/ vmm/
  check lib lib/ oci/ vmm/
  check agent agent/ lib/base/ oci/
  check cmd cmd/ lib/ oci/ vmm/
} )
if [ -n "$out" ]; then
  echo "$out"
  breaches=$(printf '%s\n' "$out" | wc -l)
fi
echo "layers: $breaches breach(es) of docs/architecture.md's include rules"
[ "$breaches" -eq 0 ]
