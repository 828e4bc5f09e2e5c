#!/usr/bin/env bats
# Specs vcrun cannot honour fail at create with an error naming the field,
# exit 1, and leave nothing behind.  What the host can check (the spec's
# shape, capability and seccomp names, which sysctls the namespaces allow)
# fails before any VM boots, naming the bundle's config.json.

bats_require_minimum_version 1.5.0
load helpers

# A configuration whose VMM and virtiofsd are a stub that only leaves a mark
# and fails: a spec refused on the host must not get as far as starting one.
setup_file() {
  setup_bundle_template
  export VM_MARK="$BATS_FILE_TMPDIR/vm-started"
  local stub="$BATS_FILE_TMPDIR/no-vm"
  printf '#!/bin/sh\ntouch "%s"\nexit 1\n' "$VM_MARK" > "$stub"
  chmod +x "$stub"
  export NO_VM_CONFIG="$BATS_FILE_TMPDIR/no-vm.toml"
  sed -e "s|^path = .*|path = \"$stub\"|" \
    -e "s|^virtiofsd = .*|virtiofsd = \"$stub\"|" "$VCRUN_CONFIG" > "$NO_VM_CONFIG"
}

# refused JQ-FILTER MESSAGE: the edited spec fails create with MESSAGE (in
# the guest or on the host).
refused() {
  set_config "$BUNDLE" "$1"
  run vcrun create --bundle "$BUNDLE" bad </dev/null
  assert_failure 1
  assert_output --partial "$2"
  run vcrun state bad
  assert_failure 1
  assert_no_leftovers
}

# refused_on_host JQ-FILTER MESSAGE: the edited spec fails create with
# "<bundle>/config.json: MESSAGE" before a VMM or virtiofsd is started.
refused_on_host() {
  set_config "$BUNDLE" "$1"
  rm -f "$VM_MARK"
  VCRUN_CONFIG=$NO_VM_CONFIG run vcrun create --bundle "$BUNDLE" bad </dev/null
  assert_failure 1
  assert_output --partial "$(realpath "$BUNDLE")/config.json: $2"
  [ ! -e "$VM_MARK" ] || fail "a VMM or virtiofsd was started"
  assert_no_leftovers
}

# runc_refuses MESSAGE: runc 1.1.5 refuses $BUNDLE too, saying MESSAGE.
runc_refuses() {
  set_args "$BUNDLE" true
  run runc --root "$STATE_ROOT/runc" run -b "$BUNDLE" "r$BATS_TEST_NUMBER" </dev/null
  assert_failure
  assert_output --partial "$1"
  rm -rf "$STATE_ROOT/runc"
}

# add_bind SOURCE: a bind mount of SOURCE at /src.
add_bind() {
  set_config "$BUNDLE" ".mounts += [{\"destination\": \"/src\", \"type\": \"bind\", \"source\": \"$1\", \"options\": [\"rbind\"]}]"
}

@test "the stub VMM of refused_on_host notices a VM start" {
  rm -f "$VM_MARK"
  VCRUN_CONFIG=$NO_VM_CONFIG run vcrun create --bundle "$BUNDLE" good </dev/null
  assert_failure
  [ -e "$VM_MARK" ]
  assert_no_leftovers
}

@test "an unknown namespace type" {
  refused_on_host '.linux.namespaces += [{"type": "time2"}]' 'linux.namespaces[5].type: unknown namespace type "time2"'
}

@test "an unknown capability name" {
  refused_on_host '.process.capabilities.bounding += ["CAP_BOGUS"]' 'process.capabilities.bounding[3]: unknown capability "CAP_BOGUS"'
}

@test "an effective capability outside the permitted set" {
  refused_on_host '.process.capabilities.effective += ["CAP_SYS_ADMIN"]' 'process.capabilities.effective: CAP_SYS_ADMIN is not in process.capabilities.permitted'
}

@test "an invalid seccomp action" {
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}' 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_BOGUS"'
}

@test "seccomp: an unknown architecture, syscall or operator" {
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}' \
    'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_PDP11"'
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}' \
    'linux.seccomp.syscalls[0].names[0]: unknown syscall "nosuchcall"'
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_SIMILAR"}]}]}' \
    'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_SIMILAR"'
}

@test "seccomp SCMP_ACT_NOTIFY cannot reach a listener outside the VM" {
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOTIFY"}' 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported'
}

@test "seccomp: an unknown flag or a lower-case capability" {
  refused_on_host '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}' \
    'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"'
  refused_on_host '.process.capabilities.ambient = ["cap_chown"]' \
    'process.capabilities.ambient[0]: unknown capability "cap_chown"'
}

@test "sysctls outside the container's kernel namespaces, as runc refuses them" {
  refused_on_host '.linux.sysctl = {"vm.swappiness": "10"}' \
    'linux.sysctl["vm.swappiness"]: not allowed: the sysctl is not in a separate kernel namespace'
  refused_on_host '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}' \
    'linux.sysctl["net.ipv4.ip_forward"]: not allowed without a network namespace in linux.namespaces'
  refused_on_host '.linux.namespaces |= map(select(.type != "ipc")) | .linux.sysctl = {"kernel.msgmax": "4096"}' \
    'linux.sysctl["kernel.msgmax"]: not allowed without an ipc namespace in linux.namespaces'
  refused_on_host '.linux.sysctl = {"kernel.hostname": "x"}' \
    'linux.sysctl["kernel.hostname"]: not allowed: the hostname field sets it'
}

@test "a non-numeric uid" {
  refused_on_host '.process.user.uid = "root"' 'process.user.uid: must be a non-negative integer'
}

@test "an ociVersion vcrun cannot honour" {
  refused_on_host '.ociVersion = "2.0.0"' 'ociVersion: unsupported version "2.0.0"'
}

@test "an unknown rlimit" {
  refused_on_host '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]' 'process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"'
}

@test "a sysctl the guest kernel does not have" {
  refused '.linux.sysctl = {"net.ipv4.no_such_knob": "1"}' 'linux.sysctl["net.ipv4.no_such_knob"]: no such sysctl in the guest kernel'
}

@test "a device of an unknown type" {
  refused '.linux.devices = [{"path": "/dev/x", "type": "q", "major": 1, "minor": 1}]' 'linux.devices[0].type: must be "c", "b", "u" or "p"'
}

@test "a resource value of the wrong type" {
  refused '.linux.resources.memory = {"limit": "lots"}' 'linux.resources.memory.limit: must be an integer'
}

@test "a systemd cgroupsPath that is not slice:prefix:name" {
  set_config "$BUNDLE" '.linux.cgroupsPath = "/plain/path"'
  run vcrun --systemd-cgroup create --bundle "$BUNDLE" bad </dev/null
  assert_failure 1
  assert_output --partial 'linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/plain/path" instead'
  assert_no_leftovers
}

@test "a cgroupsPath that climbs out of the cgroup root" {
  refused_on_host '.linux.cgroupsPath = "/a/../../b"' 'linux.cgroupsPath: "/a/../../b" must not contain ".."'
}

@test "exec --process: a bad process is refused on the host, naming the file" {
  set_args "$BUNDLE" sleep 60
  vcrun run -d --bundle "$BUNDLE" ex </dev/null
  local proc="$BATS_TEST_TMPDIR/proc.json"
  jq -n '{args: ["true"], cwd: "/", capabilities: {bounding: ["CAP_NOPE"]}}' > "$proc"
  run vcrun exec --process "$proc" ex
  assert_failure 255
  assert_output --partial "$proc: process.capabilities.bounding[0]: unknown capability \"CAP_NOPE\""
  echo '["true"]' > "$proc"
  run vcrun exec --process "$proc" ex
  assert_failure 255
  assert_output --partial "$proc: must be a JSON object"
  # The same file, fixed, runs.
  jq -n '{args: ["sh", "-c", "exit 3"], cwd: "/", capabilities: {bounding: ["CAP_KILL"]}}' > "$proc"
  run vcrun exec --process "$proc" ex
  assert_failure 3
  vcrun delete --force ex
  assert_no_leftovers
}

@test "a rootfs that is a symlink, even to /, is refused as runc 1.1 refuses it" {
  local root
  root="$(realpath "$BUNDLE")/rootfs"
  mv "$BUNDLE/rootfs" "$BUNDLE/real-rootfs"
  ln -s real-rootfs "$BUNDLE/rootfs"
  runc_refuses 'invalid rootfs: not an absolute path, or a symlink'
  refused_on_host . "root.path \`$root\`: invalid rootfs: not an absolute path, or a symlink"
  rm "$BUNDLE/rootfs"
  ln -s / "$BUNDLE/rootfs"
  runc_refuses 'invalid rootfs: not an absolute path, or a symlink'
  refused_on_host . "root.path \`$root\`: invalid rootfs: not an absolute path, or a symlink"
  # A symlink above root.path is one too.
  rm "$BUNDLE/rootfs"
  ln -s . "$BUNDLE/here"
  mv "$BUNDLE/real-rootfs" "$BUNDLE/rootfs"
  refused_on_host '.root.path = "here/rootfs"' "root.path \`$(realpath "$BUNDLE")/here/rootfs\`: invalid rootfs"
}

@test "a rootfs that is a regular file is refused before a VM boots (runc fails too)" {
  rm -rf "$BUNDLE/rootfs"
  touch "$BUNDLE/rootfs"
  runc_refuses 'not a directory'
  refused_on_host . "root.path \`$(realpath "$BUNDLE")/rootfs\`: Not a directory"
}

@test "a bind source that is a unix socket or a FIFO cannot reach the VM: refused on the host" {
  local dir=$BATS_TEST_TMPDIR
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$dir/sock"
  mkfifo "$dir/fifo"
  local n
  n=$(jq '.mounts | length' "$BUNDLE/config.json")
  add_bind "$dir/sock"
  refused_on_host . "mounts[$n].source \`$dir/sock\`: a unix socket on the host cannot be reached from the VM through virtio-fs"
  set_config "$BUNDLE" '.mounts |= .[:-1]'
  add_bind "$dir/fifo"
  refused_on_host . "mounts[$n].source \`$dir/fifo\`: a FIFO on the host cannot be reached from the VM through virtio-fs"
}

@test "a bind source through /proc/self names vcrun's own files: refused on the host" {
  local n src
  n=$(jq '.mounts | length' "$BUNDLE/config.json")
  for src in /proc/self/fd/0 /dev/stdin /proc/self/status /proc/thread-self/comm; do
    add_bind "$src"
    refused_on_host . "mounts[$n].source \`$src\`: a link of a process in /proc would name vcrun's own files on the host, not the container's"
    set_config "$BUNDLE" '.mounts |= .[:-1]'
  done
}

@test "linux.mountLabel with [runtime] lsm_labels = \"error\" is refused before a VM boots" {
  local conf="$BATS_TEST_TMPDIR/lsm.toml"
  sed 's/^lsm_labels = .*/lsm_labels = "error"/' "$NO_VM_CONFIG" > "$conf"
  grep -q '^lsm_labels = "error"' "$conf"
  set_config "$BUNDLE" '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  rm -f "$VM_MARK"
  VCRUN_CONFIG=$conf run vcrun create --bundle "$BUNDLE" bad </dev/null
  assert_failure 1
  assert_output --partial "$(realpath "$BUNDLE")/config.json: linux.mountLabel \"system_u:object_r:container_file_t:s0\" is not applied: the guest kernel has no SELinux ([runtime] lsm_labels = \"error\")"
  [ ! -e "$VM_MARK" ] || fail "a VMM or virtiofsd was started"
  assert_no_leftovers
}
