#!/usr/bin/env bats
# Command lines as containerd's runc shim and podman's conmon issue them
# (docs in /work/shared/DESIGN.md section 2), reproduced without an engine.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_bundle
  set_args "$BUNDLE" sleep 300
}

# conmon runs the cleanup with almost no environment: no PATH, no HOME.
@test "delete --force with an empty environment removes a created container" {
  run vcrun_bg create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" er1
  assert_success
  run env -i VCRUN_CONFIG="$VCRUN_CONFIG" "$VCRUN" --root "$STATE_ROOT" delete --force er1
  assert_success
  assert_no_leftovers
}

@test "delete --force of an unknown id exits 0 with an empty environment" {
  run env -i VCRUN_CONFIG="$VCRUN_CONFIG" "$VCRUN" --root "$STATE_ROOT" delete --force nosuch
  assert_success
}

# conmon writes --flag=value; errors must reach the --log file as JSON lines.
@test "--log=FILE --log-format=json: an error is a JSON line in the log" {
  run vcrun --log-format=json --log="$BATS_TEST_TMPDIR/log" state nosuch
  assert_failure
  run jq -r 'select(.level == "error") | .msg' "$BATS_TEST_TMPDIR/log"
  assert_success
  assert_output --partial nosuch
}
