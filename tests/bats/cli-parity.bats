#!/usr/bin/env bats
# The command line against runc 1.1.5 on the same bundle: exec into created
# and paused containers and exec's exit status for runtime errors, ps,
# list's columns, run --keep, and ids that cannot be printed as they are.
# Where runc is installed, its answer is checked too.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  [ -n "${CONTAINER:-}" ] && vcrun delete --force "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "${RUNC_ROOT:-}" ]; then
    runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  fi
  teardown_state_root
}

have_runc() {
  command -v runc >/dev/null || return 1
  RUNC_ROOT="$BATS_TEST_TMPDIR/runc"
}

runc_() {
  runc --root "$RUNC_ROOT" "$@"
}

# create_container ID: a created container of $BUNDLE (a process that
# runs until killed once started).
create_container() {
  CONTAINER=$1
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" "$1"
}

@test "exec into a created container runs the process, as runc does" {
  create_container cp1
  run vcrun exec cp1 echo hello
  assert_success
  assert_output hello
  [ "$(vcrun state cp1 | jq -r .status)" = created ]
  if have_runc; then
    runc_ create --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
    run runc_ exec r1 echo hello
    assert_success
    assert_output hello
  fi
}

@test "exec into a paused container is refused by name with status 255, as runc" {
  create_container cp2
  vcrun start cp2
  vcrun pause cp2
  run vcrun exec cp2 true
  assert_failure 255
  assert_output --partial "cannot exec in a paused container"
  vcrun resume cp2
  if have_runc; then
    runc_ run -d --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
    runc_ pause r1
    run runc_ exec r1 true
    assert_failure 255
    assert_output --partial "cannot exec in a paused container"
  fi
}

@test "exec: runtime errors exit 255 (runc's status), usage errors 1" {
  create_container cp3
  vcrun start cp3
  local pid_file=$BATS_TEST_TMPDIR/nonexistent/dir/f
  run vcrun exec --pid-file "$pid_file" cp3 true
  assert_failure 255
  assert_output --partial "$pid_file"
  run vcrun exec -d --pid-file "$pid_file" cp3 sleep 100
  assert_failure 255
  # Nothing was started for the detached exec.
  [ -z "$(ls "$STATE_ROOT/cp3" | grep '^exec-' || true)" ]
  run vcrun ps cp3
  refute_output --partial "sleep 100"
  run vcrun exec no-such-container true
  assert_failure 255
  run vcrun exec cp3
  assert_failure 255
  run vcrun exec --no-such-option cp3 true
  assert_failure 1
  if have_runc; then
    runc_ run -d --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
    run runc_ exec --pid-file "$pid_file" r1 true
    assert_failure 255
    run runc_ exec no-such-container true
    assert_failure 255
    run runc_ exec r1
    assert_failure 255
  fi
}

# columns LINE: the offsets at which each column of a list line starts.
columns() {
  awk '{ line = $0; off = 0; out = "";
         while (match(line, /[^ ]+/)) { out = out " " (off + RSTART);
           off += RSTART + RLENGTH - 1; line = substr(line, RSTART + RLENGTH) }
         print out }' <<<"$1"
}

@test "list: each column as wide as its longest cell, as runc's tabwriter" {
  # A long id and a long bundle, which broke the fixed-width columns.
  local long_bundle=$BATS_TEST_TMPDIR/a-bundle-directory-with-a-rather-long-name-to-push-the-columns
  mv "$BUNDLE" "$long_bundle"
  BUNDLE=$long_bundle
  create_container a-container-id-longer-than-twelve
  vcrun_bg create --bundle "$BUNDLE" cp4
  run vcrun list
  assert_success
  [ "${#lines[@]}" -eq 3 ]
  local header
  header=$(columns "${lines[0]}")
  [ "$(columns "${lines[1]}")" = "$header" ] || fail "misaligned: $output"
  [ "$(columns "${lines[2]}")" = "$header" ] || fail "misaligned: $output"
  # runc's widths: the longest cell + 3, at least 12.
  local id_width=$((${#CONTAINER} + 3)) bundle_start
  [[ "${lines[0]}" == "ID$(printf '%*s' $((id_width - 2)) '')PID "* ]] ||
    fail "ID column not $id_width wide: ${lines[0]}"
  bundle_start=$(awk '{ print index($0, "BUNDLE") }' <<<"${lines[0]}")
  [ "$(awk -v s="$bundle_start" '{ print index($0, "CREATED") - s }' <<<"${lines[0]}")" \
    -eq $((${#BUNDLE} + 3)) ] || fail "BUNDLE column: $output"
  vcrun delete --force cp4
  if have_runc; then
    runc_ create --bundle "$BUNDLE" a-container-id-longer-than-twelve </dev/null >/dev/null 2>&1
    run runc_ list
    runc_ delete --force a-container-id-longer-than-twelve
    [[ "${lines[0]}" == "ID$(printf '%*s' $((id_width - 2)) '')PID "* ]] ||
      fail "runc's header differs: ${lines[0]}"
  fi
}

@test "ps: ps -ef's columns by default and the ps options after the id, as runc" {
  create_container cp7
  vcrun start cp7
  run vcrun ps cp7
  assert_success
  local ef_header=${lines[0]}
  [[ "$ef_header" == "UID "*" PID "*" PPID "*" CMD" ]] || fail "not -ef: $output"
  assert_line --regexp '^root +[0-9]+ +[0-9]+ +[0-9]+ [0-9:A-Za-z]+ +\? +[0-9:]+ sh -c trap'
  run vcrun ps cp7 -o pid,comm
  assert_success
  local o_header=${lines[0]}
  assert_line --index 0 --regexp '^ +PID COMMAND$'
  assert_line --regexp '^ +[0-9]+ sh$'
  run vcrun ps cp7 -e
  assert_success
  local e_header=${lines[0]}
  assert_line --regexp '^ +[0-9]+ \? +[0-9:]+ sh$'
  # runc picks the container's rows by the PID column.
  run vcrun ps cp7 -o comm
  assert_failure 1
  assert_output --partial "couldn't find PID field"
  run vcrun ps cp7 aux
  assert_failure 1
  assert_output --partial "docs/deviations.md"
  if have_runc; then
    runc_ run -d --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
    run runc_ ps r1
    assert_line --index 0 "$ef_header"
    run runc_ ps r1 -o pid,comm
    assert_line --index 0 "$o_header"
    run runc_ ps r1 -e
    assert_line --index 0 "$e_header"
    run runc_ ps r1 -o comm
    assert_failure 1
    assert_output --partial "couldn't find PID field"
  fi
}

@test "ps: a stopped container has no processes and exits 0, as runc" {
  set_args "$BUNDLE" true
  CONTAINER=cp5
  vcrun_bg run -d --bundle "$BUNDLE" cp5
  wait_for_stopped cp5
  run vcrun ps cp5
  assert_success
  run vcrun ps --format json cp5
  assert_success
  if have_runc; then
    runc_ run -d --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
    sleep 0.5
    run runc_ ps r1
    assert_success
  fi
}

@test "run --keep: the stopped container stays for state and delete, as runc" {
  set_args "$BUNDLE" sh -c 'exit 3'
  CONTAINER=cp6
  run vcrun run --keep --bundle "$BUNDLE" cp6 </dev/null
  assert_failure 3
  run vcrun state cp6
  assert_success
  [ "$(jq -r '.status + " " + (.pid | tostring)' <<<"$output")" = "stopped 0" ]
  run vcrun list -q
  assert_output cp6
  run vcrun delete cp6
  assert_success
  assert_no_leftovers
  if have_runc; then
    run runc_ run --keep --bundle "$BUNDLE" r1 </dev/null
    assert_failure 3
    [ "$(runc_ state r1 | jq -r .status)" = stopped ]
  fi
}

@test "an id that cannot be printed as it is is quoted: one line of error" {
  run -1 vcrun state $'a\nb'
  [ "${#lines[@]}" -eq 1 ] || fail "more than one line: $output"
  assert_output --partial 'invalid container ID format: "a\nb"'
  run -1 vcrun run --bundle "$BUNDLE" $'x\e[31my'
  assert_output --partial 'invalid container ID format: "x\u001b[31my"'
  assert_no_leftovers
}
