#!/bin/sh
# Runs each libFuzzer target for a bounded time over its seed corpus
# (tests/fuzz/corpus/NAME, read only) and a scratch corpus in the build tree.
# Usage: run-fuzz.sh SECONDS TARGET...
seconds=$1
shift

# The longest input each target is given.  Without -max_len libFuzzer picks
# 4 KiB when the seeds are small (at most 1 MiB when they are not), so a
# reply nested a million levels deep, or a whole maximal frame, would never
# be tried.  Frames: one maximal frame (1 MiB + a 10-byte header) plus room
# for the cut offsets and a following frame.
max_len() {
  case $1 in
    fuzz_protocol|fuzz_frames) echo 1052682 ;;
    fuzz_oci_spec) echo 1048576 ;;        # config.json, deep nesting
    fuzz_qmp) echo 262144 ;;              # four maximal QMP lines
    fuzz_toml|fuzz_vhost_user) echo 65536 ;;
    fuzz_desc_walk) echo 32772 ;;         # 4 bytes + the fake guest RAM
    fuzz_hybrid_handshake) echo 256 ;;    # a few handshake lines
    *) echo 4096 ;;
  esac
}

passed=0; failed=0
for f in "$@"; do
  name=$(basename "$f")
  scratch=build/fuzz-corpus/$name
  mkdir -p "$scratch"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  len=$(max_len "$name")
  # -timeout: one slow input fails the run instead of outliving its budget.
  # Crash reproducers go to the build tree, not the current directory.
  if "$f" -max_total_time="$seconds" -max_len="$len" -timeout=10 \
       -artifact_prefix="build/fuzz/$name-" \
       -print_final_stats=1 "$scratch" $seeds > "build/fuzz/$name.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
    echo "fuzz: $name ran ${seconds}s (max_len $len), ${runs:-?} inputs, clean"
    passed=$((passed + 1))
  else
    echo "fuzz: $name FAILED; the end of its log:"
    tail -40 "build/fuzz/$name.log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
