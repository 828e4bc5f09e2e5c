# Shared set-up for the bats suites: a busybox bundle, a private state root,
# and checks that nothing of vcrun is left behind.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

VCRUN=${VCRUN:-vcrun}
SRCDIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# A private state root, and a private run root beside it ($STATE_ROOT.run,
# [runtime] run_root in the test's own copy of the configuration), so that
# every process, mount and file of the test's sandboxes names $STATE_ROOT.
setup_state_root() {
  STATE_ROOT=$(mktemp -d /tmp/vcr.XXXXXX)
  export STATE_ROOT
  # The configuration the suite was given, whatever an earlier test of the
  # file set VCRUN_CONFIG to.
  VCRUN_BASE_CONFIG=${VCRUN_BASE_CONFIG:-$VCRUN_CONFIG}
  export VCRUN_BASE_CONFIG
  sed -e "s|^run_root = .*|run_root = \"$STATE_ROOT.run\"|" "$VCRUN_BASE_CONFIG" > "$STATE_ROOT.toml"
  grep -q "^run_root = \"$STATE_ROOT.run\"" "$STATE_ROOT.toml" ||
    fail "no run_root line in $VCRUN_BASE_CONFIG"
  VCRUN_CONFIG=$STATE_ROOT.toml
  export VCRUN_CONFIG
  if factory_mode; then
    start_test_factory
  fi
}

# VCRUN_TEST_FACTORY=1 (make bats-factory): every test's configuration has
# [factory] enabled with a pool of one template clone, filled before the
# test begins, so that each test's first sandbox is a claimed VM and later
# ones claim the refill or restore a clone of the template.  A file that
# drives the factory itself sets VCRUN_TEST_FACTORY=0.
factory_mode() {
  [ "${VCRUN_TEST_FACTORY:-0}" = 1 ]
}

start_test_factory() {
  sed -i -e 's/^enable = false/enable = true/' -e 's/^pool_size = .*/pool_size = 1/' \
    -e 's/^template = false/template = true/' "$STATE_ROOT.toml"
  grep -q '^enable = true' "$STATE_ROOT.toml" || fail "no [factory] enable in $STATE_ROOT.toml"
  VCRUN_CONFIG=$STATE_ROOT.toml "$VCRUN" factory init >/dev/null ||
    fail "factory init failed for $STATE_ROOT.toml"
}

# The test's pool (idle VMs and the template are the factory's, not a
# test's): stopped and removed before leftovers are counted.
stop_test_factory() {
  if factory_mode && [ -n "${STATE_ROOT:-}" ] && [ -f "$STATE_ROOT.toml" ]; then
    VCRUN_CONFIG=$STATE_ROOT.toml "$VCRUN" factory destroy >/dev/null 2>&1 || true
  fi
}

# skip_in_factory_mode REASON: a test that cannot apply with a pool.
skip_in_factory_mode() {
  if factory_mode; then
    skip "factory mode: $1"
  fi
}

# run_dir_of ID: the run directory (sockets, logs, share) of ID's sandbox.
run_dir_of() {
  readlink "$STATE_ROOT/$1/run"
}

# The usual set-up of a suite: one busybox bundle made per file, copied per
# test into $BUNDLE, with a private state root.
setup_bundle_template() {
  export BUNDLE_TEMPLATE="$BATS_FILE_TMPDIR/template"
  make_bundle "$BUNDLE_TEMPLATE"
}

setup_bundle() {
  setup_state_root
  BUNDLE="$BATS_TEST_TMPDIR/bundle"
  cp -a "$BUNDLE_TEMPLATE" "$BUNDLE"
}

# Defaults for a suite; a file that needs more defines its own.
setup_file() {
  setup_bundle_template
}

setup() {
  setup_bundle
}

teardown() {
  teardown_state_root
}

# in_container CMD: runs `sh -c CMD` in a fresh container of $BUNDLE;
# $status and $output are its.
in_container() {
  set_args "$BUNDLE" sh -c "$1"
  run vcrun run --bundle "$BUNDLE" "c$BATS_TEST_NUMBER" </dev/null
}

vcrun() {
  "$VCRUN" --root "$STATE_ROOT" "$@"
}

# make_bundle DIR: a bundle whose rootfs is busybox-static with its applets.
make_bundle() {
  local dir=$1
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
    "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/root"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
  echo 'root:x:0:' > "$dir/rootfs/etc/group"
  (cd "$dir" && "$VCRUN" spec)
  # Not a terminal: the tests pipe stdio.
  set_config "$dir" '.process.terminal = false'
}

# set_config DIR JQ-FILTER: edits DIR/config.json in place.
set_config() {
  local tmp
  tmp=$(mktemp)
  jq "$2" "$1/config.json" > "$tmp" && mv "$tmp" "$1/config.json"
}

# set_args DIR ARG...: the container's process.args.
set_args() {
  local dir=$1
  shift
  local json
  json=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  set_config "$dir" ".process.args = $json"
}

# Nothing of a vcrun sandbox under STATE_ROOT may remain: processes,
# mounts, sockets or state directories.
assert_no_leftovers() {
  stop_test_factory
  local procs
  procs=$(ps -eo pid=,args= | grep -F "$STATE_ROOT" | grep -v grep || true)
  [ -z "$procs" ] || fail "processes left behind: $procs"
  if grep -qF "$STATE_ROOT" /proc/self/mountinfo; then
    fail "mounts left behind: $(grep -F "$STATE_ROOT" /proc/self/mountinfo)"
  fi
  local left
  left=$(find "$STATE_ROOT" "$STATE_ROOT.run" -mindepth 1 -maxdepth 1 2>/dev/null || true)
  [ -z "$left" ] || fail "state left behind in $STATE_ROOT or $STATE_ROOT.run: $left"
}

teardown_state_root() {
  if [ -n "${STATE_ROOT:-}" ] && [ -d "$STATE_ROOT" ]; then
    stop_test_factory
    # Kill anything a failed test left, so one failure does not cascade.
    pkill -9 -f "$STATE_ROOT" 2>/dev/null || true
    # The sandbox shares' bind mounts (never rm -rf through a rootfs).
    awk -v root="$STATE_ROOT/" -v run="$STATE_ROOT.run/" \
      'index($5, root) == 1 || index($5, run) == 1 {print $5}' /proc/self/mountinfo |
      sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$STATE_ROOT" "$STATE_ROOT.run" "$STATE_ROOT.toml"
  fi
}

# Runs vcrun with its stdio in files: create and exec --detach leave a shim
# that holds the container's stdio, which would keep the pipe of bats' `run`
# open forever.  Prints what vcrun itself wrote to stderr up to its exit.
vcrun_bg() {
  local status=0
  vcrun "$@" </dev/null >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" || status=$?
  cat "$BATS_TEST_TMPDIR/bg.err"
  return $status
}

# wait_for_stopped ID: polls (up to 20 s) until the container has stopped.
wait_for_stopped() {
  local i
  for i in $(seq 1 100); do
    [ "$(vcrun state "$1" | jq -r .status)" = stopped ] && return 0
    sleep 0.2
  done
  fail "container $1 did not stop"
}
