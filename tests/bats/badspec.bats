#!/usr/bin/env bats
# Specs vcrun cannot honour fail at create with an error naming the field,
# exit 1, and leave nothing behind.

bats_require_minimum_version 1.5.0
load helpers

# set-up and teardown: helpers.bash's defaults

# refused JQ-FILTER MESSAGE: the edited spec fails create with MESSAGE.
refused() {
  set_config "$BUNDLE" "$1"
  run vcrun create --bundle "$BUNDLE" bad </dev/null
  assert_failure 1
  assert_output --partial "$2"
  run vcrun state bad
  assert_failure 1
  assert_no_leftovers
}

@test "an unknown namespace type" {
  refused '.linux.namespaces += [{"type": "time2"}]' 'linux.namespaces[5].type: unknown namespace type "time2"'
}

@test "an unknown capability name" {
  refused '.process.capabilities.bounding += ["CAP_BOGUS"]' 'process.capabilities.bounding[3]: unknown capability "CAP_BOGUS"'
}

@test "an effective capability outside the permitted set" {
  refused '.process.capabilities.effective += ["CAP_SYS_ADMIN"]' 'process.capabilities.effective: cap_sys_admin is not in process.capabilities.permitted'
}

@test "an invalid seccomp action" {
  refused '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}' 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_BOGUS"'
}

@test "seccomp: an unknown architecture, syscall or operator" {
  refused '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}' \
    'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_PDP11"'
  refused '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}' \
    'linux.seccomp.syscalls[0].names[0]: unknown syscall "nosuchcall"'
  refused '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_SIMILAR"}]}]}' \
    'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_SIMILAR"'
}

@test "seccomp SCMP_ACT_NOTIFY cannot reach a listener outside the VM" {
  refused '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOTIFY"}' 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported'
}

@test "a non-numeric uid" {
  refused '.process.user.uid = "root"' 'config.json: process.user.uid: must be a non-negative integer'
}

@test "an ociVersion vcrun cannot honour" {
  refused '.ociVersion = "2.0.0"' 'config.json: ociVersion: unsupported version "2.0.0"'
}

@test "an unknown rlimit" {
  refused '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]' 'process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"'
}

@test "a sysctl the guest kernel does not have" {
  refused '.linux.sysctl = {"kernel.no_such_knob": "1"}' 'linux.sysctl["kernel.no_such_knob"]: no such sysctl in the guest kernel'
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
  refused '.linux.cgroupsPath = "/a/../../b"' 'linux.cgroupsPath: "/a/../../b" must not contain ".."'
}
