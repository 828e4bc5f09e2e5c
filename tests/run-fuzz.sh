#!/bin/sh
# Runs each libFuzzer target for a bounded time over its seed corpus
# (tests/fuzz/corpus/NAME, read only) and a scratch corpus in the build tree.
seconds=$1
shift
passed=0; failed=0
for f in "$@"; do
  name=$(basename "$f")
  scratch=build/fuzz-corpus/$name
  mkdir -p "$scratch"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  if "$f" -max_total_time="$seconds" -print_final_stats=1 "$scratch" $seeds > "build/fuzz/$name.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
    echo "fuzz: $name ran ${seconds}s, ${runs:-?} inputs, clean"
    passed=$((passed + 1))
  else
    echo "fuzz: $name FAILED; the end of its log:"
    tail -40 "build/fuzz/$name.log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
