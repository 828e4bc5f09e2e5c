#!/usr/bin/env bats
# vcrun run, spec, --version and check, end to end with a real VM.

bats_require_minimum_version 1.5.0
load helpers

# set-up and teardown: helpers.bash's defaults

@test "--version names version, commit, OCI spec and features" {
  run "$VCRUN" --version
  assert_success
  assert_line --regexp '^vcrun version [0-9]+\.[0-9]+\.[0-9]+'
  assert_line --regexp '^commit: '
  assert_line --regexp '^spec: 1\.'
  assert_line --regexp '^features: .*\+SECCOMP.*\+CAP'
}

@test "spec writes a runc-style config.json and refuses to overwrite it" {
  local d="$BATS_TEST_TMPDIR/spec"
  mkdir -p "$d"
  cd "$d"
  run "$VCRUN" spec
  assert_success
  run jq -r '.ociVersion, .root.path, .process.args[0], .process.terminal' config.json
  assert_output $'1.0.2-dev\nrootfs\nsh\ntrue'
  run "$VCRUN" spec
  assert_failure 1
  assert_output --partial 'config.json exists'
}

@test "check reports every requirement and TCG or KVM" {
  run vcrun check
  assert_success
  assert_line --regexp '^OK +qemu '
  assert_line --regexp '^OK +kernel '
  assert_line --regexp '^OK +initrd '
  assert_line --regexp '^OK +virtiofsd '
  assert_line --regexp '^OK +accel +(KVM|TCG)'
  assert_line --regexp '^OK +vsock +hybrid vsock'
  assert_line --regexp '^OK +cgroups '
}

@test "run prints the container's output and exits 0" {
  set_args "$BUNDLE" echo hello from the VM
  run vcrun run --bundle "$BUNDLE" c1
  assert_success
  assert_output "hello from the VM"
  assert_no_leftovers
}

@test "run exits with the container's status (3)" {
  set_args "$BUNDLE" sh -c 'echo out; exit 3'
  run vcrun run -b "$BUNDLE" c2
  assert_failure 3
  assert_output "out"
  assert_no_leftovers
}

@test "run exits 137 when the container process is killed by SIGKILL inside" {
  # Without a pid namespace of its own the process is not an init, which
  # the kernel would shield from its own signals.
  set_config "$BUNDLE" 'del(.linux.namespaces[] | select(.type == "pid"))'
  set_args "$BUNDLE" sh -c 'kill -9 $$; sleep 10'
  run vcrun run --bundle="$BUNDLE" c3
  assert_failure 137
  assert_no_leftovers
}

@test "run passes env, cwd, args with spaces, user and hostname" {
  set_config "$BUNDLE" '.process.env += ["GREETING=hi there"] | .process.cwd = "/tmp" | .hostname = "vcbox"'
  set_args "$BUNDLE" sh -c 'echo "$GREETING|$(pwd)|$1|$2|$(hostname)"' argv0 'a  b' 'c'
  run vcrun run --bundle "$BUNDLE" c4
  assert_success
  assert_output "hi there|/tmp|a  b|c|vcbox"
}

@test "run runs the process as process.user" {
  set_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [1002]}'
  set_args "$BUNDLE" sh -c 'echo $(id -u) $(id -g) $(id -G)'
  run vcrun run --bundle "$BUNDLE" c5
  assert_success
  assert_output "1000 1001 1001 1002"
}

@test "stdin is piped through to the container" {
  set_args "$BUNDLE" sh -c 'tr a-z A-Z; echo done'
  run bash -c "printf 'piped line\n' | '$VCRUN' --root '$STATE_ROOT' run --bundle '$BUNDLE' c6"
  assert_success
  assert_output $'PIPED LINE\ndone'
}

@test "stdout and stderr stay apart" {
  set_args "$BUNDLE" sh -c 'echo to-out; echo to-err >&2'
  run --separate-stderr vcrun run --bundle "$BUNDLE" c7
  assert_success
  assert_output "to-out"
  [ "$stderr" = "to-err" ]
}

@test "uname -r in the container is the guest kernel, not the host's" {
  set_args "$BUNDLE" uname -r
  run vcrun run --bundle "$BUNDLE" c8
  assert_success
  assert_output "$(cat "$SRCDIR/build/guest/kernel.release")"
  [ "$output" != "$(uname -r)" ]
}

@test "writes in the container are visible on the host (virtio-fs rootfs)" {
  set_config "$BUNDLE" '.root.readonly = false'
  set_args "$BUNDLE" sh -c 'echo written-in-guest > /tmp/proof'
  run vcrun run --bundle "$BUNDLE" c9
  assert_success
  [ "$(cat "$BUNDLE/rootfs/tmp/proof")" = "written-in-guest" ]
}

@test "a missing bundle is a clear error, exit 1, nothing left" {
  run vcrun run --bundle /nonexistent/bundle c10
  assert_failure 1
  assert_output --partial '/nonexistent/bundle'
  assert_no_leftovers
}

@test "a broken config.json is a clear error naming the file, exit 1, nothing left" {
  echo '{"ociVersion": "1.0.2", "process": ' > "$BUNDLE/config.json"
  run vcrun run --bundle "$BUNDLE" c11
  assert_failure 1
  assert_output --partial "$BUNDLE/config.json"
  assert_no_leftovers
}

@test "a missing guest kernel is a clear error naming the file, exit 1, nothing left" {
  local cfg="$BATS_TEST_TMPDIR/configuration.toml"
  sed -e 's|^kernel = .*|kernel = "/nonexistent/vmlinux"|' "$VCRUN_CONFIG" > "$cfg"
  set_args "$BUNDLE" true
  run "$VCRUN" --root "$STATE_ROOT" --config "$cfg" run --bundle "$BUNDLE" c12
  assert_failure 1
  assert_output --partial '/nonexistent/vmlinux'
  assert_no_leftovers
}

@test "a command missing from the rootfs fails with runc's wording" {
  set_args "$BUNDLE" no-such-command
  run vcrun run --bundle "$BUNDLE" c13
  assert_failure 1
  assert_output --partial 'exec: "no-such-command": executable file not found in $PATH'
  assert_no_leftovers
}

@test "an id that is taken is refused without touching the running one" {
  mkdir -p "$STATE_ROOT/busy"
  set_args "$BUNDLE" true
  run vcrun run --bundle "$BUNDLE" busy
  assert_failure 1
  assert_output --partial 'already exists'
  [ -d "$STATE_ROOT/busy" ]
  rmdir "$STATE_ROOT/busy"
}

@test "errors go to --log as JSON lines" {
  run vcrun --log "$BATS_TEST_TMPDIR/log.json" --log-format json run --bundle /nonexistent c14
  assert_failure 1
  run jq -r '.level + " " + (.msg | test("nonexistent") | tostring)' "$BATS_TEST_TMPDIR/log.json"
  assert_output "error true"
}

@test "a guest that never reaches the agent is an error with the logs' tails, not a hang" {
  local cfg="$BATS_TEST_TMPDIR/configuration.toml"
  # A garbage initrd: the kernel finds no init and panics, QEMU exits.
  head -c 4096 /dev/urandom > "$BATS_TEST_TMPDIR/bad.cpio"
  sed -e "s|^initrd = .*|initrd = \"$BATS_TEST_TMPDIR/bad.cpio\"|" \
      -e 's|^boot_timeout = .*|boot_timeout = 20|' "$VCRUN_CONFIG" > "$cfg"
  set_args "$BUNDLE" true
  run timeout 60 "$VCRUN" --root "$STATE_ROOT" --config "$cfg" run --bundle "$BUNDLE" c15
  assert_failure 1
  assert_output --partial 'before the guest agent answered'
  assert_output --partial 'guest console:'
  assert_no_leftovers
}

@test "a reader that goes away (run | head -1) neither kills vcrun nor leaves the VM" {
  set_args "$BUNDLE" sh -c 'for i in 1 2 3 4 5; do echo line$i; done; sleep 1; echo more; exit 5'
  run bash -c '"$1" --root "$2" run --bundle "$3" pipe </dev/null | head -1; echo "status ${PIPESTATUS[0]}"' \
    _ "$VCRUN" "$STATE_ROOT" "$BUNDLE"
  assert_output $'line1\nstatus 5'
  assert_no_leftovers
}
