#!/usr/bin/env bats
# The vsock path of the product: hybrid vsock through the per-sandbox
# vcrun-vsock-backend daemon (vhost-user-vsock-pci) on a host without
# /dev/vhost-vsock, its clean-up, and the [agent] transport setting.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  [ ! -e /dev/vhost-vsock ] || skip "this host has /dev/vhost-vsock: these tests cover hybrid vsock"
  setup_bundle
  set_args "$BUNDLE" sleep 600
}

# with_transport VALUE: a copy of the test configuration whose [agent]
# transport is VALUE; prints its path.
with_transport() {
  local cfg="$BATS_TEST_TMPDIR/configuration.toml"
  sed -e "s|^transport = .*|transport = \"$1\"|" "$VCRUN_CONFIG" > "$cfg"
  grep -q "^transport = \"$1\"" "$cfg" || fail "no transport line in $VCRUN_CONFIG"
  echo "$cfg"
}

# with_vsock_backend PATH: a copy of the test configuration whose
# [hypervisor.qemu] vsock_backend is PATH; prints its path.
with_vsock_backend() {
  local cfg="$BATS_TEST_TMPDIR/configuration.toml"
  sed -e "s|^vsock_backend = .*|vsock_backend = \"$1\"|" "$VCRUN_CONFIG" > "$cfg"
  grep -q "^vsock_backend = \"$1\"" "$cfg" || fail "no vsock_backend line in $VCRUN_CONFIG"
  echo "$cfg"
}

# pid_of PATTERN: the one process whose command line matches PATTERN.
pid_of() {
  pgrep -f "$1" | head -1
}

@test "check says hybrid vsock on a host without /dev/vhost-vsock" {
  run vcrun check
  assert_success
  assert_line --regexp '^OK +vsock +hybrid vsock: .*vhost-user-vsock'
}

@test "a running container's QEMU has vhost-user-vsock-pci; its backend exits when QEMU is killed; delete --force cleans up" {
  vcrun_bg run -d --bundle "$BUNDLE" vs1
  local dir
  dir=$(run_dir_of vs1)
  local qemu backend
  qemu=$(pid_of "qemu-system.*$dir/")
  backend=$(pid_of "vsock-backend --vhost-user $dir/")
  [ -n "$qemu" ] || fail "no QEMU for vs1"
  [ -n "$backend" ] || fail "no vsock-backend for vs1"
  # The daemon is its own program, from [hypervisor.qemu] vsock_backend.
  local configured
  configured=$(sed -n 's/^vsock_backend = "\(.*\)"$/\1/p' "$VCRUN_CONFIG")
  run ps -o args= -p "$backend"
  [[ "$output" == "$configured --vhost-user $dir/vhost-vsock.sock --hybrid $dir/vsock.sock --cid 3 --ready-fd "* ]] ||
    fail "vsock backend runs as: $output"
  run ps -o args= -p "$qemu"
  if [[ "$output" != *" vcrun.template "* ]]; then
    assert_output --partial 'vhost-user-vsock-pci'
    assert_output --partial "$dir/vhost-vsock.sock"
  fi # else a template clone (bats-factory): the device was hot-plugged
  [ -S "$dir/vhost-vsock.sock" ] && [ -S "$dir/vsock.sock" ]
  # The agent answers through the backend.
  run vcrun exec vs1 echo through hybrid vsock
  assert_success
  assert_output 'through hybrid vsock'

  kill -9 "$qemu"
  local i
  for i in $(seq 1 100); do
    kill -0 "$backend" 2>/dev/null || break
    sleep 0.1
  done
  ! kill -0 "$backend" 2>/dev/null || fail "vsock-backend $backend still runs 10 s after QEMU was killed"
  # The backend removes its own sockets on the way out.
  [ ! -e "$dir/vhost-vsock.sock" ] || fail "vhost-user socket left by the backend"
  [ ! -e "$dir/vsock.sock" ] || fail "hybrid socket left by the backend"
  run vcrun delete --force vs1
  assert_success
  assert_no_leftovers
}

@test "transport = \"vhost-vsock\" without /dev/vhost-vsock: a clear error, nothing left" {
  local cfg
  cfg=$(with_transport vhost-vsock)
  run "$VCRUN" --root "$STATE_ROOT" --config "$cfg" run --bundle "$BUNDLE" vs2
  assert_failure 1
  assert_output --partial '/dev/vhost-vsock'
  assert_output --partial 'transport'
  assert_no_leftovers
  # check reports it too, with the remedy.
  run "$VCRUN" --root "$STATE_ROOT" --config "$cfg" check
  assert_failure 1
  assert_line --regexp '^FAIL +vsock +.*/dev/vhost-vsock'
}

@test "a vsock_backend that is not there: a clear error naming the key, nothing left" {
  local cfg
  cfg=$(with_vsock_backend /nonexistent/vcrun-vsock-backend)
  run "$VCRUN" --root "$STATE_ROOT" --config "$cfg" run --bundle "$BUNDLE" vs4
  assert_failure 1
  assert_output --partial '/nonexistent/vcrun-vsock-backend'
  assert_output --partial '[hypervisor.qemu] vsock_backend'
  assert_no_leftovers
}

@test "an unknown transport is a file:line: configuration error" {
  local cfg line
  cfg=$(with_transport carrier-pigeon)
  line=$(grep -n '^transport = ' "$cfg" | cut -d: -f1)
  run "$VCRUN" --root "$STATE_ROOT" --config "$cfg" run --bundle "$BUNDLE" vs3
  assert_failure 1
  assert_output --partial "$cfg:$line: \"transport\" must be one of auto, vhost-vsock, hybrid-vsock"
  assert_no_leftovers
}
