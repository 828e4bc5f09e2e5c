#!/usr/bin/env bats
# features, update, events, runc's compatibility flags, and the man pages.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_bundle
  set_args "$BUNDLE" sleep 600
}

# The container's own cgroup file NAME, read from inside it where
# /proc/self/cgroup says (relative to the container's cgroup mount).
cgroup_file() {
  vcrun exec "$1" sh -c "cat /sys/fs/cgroup\$(cut -d: -f3 /proc/self/cgroup)/$2"
}

@test "features prints the OCI features document" {
  run -0 vcrun features
  echo "$output" | jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.1.0"'
  echo "$output" | jq -e '.linux.cgroup == {"v1":false,"v2":true,"systemd":false,"systemdUser":false}'
  echo "$output" | jq -e '.linux.seccomp.enabled and (.linux.seccomp.archs | index("SCMP_ARCH_X86_64"))'
  echo "$output" | jq -e '.linux.seccomp.actions | index("SCMP_ACT_ERRNO") and (index("SCMP_ACT_NOTIFY") | not)'
  echo "$output" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN") and index("CAP_CHOWN")'
  echo "$output" | jq -e '.linux.namespaces | index("user") and index("cgroup")'
  echo "$output" | jq -e '.linux.apparmor.enabled == false and .linux.selinux.enabled == false'
  echo "$output" | jq -e '.annotations["io.github.vcrun.hypervisor"] == "qemu"'
  echo "$output" | jq -e '.mountOptions | index("rbind") and index("nosuid")'
  run -1 vcrun features extra
}

@test "update: bad values are errors naming the flag, before any VM is touched" {
  run -1 vcrun update --memory lots nosuch
  assert_output --partial "--memory"
  assert_output --partial "lots"
  run -1 vcrun update --cpu-shares=-5 nosuch
  assert_output --partial "--cpu-shares"
  run -1 vcrun update --blkio-weight 5 nosuch
  assert_output --partial "--blkio-weight"
  run -1 vcrun update --pids-limit 1x nosuch
  assert_output --partial "--pids-limit"
  run -1 vcrun update --kernel-memory 1m nosuch
  assert_output --partial "cgroup v2"
  echo '[1]' > "$BATS_TEST_TMPDIR/r.json"
  run -1 vcrun update --resources "$BATS_TEST_TMPDIR/r.json" nosuch
  assert_output --partial "not a JSON object"
  run -1 vcrun update -r "$BATS_TEST_TMPDIR/absent.json" nosuch
  assert_output --partial "absent.json"
  run -1 vcrun update nosuch
  assert_output --partial "nothing to update"
  run -1 vcrun update --memory 1m nosuch
  assert_output --partial "does not exist"
  assert_no_leftovers
}

@test "update: flags and --resources reach the container's cgroup" {
  vcrun run -d --bundle "$BUNDLE" up1
  run -0 vcrun update --memory 64m --memory-reservation=32M --pids-limit=50 \
    --cpu-quota 50000 --cpu-period=100000 --cpu-shares 1024 up1
  run -0 cgroup_file up1 memory.max
  assert_output "67108864"
  run -0 cgroup_file up1 memory.low
  assert_output "33554432"
  run -0 cgroup_file up1 pids.max
  assert_output "50"
  run -0 cgroup_file up1 cpu.max
  assert_output "50000 100000"
  run -0 cgroup_file up1 cpu.weight
  assert_output "39"
  # A file, then stdin; flags given with a file win.
  echo '{"memory":{"limit":100663296},"pids":{"limit":70}}' > "$BATS_TEST_TMPDIR/r.json"
  run -0 vcrun update --resources="$BATS_TEST_TMPDIR/r.json" --pids-limit 60 up1
  run -0 cgroup_file up1 memory.max
  assert_output "100663296"
  run -0 cgroup_file up1 pids.max
  assert_output "60"
  echo '{"pids":{"limit":-1}}' | vcrun update -r - up1
  run -0 cgroup_file up1 pids.max
  assert_output "max"
  # A value the guest kernel refuses is an error naming the field.
  run -1 vcrun update --cpuset-cpus 99 up1
  assert_output --partial "cpu.cpus"
  vcrun delete --force up1
  assert_no_leftovers
}

@test "update and events refuse a stopped container with runc's wording" {
  set_args "$BUNDLE" true
  vcrun run -d --bundle "$BUNDLE" st1
  wait_for_stopped st1
  run -1 vcrun update --memory 64m st1
  assert_output --partial "container not running"
  run -1 vcrun events --stats st1
  assert_output --partial "container with id st1 is not running"
  run -1 vcrun events nosuch
  assert_output --partial "does not exist"
  vcrun delete st1
  assert_no_leftovers
}

@test "events --stats prints one stats object with runc's field names" {
  vcrun run -d --bundle "$BUNDLE" ev1
  run -0 vcrun events --stats ev1
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e '.type == "stats" and .id == "ev1"'
  echo "$output" | jq -e '.data.memory.usage.usage > 0 and (.data.memory.raw | has("anon"))'
  echo "$output" | jq -e '.data.pids.current >= 1'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and (.data.cpu.throttling | has("throttledPeriods"))'
  echo "$output" | jq -e '.data.blkio | has("ioServiceBytesRecursive")'
  run -1 vcrun events --interval 0s ev1
  assert_output --partial "--interval"
  run -1 vcrun events --interval soon ev1
  assert_output --partial "soon"
  vcrun delete --force ev1
  assert_no_leftovers
}

@test "events streams stats every interval and exits 0 when the container stops" {
  set_args "$BUNDLE" sleep 3
  vcrun run -d --bundle "$BUNDLE" ev2
  run -0 vcrun events --interval 300ms ev2
  [ "${#lines[@]}" -ge 2 ]
  echo "${lines[0]}" | jq -e '.type == "stats" and .id == "ev2"'
  vcrun delete ev2
  assert_no_leftovers
}

@test "runc's global and create flags are accepted; --preserve-fds N>0 is refused" {
  run -1 vcrun create --preserve-fds 2 --bundle "$BUNDLE" pf1
  assert_output --partial "--preserve-fds 2"
  run -1 vcrun create --preserve-fds=x --bundle "$BUNDLE" pf1
  assert_output --partial "invalid --preserve-fds \`x\`"
  run -1 vcrun run --preserve-fds 1 --bundle "$BUNDLE" pf1
  assert_output --partial "--preserve-fds 1"
  run -1 vcrun exec --preserve-fds 3 pf1 true
  assert_output --partial "--preserve-fds 3"
  assert_no_leftovers
  set_config "$BUNDLE" '.linux.cgroupsPath = "/not/systemd"'
  run -1 vcrun --systemd-cgroup create --bundle "$BUNDLE" cf1
  assert_output --partial 'expected cgroupsPath to be of format "slice:prefix:name"'
  assert_no_leftovers
  set_config "$BUNDLE" '.linux.cgroupsPath = "system.slice:vcrun:cf1"'
  run vcrun_bg --systemd-cgroup --rootless false create --no-pivot --no-new-keyring \
    --preserve-fds 0 --bundle "$BUNDLE" cf1
  assert_success
  run -0 vcrun state cf1
  echo "$output" | jq -e '.status == "created"'
  run -0 vcrun kill cf1 SIGKILL
  wait_for_stopped cf1
  vcrun delete cf1
  assert_no_leftovers
}

@test "every command in the dispatch table has a man page" {
  local src=$BATS_TEST_DIRNAME/../..
  local cmds
  cmds=$(sed -n 's/^ *{"\([a-z-]*\)", cmd_[a-z_]*, "[^"]*"},.*/\1/p' "$src/cmd/main.c")
  [ -n "$cmds" ]
  local c
  for c in $cmds; do
    [ -f "$src/man/vcrun-$c.8.md" ] || fail "no man page for $c"
    grep -q "^% VCRUN-${c^^} 8" "$src/man/vcrun-$c.8.md" || fail "vcrun-$c.8.md: no title header"
  done
  [ -f "$src/man/vcrun.8.md" ]
}

@test "kill: an unknown signal name or number is an error naming it" {
  run -1 vcrun kill nosuch NOPE
  assert_output --partial 'unknown signal "NOPE"'
  run -1 vcrun kill nosuch 999
  assert_output --partial 'unknown signal "999"'
  run -1 vcrun kill nosuch KILL
  assert_output --partial "does not exist"
}

@test "--help lists update, events and features" {
  run -0 vcrun --help
  assert_output --partial "update"
  assert_output --partial "events"
  assert_output --partial "features"
}
