#!/bin/sh
# Runs the bats suites (TAP) and ends with one total line and the time.
# BATS_TAP: where the TAP output goes (build/bats.tap).
out=${BATS_TAP:-build/bats.tap}
mkdir -p "$(dirname "$out")"
start=$(date +%s)
bats --tap "$@" | tee "$out"
status=$?
# tee hides bats' status in plain sh: judge by the TAP lines as well.
passed=$(grep -c '^ok ' "$out")
failed=$(grep -c '^not ok ' "$out")
skipped=$(grep -c '^ok .* # skip' "$out")
echo "bats: $passed passed ($skipped of them skipped), $failed failed in $(($(date +%s) - start)) s${VCRUN_TEST_FACTORY:+ (VCRUN_TEST_FACTORY=$VCRUN_TEST_FACTORY)}"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ $status -eq 0 ]
