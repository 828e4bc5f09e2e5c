#!/usr/bin/env bats
# OCI hooks with the container's state on stdin: prestart, createRuntime,
# poststart, poststop on the host; createContainer, startContainer in the
# guest.  Annotations reported by state.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_bundle
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  LOG="$BATS_TEST_TMPDIR/hooks.log"
  HOOK="$BATS_TEST_TMPDIR/hook.sh"
  # hook.sh KIND: one line "KIND status id pid" from the state on stdin;
  # the whole state of the last run of KIND in KIND.json.
  cat > "$HOOK" <<HOOK
#!/bin/sh
state=\$(cat)
echo "\$state" > "$BATS_TEST_TMPDIR/\$1.json"
echo "\$1 \$(echo "\$state" | jq -r '.status + " " + .id + " " + (.pid|tostring)')" >> "$LOG"
HOOK
  chmod +x "$HOOK"
}

# add_hook KIND NAME [JQ-OBJECT-EXTRA]: appends a hook.sh NAME to hooks.KIND.
add_hook() {
  local extra=${3:-'{}'}
  set_config "$BUNDLE" ".hooks.$1 += [{\"path\": \"$HOOK\", \"args\": [\"hook.sh\", \"$2\"]} + $extra]"
}

# add_sh_hook KIND SCRIPT [TIMEOUT]: a hook running sh -c SCRIPT.
add_sh_hook() {
  local t=""
  [ -z "${3:-}" ] || t=", \"timeout\": $3"
  set_config "$BUNDLE" ".hooks.$1 += [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", $(jq -R . <<<"$2")]$t}]"
}

@test "prestart and createRuntime run at create, in that order, with status creating" {
  add_hook createRuntime createRuntime
  add_hook prestart prestart
  run vcrun_bg create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" hk1
  assert_success
  local pid
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  run cat "$LOG"
  assert_output "prestart creating hk1 $pid
createRuntime creating hk1 $pid"
  [ "$(jq -r .bundle "$BATS_TEST_TMPDIR/createRuntime.json")" = "$BUNDLE" ]
  [ "$(jq -r .ociVersion "$BATS_TEST_TMPDIR/createRuntime.json")" = 1.0.2 ]
  [ "$(vcrun state hk1 | jq -r .status)" = created ]
  vcrun delete --force hk1
  assert_no_leftovers
}

@test "poststart runs after start with status running" {
  add_hook poststart poststart
  vcrun_bg create --bundle "$BUNDLE" hk2
  [ ! -e "$LOG" ]
  run vcrun start hk2
  assert_success
  run cat "$LOG"
  assert_output --regexp '^poststart running hk2 [1-9][0-9]*$'
  vcrun delete --force hk2
  assert_no_leftovers
}

@test "poststop runs on delete with status stopped, after the VM is gone" {
  add_hook poststop poststop
  # hk3's own VM (an idle pooled VM may run beside it: bats-factory),
  # by the run directory create made for it.
  add_sh_hook poststop "ps -eo args= | grep -c \"[q]emu.*\$(cat $BATS_TEST_TMPDIR/run_dir)\" > $BATS_TEST_TMPDIR/vms || true"
  vcrun_bg create --bundle "$BUNDLE" hk3
  run_dir_of hk3 > "$BATS_TEST_TMPDIR/run_dir"
  [ -s "$BATS_TEST_TMPDIR/run_dir" ]
  vcrun start hk3
  [ ! -e "$LOG" ]
  vcrun kill hk3 KILL
  run vcrun delete --force hk3
  assert_success
  run cat "$LOG"
  assert_output "poststop stopped hk3 0"
  [ "$(cat "$BATS_TEST_TMPDIR/vms")" = 0 ]
  assert_no_leftovers
}

@test "hook env and args are honoured; without env the hook gets vcrun's" {
  set_config "$BUNDLE" ".hooks.createRuntime = [
    {\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \\\"\$0 \$HOOKVAR \${VCRUN_HOOK_TEST:-unset}\\\" > $BATS_TEST_TMPDIR/env1\", \"zero\"], \"env\": [\"HOOKVAR=set\"]},
    {\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \$VCRUN_HOOK_TEST > $BATS_TEST_TMPDIR/env2\"]}]"
  VCRUN_HOOK_TEST=inherited vcrun_bg create --bundle "$BUNDLE" hk4
  run cat "$BATS_TEST_TMPDIR/env1"
  assert_output "zero set unset"
  [ "$(cat "$BATS_TEST_TMPDIR/env2")" = inherited ]
  vcrun delete --force hk4
  assert_no_leftovers
}

@test "a failing createRuntime hook fails create with its number, leaving nothing" {
  add_hook createRuntime ok
  add_sh_hook createRuntime 'echo broken >&2; exit 3'
  add_hook createRuntime never
  run vcrun_bg create --bundle "$BUNDLE" hk5
  assert_failure 1
  assert_output --partial "error running hook #1: error running hook: exit status 3, stdout: , stderr: broken"
  run cat "$LOG"
  assert_output --regexp '^ok creating hk5 [0-9]+$'
  refute_output --partial never
  run vcrun state hk5
  assert_failure
  assert_no_leftovers
}

@test "a hook past its timeout is killed and fails create" {
  add_sh_hook createRuntime 'sleep 60' 1
  local t0=$SECONDS
  run vcrun_bg create --bundle "$BUNDLE" hk6
  assert_failure 1
  assert_output --partial "error running hook #0: hook ran past specified timeout of 1.0s"
  [ $((SECONDS - t0)) -lt 30 ]
  ! pgrep -f 'sleep 60' -P $$ >/dev/null
  assert_no_leftovers
}

@test "a failing poststart hook fails start and kills the container (runc 1.1)" {
  add_sh_hook poststart 'exit 2'
  vcrun_bg create --bundle "$BUNDLE" hk7
  run vcrun start hk7
  assert_failure 1
  assert_output --partial "error running hook #0: error running hook: exit status 2"
  wait_for_stopped hk7
  vcrun delete hk7
  assert_no_leftovers
}

@test "a failing poststop hook is a warning: delete succeeds and runs the rest" {
  add_sh_hook poststop 'exit 4'
  add_hook poststop after
  vcrun_bg create --bundle "$BUNDLE" hk8
  run vcrun delete --force hk8
  assert_success
  assert_output --partial "warning: error running hook #0: error running hook: exit status 4"
  run cat "$LOG"
  assert_output "after stopped hk8 0"
  assert_no_leftovers
}

@test "run in the foreground runs createRuntime, poststart and poststop in order" {
  set_args "$BUNDLE" true
  add_hook createRuntime createRuntime
  add_hook poststart poststart
  add_hook poststop poststop
  run vcrun run --bundle "$BUNDLE" hk9
  assert_success
  run cut -d' ' -f1,2 "$LOG"
  assert_output "createRuntime creating
poststart running
poststop stopped"
  assert_no_leftovers
}

@test "annotations are kept and reported by state and given to hooks" {
  set_config "$BUNDLE" '.annotations = {"org.example.one": "1", "org.example.two": "zwei"}'
  add_hook createRuntime createRuntime
  vcrun_bg create --bundle "$BUNDLE" hk10
  run vcrun state hk10
  assert_success
  [ "$(jq -c .annotations <<<"$output")" = '{"org.example.one":"1","org.example.two":"zwei"}' ]
  [ "$(jq -c .annotations "$BATS_TEST_TMPDIR/createRuntime.json")" = '{"org.example.one":"1","org.example.two":"zwei"}' ]
  vcrun delete --force hk10
  assert_no_leftovers
}

# add_guest_hook KIND SCRIPT: a hook running the container's /bin/sh -c
# SCRIPT in the guest (sh builtins only: before pivot_root, PATH is the
# guest's).
add_guest_hook() {
  set_config "$BUNDLE" ".hooks.$1 += [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", $(jq -R . <<<"$2")]}]"
}

@test "createContainer runs in the guest before pivot_root, path inside the rootfs" {
  # Before pivot_root the rootfs is at /run/vcrun/shared/ID-<random>/rootfs
  # in the guest (a share name new for every create).
  add_guest_hook createContainer 'read -r s; for d in /run/vcrun/shared/hk11-*; do echo "$s" > "$d/rootfs/cc.json"; done'
  run vcrun_bg create --bundle "$BUNDLE" hk11
  assert_success
  [ "$(jq -r .status "$BUNDLE/rootfs/cc.json")" = creating ]
  [ "$(jq -r .id "$BUNDLE/rootfs/cc.json")" = hk11 ]
  [ "$(jq -r .bundle "$BUNDLE/rootfs/cc.json")" = "$BUNDLE" ]
  # The container's init, pid 1 of its own pid namespace, ran it.
  [ "$(jq -r .pid "$BUNDLE/rootfs/cc.json")" = 1 ]
  vcrun delete --force hk11
  assert_no_leftovers
}

@test "startContainer runs in the container at start, before the process" {
  set_config "$BUNDLE" '.root.readonly = false'
  add_guest_hook startContainer 'read -r s; echo "$s" > /sc.json'
  set_args "$BUNDLE" sh -c '[ -s /sc.json ] && echo seen > /seen; trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" hk12
  [ ! -e "$BUNDLE/rootfs/sc.json" ]
  run vcrun start hk12
  assert_success
  [ "$(jq -r .status "$BUNDLE/rootfs/sc.json")" = created ]
  local i
  for i in $(seq 1 50); do [ -e "$BUNDLE/rootfs/seen" ] && break; sleep 0.1; done
  [ "$(cat "$BUNDLE/rootfs/seen")" = seen ]
  vcrun delete --force hk12
  assert_no_leftovers
}

@test "a failing createContainer hook fails create, leaving nothing" {
  add_guest_hook createContainer 'exit 5'
  run vcrun_bg create --bundle "$BUNDLE" hk13
  assert_failure 1
  assert_output --partial "error running hook #0: error running hook: exit status 5"
  assert_no_leftovers
}

@test "a failing startContainer hook fails start" {
  add_guest_hook startContainer 'echo nope >&2; exit 6'
  vcrun_bg create --bundle "$BUNDLE" hk14
  run vcrun start hk14
  assert_failure 1
  assert_output --partial "error running hook #0: error running hook: exit status 6, stdout: , stderr: nope"
  wait_for_stopped hk14
  vcrun delete hk14
  assert_no_leftovers
}

@test "features lists every hook kind" {
  run vcrun features
  assert_success
  [ "$(jq -c .hooks <<<"$output")" = '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' ]
}
