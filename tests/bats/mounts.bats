#!/usr/bin/env bats
# Mounts and /dev as the OCI spec describes them, checked from inside the
# container: host paths bound in over the sandbox's virtio-fs share, the
# file systems and options of mounts[], maskedPaths, readonlyPaths, /dev.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  setup_bundle_template
}

setup() {
  setup_bundle
  HOSTDIR="$BATS_TEST_TMPDIR/hostdir"
  mkdir -p "$HOSTDIR"
}

teardown() {
  teardown_state_root
}

# add_mount DEST TYPE SOURCE OPTION...: appends to mounts[].
add_mount() {
  local dest=$1 type=$2 source=$3
  shift 3
  local opts
  opts=$(printf '%s\n' "$@" | jq -R . | jq -sc 'map(select(. != ""))')
  set_config "$BUNDLE" ".mounts += [{\"destination\": \"$dest\", \"type\": \"$type\", \"source\": \"$source\", \"options\": $opts}]"
}

# The mountinfo line of a mount point inside the container.
mountinfo_of() { # dest
  echo "grep ' $1 ' /proc/self/mountinfo"
}

@test "a bind-mounted host directory is read and written both ways" {
  echo from-host > "$HOSTDIR/in"
  add_mount /data bind "$HOSTDIR" rbind rw
  set_args "$BUNDLE" sh -c 'cat /data/in; echo from-guest > /data/out'
  run vcrun run -b "$BUNDLE" m1
  assert_success
  assert_output from-host
  run cat "$HOSTDIR/out"
  assert_output from-guest
  assert_no_leftovers
}

@test "a single host file is bind-mounted onto a file" {
  echo one-file > "$BATS_TEST_TMPDIR/single"
  add_mount /etc/single.conf bind "$BATS_TEST_TMPDIR/single" bind ro
  set_args "$BUNDLE" sh -c 'cat /etc/single.conf; [ -f /etc/single.conf ] && echo is-a-file'
  run vcrun run -b "$BUNDLE" m2
  assert_success
  assert_line -n 0 one-file
  assert_line -n 1 is-a-file
  assert_no_leftovers
}

@test "a read-only bind mount refuses writes" {
  add_mount /ro none "$HOSTDIR" bind ro
  set_args "$BUNDLE" sh -c "touch /ro/x 2>&1; $(mountinfo_of /ro)"
  run vcrun run -b "$BUNDLE" m3
  assert_output --partial 'Read-only file system'
  assert_output --regexp ' /ro ro,'
  [ ! -e "$HOSTDIR/x" ]
  assert_no_leftovers
}

@test "a bind mount whose host source is missing fails at create naming mounts[N].source" {
  add_mount /gone bind /nonexistent/vcrun-source rbind
  local n
  n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
  run vcrun run -b "$BUNDLE" m4
  assert_failure 1
  assert_output --partial "mounts[$n].source"
  assert_output --partial /nonexistent/vcrun-source
  assert_no_leftovers
}

@test "after delete no mount of the sandbox is left on the host" {
  add_mount /data bind "$HOSTDIR" rbind
  set_args "$BUNDLE" sleep 60
  vcrun_bg create -b "$BUNDLE" m5
  grep -qF "$STATE_ROOT/m5/shared" /proc/self/mountinfo || fail "the share is not mounted"
  run vcrun delete --force m5
  assert_success
  assert_no_leftovers
  [ -d "$HOSTDIR" ]
  [ -x "$BUNDLE/rootfs/bin/busybox" ]
}
