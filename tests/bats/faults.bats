#!/usr/bin/env bats
# Fault injection on the host side: kill -9 of `vcrun create` at several
# points, a virtiofsd that dies while the VM boots, a killed shim, a
# state.json cut short, a config.json too large for one agent message, and
# a guest that floods its serial console.  Each must end in bounded time and
# leave nothing that `delete --force` cannot remove.

bats_require_minimum_version 1.5.0
load helpers

SLEEPER='trap "exit 0" TERM; while true; do sleep 0.1; done'

# wait_for CMD...: polls CMD (up to 60 s, boots are slow under TCG).
wait_for() {
  local i
  for i in $(seq 1 600); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

has_run_dir() { [ -L "$STATE_ROOT/$1/run" ]; }
has_qemu() { pgrep -f "qemu-system.*$STATE_ROOT.run/" >/dev/null; }
has_virtiofsd() { pgrep -f "virtiofsd.*$STATE_ROOT.run/" >/dev/null; }
has_shim() { pgrep -f "shim .*--state-dir $STATE_ROOT/$1 " >/dev/null; }

# kill_create_when ID PROBE: starts `vcrun create ID`, kill -9s it as soon
# as PROBE ID holds, then checks that delete --force leaves nothing and
# that the id can be created again.
kill_create_when() {
  local id=$1 probe=$2
  set_args "$BUNDLE" sh -c "$SLEEPER"
  "$VCRUN" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" \
    </dev/null >/dev/null 2>&1 &
  local create=$!
  if ! wait_for "$probe" "$id"; then
    kill -9 "$create" 2>/dev/null || true
    fail "$probe never held during create"
  fi
  # (create may just have finished when the probe is the shim)
  kill -9 "$create" 2>/dev/null || true
  wait "$create" 2>/dev/null || true
  run vcrun delete --force "$id"
  assert_success
  assert_no_leftovers
  # The id is free again.
  vcrun_bg create --bundle "$BUNDLE" "$id"
  vcrun delete --force "$id"
  assert_no_leftovers
}

@test "kill -9 of create once the run directory exists: delete --force recovers" {
  kill_create_when f1 has_run_dir
}

@test "kill -9 of create once QEMU runs: delete --force recovers" {
  kill_create_when f2 has_qemu
}

@test "kill -9 of create once the shim runs: delete --force recovers" {
  kill_create_when f3 has_shim
}

@test "virtiofsd killed while the VM boots: create fails in bounded time" {
  # A boot is what this test disturbs (bats-factory: no pool).
  stop_test_factory
  # Short timeouts, so that a wait that honours them ends well within the
  # bound below (a wait that does not would block forever).
  sed -i -e 's/^boot_timeout = .*/boot_timeout = 20/' \
    -e 's/^request_timeout = .*/request_timeout = 5/' "$VCRUN_CONFIG"
  set_args "$BUNDLE" sh -c "$SLEEPER"
  "$VCRUN" --root "$STATE_ROOT" create --bundle "$BUNDLE" f4 \
    </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local create=$!
  wait_for has_virtiofsd f4 || fail "virtiofsd never ran"
  pkill -9 -f "virtiofsd.*$STATE_ROOT.run/"
  local i status=
  for i in $(seq 1 600); do
    if ! kill -0 "$create" 2>/dev/null; then
      wait "$create" && status=0 || status=$?
      break
    fi
    sleep 0.1
  done
  if [ -z "$status" ]; then
    kill -9 "$create"
    fail "create still blocked 60 s after virtiofsd died"
  fi
  [ "$status" -ne 0 ] || fail "create succeeded without virtiofsd: $(cat "$BATS_TEST_TMPDIR/out")"
  run vcrun delete --force f4
  assert_success
  assert_no_leftovers
}

@test "kill -9 of the shim ends the container: state never says running with pid 0" {
  # A process that counts in a file the host reads through virtio-fs.
  set_config "$BUNDLE" '.root.readonly = false'
  set_args "$BUNDLE" sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.1; done'
  vcrun_bg run -d --bundle "$BUNDLE" f5
  wait_for test -s "$BUNDLE/rootfs/tmp/n"
  local shim
  shim=$(vcrun state f5 | jq -r .pid)
  [ "$shim" -gt 0 ]
  kill -9 "$shim"
  local i state=
  for i in $(seq 1 200); do
    state=$(vcrun state f5 | jq -c '{status, pid}')
    case $state in
    '{"status":"stopped","pid":0}') break ;;
    *'"pid":0}') fail "state says $state" ;;
    esac
    sleep 0.1
  done
  [ "$state" = '{"status":"stopped","pid":0}' ] || fail "state still $state"
  # The process really is gone from the guest, not just unseen: it counts
  # no more (the VM itself still runs until delete).
  sleep 1
  local count
  count=$(cat "$BUNDLE/rootfs/tmp/n")
  sleep 1
  [ "$(cat "$BUNDLE/rootfs/tmp/n")" = "$count" ] || fail "the process still runs"
  has_qemu
  vcrun delete --force f5
  assert_no_leftovers
}

@test "run in the foreground: state reports its pid while it runs; kill -9 of it ends the container" {
  set_args "$BUNDLE" sh -c "$SLEEPER"
  "$VCRUN" --root "$STATE_ROOT" run --bundle "$BUNDLE" f10 </dev/null >/dev/null 2>&1 &
  local run_pid=$!
  wait_for eval '[ "$(vcrun state f10 2>/dev/null | jq -r .status)" = running ]' ||
    fail "never running"
  [ "$(vcrun state f10 | jq -r .pid)" = "$run_pid" ]
  run vcrun ps --format json f10
  assert_output "[$run_pid]"
  kill -9 "$run_pid"
  wait "$run_pid" 2>/dev/null || true
  wait_for_stopped f10
  [ "$(vcrun state f10 | jq -r .pid)" = 0 ]
  vcrun delete --force f10
  assert_no_leftovers
}

# The same for a created (not started) container.
@test "kill -9 of a created container's shim ends it" {
  set_args "$BUNDLE" sh -c "$SLEEPER"
  vcrun_bg create --bundle "$BUNDLE" f6
  kill -9 "$(vcrun state f6 | jq -r .pid)"
  wait_for_stopped f6
  vcrun delete f6
  assert_no_leftovers
}

@test "an empty or truncated state.json: delete --force removes everything" {
  set_args "$BUNDLE" sh -c "$SLEEPER"
  vcrun_bg run -d --bundle "$BUNDLE" f7
  : > "$STATE_ROOT/f7/state.json"
  run vcrun delete --force f7
  assert_success
  assert_no_leftovers
  vcrun_bg run -d --bundle "$BUNDLE" f7
  truncate -s 100 "$STATE_ROOT/f7/state.json"
  run vcrun state f7
  assert_failure
  run vcrun delete --force f7
  assert_success
  assert_no_leftovers
}

# annotate BYTES: config.json gets an annotation of BYTES characters.
annotate() {
  head -c "$1" /dev/zero | tr '\0' a > "$BATS_TEST_TMPDIR/big"
  jq --rawfile big "$BATS_TEST_TMPDIR/big" '.annotations.big = $big' \
    "$BUNDLE/config.json" > "$BATS_TEST_TMPDIR/config.json"
  mv "$BATS_TEST_TMPDIR/config.json" "$BUNDLE/config.json"
}

@test "a config.json with a 1 MB annotation runs; one too large for the agent is refused before boot" {
  set_args "$BUNDLE" echo hello
  annotate 1100000
  run vcrun run --bundle "$BUNDLE" f8 </dev/null
  assert_success
  assert_output hello
  assert_no_leftovers
  annotate 5000000
  run vcrun run --bundle "$BUNDLE" f8 </dev/null
  assert_failure
  assert_output --partial "$BUNDLE/config.json: "
  assert_output --partial "the agent protocol carries in one message"
  # Refused before anything started: no VM was booted.
  refute_output --partial "console"
  [ ! -e "$STATE_ROOT/f8" ]
  assert_no_leftovers
}

@test "a guest flooding its serial console: console.log stays bounded and keeps the newest output" {
  # The container is given the guest's serial port, as a hostile guest
  # kernel would write to it.
  set_config "$BUNDLE" '.linux.devices = [{"path": "/dev/ttyS0", "type": "c", "major": 4, "minor": 64}]
    | .linux.resources.devices = [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 4, "minor": 64, "access": "rw"}]'
  set_args "$BUNDLE" sh -c 'stty -F /dev/ttyS0 raw 2>/dev/null; head -c 2500000 /dev/zero | tr "\0" x > /dev/ttyS0; echo the-newest-line > /dev/ttyS0; echo done'
  vcrun_bg run -d --bundle "$BUNDLE" f9
  local log
  log=$(run_dir_of f9)/console.log
  wait_for_stopped f9
  wait_for grep -q the-newest-line "$log" || fail "the newest output is not in console.log"
  local size
  size=$(stat -c %s "$log")
  [ "$size" -le 1048576 ] || fail "console.log has $size bytes"
  vcrun delete f9
  assert_no_leftovers
}
