#!/usr/bin/env bats
# OCI conformance, linux.*: devices, sysctl, resources in the guest's
# cgroup v2, cgroupsPath and seccomp, checked from inside the container.

bats_require_minimum_version 1.5.0
load helpers

# set-up and teardown: helpers.bash's defaults


# With a cgroup namespace the container's cgroup is the root of its
# /sys/fs/cgroup, as with runc.
own_cgroupns() {
  set_config "$BUNDLE" '.linux.namespaces += [{"type": "cgroup"}]'
}

@test "linux.devices: created with type, numbers and mode" {
  set_config "$BUNDLE" '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 432, "uid": 0, "gid": 0}]'
  in_container 'stat -c "%F %t:%T %a" /dev/fuse'
  assert_success
  assert_output 'character special file a:e5 660'
}

@test "linux.sysctl: set in the container's namespaces" {
  set_config "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"}'
  in_container 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'
  assert_success
  assert_output $'1\n4096'
}

@test "linux.resources.memory: limit, reservation, swap" {
  own_cgroupns
  set_config "$BUNDLE" '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 134217728}'
  in_container 'cd /sys/fs/cgroup && cat memory.max memory.low memory.swap.max'
  assert_success
  # runc: memory.swap.max is swap minus limit (the spec's swap counts both).
  assert_output $'67108864\n33554432\n67108864'
}

@test "linux.resources.cpu: shares, quota and period, cpus" {
  own_cgroupns
  set_config "$BUNDLE" '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}'
  in_container 'cd /sys/fs/cgroup && cat cpu.weight cpu.max cpuset.cpus'
  assert_success
  # runc's conversion: weight = 1 + (shares - 2) * 9999 / 262142.
  assert_output $'20\n50000 100000\n0'
}

@test "linux.resources.pids.limit holds" {
  own_cgroupns
  set_config "$BUNDLE" '.linux.resources.pids = {"limit": 8}'
  in_container 'cat /sys/fs/cgroup/pids.max; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done 2>&1 | grep -c "can.t fork" || true'
  assert_success
  assert_line --index 0 8
  [ "${lines[1]}" -ge 1 ]
}

@test "linux.resources.blockIO.weight and hugepageLimits" {
  own_cgroupns
  set_config "$BUNDLE" '.linux.resources.blockIO = {"weight": 500}
    | .linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
  in_container 'cd /sys/fs/cgroup && cat io.weight hugetlb.2MB.max'
  assert_success
  # runc's conversion: io.weight = 1 + (weight - 10) * 9999 / 990.
  assert_output $'default 4950\n4194304'
}

@test "linux.cgroupsPath: the container's cgroup, as runc names it" {
  set_config "$BUNDLE" '.linux.cgroupsPath = "/pod1/ctr"'
  in_container 'cat /proc/self/cgroup'
  assert_output '0::/pod1/ctr'
  set_config "$BUNDLE" 'del(.linux.cgroupsPath)'
  in_container 'cat /proc/self/cgroup'
  assert_output "0::/c$BATS_TEST_NUMBER"
  own_cgroupns
  in_container 'cat /proc/self/cgroup'
  assert_output '0::/'
}

@test "--systemd-cgroup: slice:prefix:name is slice/prefix-name.scope" {
  set_config "$BUNDLE" '.linux.cgroupsPath = "machine.slice:libpod:abc"'
  set_args "$BUNDLE" cat /proc/self/cgroup
  run vcrun --systemd-cgroup run --bundle "$BUNDLE" sd </dev/null
  assert_success
  assert_output '0::/machine.slice/libpod-abc.scope'
}

@test "vcrun update and events find a container in its cgroupsPath" {
  set_config "$BUNDLE" '.linux.cgroupsPath = "/pods/u1" | .linux.namespaces += [{"type": "cgroup"}]'
  set_args "$BUNDLE" sleep 600
  vcrun run -d --bundle "$BUNDLE" u1
  run vcrun update --pids-limit 33 u1
  assert_success
  run vcrun exec u1 cat /sys/fs/cgroup/pids.max
  assert_output 33
  run vcrun events --stats u1
  assert_success
  [ "$(echo "$output" | jq -r .data.pids.limit)" = 33 ]
  vcrun delete --force u1
  assert_no_leftovers
}

@test "linux.seccomp: errnoRet and argument conditions" {
  # kill(pid, SIGUSR1) fails with EPERM, kill(pid, 0) still works.
  set_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                  "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
                 {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    | .root.readonly = false'
  in_container 'grep "^Seccomp:" /proc/self/status; kill -0 $$ && echo sig0; kill -USR1 $$ 2>&1; mkdir /tmp/d 2>&1'
  assert_line $'Seccomp:\t2'
  assert_line sig0
  assert_line --partial "can't kill pid 1: Operation not permitted"
  assert_line --partial "can't create directory '/tmp/d': Permission denied"
}

@test "linux.seccomp: defaultAction errno with defaultErrnoRet" {
  # Only what busybox's start-up needs is allowed; sethostname gets ENOSYS.
  set_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "syscalls": [{"names": ["execve", "brk", "readlink", "write", "mprotect", "prctl", "getuid",
      "newfstatat", "prlimit64", "uname", "getrandom", "arch_prctl", "set_tid_address",
      "mmap", "munmap", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}'
  set_args "$BUNDLE" hostname newname
  run vcrun run --bundle "$BUNDLE" sc </dev/null
  assert_failure 1
  assert_output --partial 'Function not implemented'
}

# The VM is the configured base (1 vCPU, 256 MiB) plus what the container
# asks, capped by the host: a guest that can honour its limits.
@test "the VM is sized from linux.resources: vCPUs for the quota, memory for the limit" {
  in_container 'nproc; sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo'
  assert_success
  local base_cpus base_kib
  base_cpus=$(sed -n 1p <<<"$output")
  base_kib=$(sed -n 2p <<<"$output")
  [ "$base_cpus" -eq 1 ] || fail "a VM without limits has $base_cpus vCPUs"
  set_config "$BUNDLE" '.linux.resources.memory = {"limit": 536870912} |
    .linux.resources.cpu = {"quota": 100000, "period": 100000}'
  in_container 'nproc; sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo'
  assert_success
  local cpus kib
  cpus=$(sed -n 1p <<<"$output")
  kib=$(sed -n 2p <<<"$output")
  # One more vCPU when the host has it; 512 MiB more memory.
  [ "$cpus" -eq "$(( $(nproc) > 1 ? 2 : 1 ))" ] || fail "$cpus vCPUs for a quota of one CPU"
  [ $((kib - base_kib)) -ge $((500 * 1024)) ] && [ $((kib - base_kib)) -le $((530 * 1024)) ] ||
    fail "MemTotal grew by $((kib - base_kib)) kB for a 512 MiB limit"
}
