#!/usr/bin/env bats
# Behaviours where vcrun once differed from runc 1.1.5 on the same bundle:
# device rules in the guest's cgroup, seccomp's ENOSYS for syscalls newer
# than the profile and startContainer hooks under the filter, the owner of a
# non-root process's terminal, exec into a container with a user namespace,
# and a read-only /dev.  Where runc is installed, each is run with runc too
# and the answers compared.

bats_require_minimum_version 1.5.0
load helpers

SYSCALL_ERRNO=${SYSCALL_ERRNO:-$SRCDIR/build/tools/syscall-errno}

teardown() {
  [ -n "${CONTAINER:-}" ] && vcrun delete --force "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "${RUNC_ROOT:-}" ]; then
    runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  fi
  [ -z "${RUNC_BUNDLE_DIR:-}" ] || rm -rf "$RUNC_BUNDLE_DIR"
  teardown_state_root
}

have_runc() {
  command -v runc >/dev/null || return 1
  RUNC_ROOT="$BATS_TEST_TMPDIR/runc"
}

# same_in_runc_run: `runc run` of $BUNDLE must print $output (vcrun's).
same_in_runc_run() {
  have_runc || return 0
  local ours=$output
  run runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" r1 </dev/null
  runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  [ "$output" = "$ours" ] || fail "runc gave:
$output
vcrun gave:
$ours"
}

# start_container ID: a running container of $BUNDLE.
start_container() {
  CONTAINER=$1
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" "$1"
  vcrun start "$1"
}

# /dev/kmsg in the container, which no default rule allows.
KMSG='.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
WRITE_KMSG='{ echo x > /dev/kmsg && echo kmsg written; } 2>&1; echo x > /dev/null && echo null written'

@test "linux.resources.devices: deny-all holds in the guest, runc's default devices stay allowed" {
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": false, "access": "rwm"}]'
  in_container "$WRITE_KMSG"
  assert_success
  assert_output "sh: can't create /dev/kmsg: Operation not permitted
null written"
  same_in_runc_run
  assert_no_leftovers
}

@test "linux.resources.devices: an allow rule grants just its access" {
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  # Written in the guest's kernel log only: not compared with runc, whose
  # write would reach the host's.
  in_container "$WRITE_KMSG; head -c 1 /dev/kmsg 2>&1 || true"
  assert_success
  assert_output "kmsg written
null written
head: /dev/kmsg: Operation not permitted"
}

@test "update: new linux.resources.devices replace the container's rules" {
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
  start_container dv3
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output "kmsg written
null written"
  echo '{"devices": [{"allow": false, "access": "rwm"}]}' > "$BATS_TEST_TMPDIR/r.json"
  run vcrun update -r "$BATS_TEST_TMPDIR/r.json" dv3
  assert_success
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output "sh: can't create /dev/kmsg: Operation not permitted
null written"
  # A rule update without devices leaves them as they are.
  run vcrun update --pids-limit 100 dv3
  assert_success
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output --partial "Operation not permitted"
  vcrun delete --force dv3
  assert_no_leftovers
}

@test "update: a device rule cgroup v1 could not apply is refused naming it" {
  start_container dv4
  echo '{"devices": [{"allow": true, "type": "q", "access": "rwm"}]}' > "$BATS_TEST_TMPDIR/r.json"
  run vcrun update -r "$BATS_TEST_TMPDIR/r.json" dv4
  assert_failure
  assert_output --partial 'linux.resources.devices[0].type: must be "a", "c" or "b"'
  vcrun delete --force dv4
  assert_no_leftovers
}
