#!/usr/bin/env bats
# Terminals: process.terminal in the foreground, --console-socket for create
# and exec --detach (the engines' way), window sizes, and runc's errors for
# the combinations that cannot work.

bats_require_minimum_version 1.5.0
load helpers

RECVTTY=${RECVTTY:-$SRCDIR/build/tools/recvtty}

setup() {
  setup_bundle
  SOCK="$STATE_ROOT/console.sock"
}

teardown() {
  [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null || true
  teardown_state_root
}

# start_recvtty ARGS...: the engine's end of the console socket, in the
# background, its terminal output in $BATS_TEST_TMPDIR/tty.out.
start_recvtty() {
  "$RECVTTY" "$@" "$SOCK" >"$BATS_TEST_TMPDIR/tty.out" 2>&1 &
  RECV_PID=$!
  local i
  for i in $(seq 1 50); do
    [ -S "$SOCK" ] && return 0
    sleep 0.1
  done
  fail "recvtty never listened on $SOCK"
}

# wait_recvtty: recvtty ends when the terminal hangs up (the process exited).
wait_recvtty() {
  local i
  for i in $(seq 1 300); do
    kill -0 "$RECV_PID" 2>/dev/null || { wait "$RECV_PID"; return; }
    sleep 0.1
  done
  fail "the terminal never hung up: $(cat "$BATS_TEST_TMPDIR/tty.out")"
}

@test "run with process.terminal: the process has a pty, output has CRLF, status kept" {
  set_config "$BUNDLE" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
  set_args "$BUNDLE" sh -c 'tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; exit 5'
  run vcrun run --bundle "$BUNDLE" t1 </dev/null
  assert_failure 5
  # The guest's line discipline turns \n into \r\n.
  [[ "$output" == *$'/dev/pts/0\r'* ]]
  [[ "$output" == *$'33 77\r'* ]]
  [[ "$output" == *$'all-tty\r'* ]]
  assert_no_leftovers
}

@test "create --console-socket: the engine gets the pty; size, resize and input reach the process" {
  set_config "$BUNDLE" '.process.terminal = true'
  set_args "$BUNDLE" sh -c 'tty; stty size; echo RESIZE-ME; i=0; while [ "$(stty size)" != "50 120" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size; read -r line; echo "got:$line"; exit 3'
  start_recvtty --size 30x90 --input $'typed\r' --resize-on RESIZE-ME 50x120
  run vcrun_bg create --bundle "$BUNDLE" --console-socket "$SOCK" --pid-file "$BATS_TEST_TMPDIR/pid" t2
  assert_success
  grep -q -- --tty "/proc/$(cat "$BATS_TEST_TMPDIR/pid")/cmdline"
  run vcrun start t2
  assert_success
  wait_recvtty
  run cat "$BATS_TEST_TMPDIR/tty.out"
  assert_line --partial '/dev/pts/0'
  assert_line --partial '30 90'
  assert_line --partial '50 120'
  assert_line --partial 'got:typed'
  local i
  for i in $(seq 1 50); do
    [ "$(vcrun state t2 | jq -r .status)" = stopped ] && break
    sleep 0.1
  done
  run vcrun delete t2
  assert_success
  assert_no_leftovers
}

@test "exec --tty in the foreground and exec --detach --tty --console-socket" {
  set_args "$BUNDLE" sleep 300
  vcrun run -d --bundle "$BUNDLE" t3 </dev/null >/dev/null 2>&1
  run vcrun exec --tty t3 sh -c 'tty; exit 4' </dev/null
  assert_failure 4
  [[ "$output" == *$'/dev/pts/'*$'\r'* ]]
  start_recvtty --size 20x70
  run vcrun_bg exec --detach --tty --console-socket "$SOCK" --pid-file "$BATS_TEST_TMPDIR/exec.pid" t3 sh -c 'tty; stty size'
  assert_success
  [ -s "$BATS_TEST_TMPDIR/exec.pid" ]
  wait_recvtty
  run cat "$BATS_TEST_TMPDIR/tty.out"
  assert_line --partial '/dev/pts/'
  assert_line --partial '20 70'
  # A --process file's terminal decides, as with runc.
  start_recvtty
  jq -n '{terminal: true, args: ["sh", "-c", "[ -t 1 ] && echo from-process-file"], cwd: "/", user: {uid: 0, gid: 0}, env: ["PATH=/bin"]}' >"$BATS_TEST_TMPDIR/process.json"
  run vcrun_bg exec --detach --console-socket "$SOCK" --process "$BATS_TEST_TMPDIR/process.json" t3
  assert_success
  wait_recvtty
  run cat "$BATS_TEST_TMPDIR/tty.out"
  assert_line --partial 'from-process-file'
  run vcrun delete --force t3
  assert_success
  assert_no_leftovers
}

@test "a terminal that cannot work is refused with runc's wording, before any VM" {
  set_config "$BUNDLE" '.process.terminal = true'
  run vcrun create --bundle "$BUNDLE" t4
  assert_failure 1
  assert_output --partial 'cannot allocate tty if vcrun will detach without setting console socket'
  assert_no_leftovers
  set_config "$BUNDLE" '.process.terminal = false'
  run vcrun create --bundle "$BUNDLE" --console-socket "$SOCK" t4
  assert_failure 1
  assert_output --partial 'cannot use console socket if vcrun will not allocate tty'
  assert_no_leftovers
  set_config "$BUNDLE" '.process.terminal = true'
  run vcrun create --bundle "$BUNDLE" --console-socket "$STATE_ROOT/nobody.sock" t4
  assert_failure 1
  assert_output --partial 'nobody.sock'
  assert_no_leftovers
}

@test "exec: --detach --tty needs a console socket; a console socket needs a tty" {
  set_args "$BUNDLE" sleep 300
  vcrun run -d --bundle "$BUNDLE" t5 </dev/null >/dev/null 2>&1
  run vcrun exec --detach --tty t5 true
  assert_failure 255
  assert_output --partial 'cannot allocate tty if vcrun will detach without setting console socket'
  run vcrun exec --console-socket "$SOCK" t5 true
  assert_failure 255
  assert_output --partial 'cannot use console socket if vcrun will not allocate tty'
  run vcrun delete --force t5
  assert_success
  assert_no_leftovers
}
