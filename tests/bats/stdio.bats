#!/usr/bin/env bats
# Bulk stdio through exec: every byte arrives in order both ways, a process
# that reads its stdin late loses nothing (the agent holds the host back
# instead of buffering without bound), and a host reader that stops taking
# a process's output stalls that process only, not the agent: another exec
# in the same VM still runs.  Figures are in bench/, not here.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  [ -n "${CONTAINER:-}" ] && vcrun delete --force "$CONTAINER" >/dev/null 2>&1 || true
  teardown_state_root
}

# start_container ID: a running container of $BUNDLE that waits for TERM.
start_container() {
  CONTAINER=$1
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" "$1"
  vcrun start "$1"
}

@test "exec moves 24 MiB each way intact and in order" {
  start_container s1
  local data="$BATS_TEST_TMPDIR/data"
  # Numbered lines: a lost, doubled or reordered chunk changes the sum.
  seq 1 3000000 | head -c 25165824 > "$data"
  local want
  want=$(md5sum < "$data" | cut -d' ' -f1)
  run bash -c "'$VCRUN' --root '$STATE_ROOT' exec s1 cat < '$data' | md5sum"
  assert_success
  assert_output "$want  -"
  # Out only: the guest writes what it was given earlier, from a file.
  vcrun exec s1 sh -c 'cat > /dev/shm/data' < "$data"
  run bash -c "'$VCRUN' --root '$STATE_ROOT' exec s1 cat /dev/shm/data | md5sum"
  assert_success
  assert_output "$want  -"
}

@test "stdin the process reads late is held back, not dropped" {
  start_container s2
  # 20 MiB, more than the agent would ever buffer, before the process
  # reads any of it; runc gives the same count.
  run bash -c "head -c 20971520 /dev/zero | '$VCRUN' --root '$STATE_ROOT' exec s2 sh -c 'sleep 3; cat | wc -c'"
  assert_success
  assert_output 20971520
}

@test "a host reader that stops reading stalls only its own process" {
  start_container s3
  local go="$BATS_TEST_TMPDIR/go"
  # The reader takes nothing until $go exists; 64 MiB fill every buffer on
  # the way (pipe, agent queue, vsock credit, host socket).
  ( "$VCRUN" --root "$STATE_ROOT" exec s3 dd if=/dev/zero bs=1M count=64 2>/dev/null |
      { while [ ! -e "$go" ]; do sleep 0.2; done; wc -c > "$BATS_TEST_TMPDIR/count"; } ) &
  local reader=$!
  sleep 8
  # The agent still answers: a blocking write to the stalled host would
  # hang this exec until the request timeout.
  run timeout 60 "$VCRUN" --root "$STATE_ROOT" exec s3 echo still-served
  touch "$go"
  wait "$reader"
  assert_success
  assert_output still-served
  [ "$(cat "$BATS_TEST_TMPDIR/count")" = 67108864 ]
}

# exec asks the agent nothing before ExecProcess (no status call on a
# connection of its own): the agent's own checks refuse what the status
# used to, with runc's words, and a paused container's frozen cgroup never
# catches the new process (nor the agent waiting for it).
@test "exec in a paused or stopped container is refused by the agent's checks" {
  start_container s4
  vcrun pause s4
  run -255 timeout 60 "$VCRUN" --root "$STATE_ROOT" exec s4 true
  assert_output --partial "cannot exec in a paused container"
  vcrun resume s4
  run vcrun exec s4 echo served
  assert_success
  assert_output served
  vcrun kill s4 KILL
  wait_for_stopped s4
  run -255 timeout 60 "$VCRUN" --root "$STATE_ROOT" exec s4 true
  assert_output --partial "cannot exec in a stopped container"
}
