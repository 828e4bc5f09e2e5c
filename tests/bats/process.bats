#!/usr/bin/env bats
# OCI conformance, process and root: each feature of config.json's process,
# root, hostname and domainname, checked from inside the container.

bats_require_minimum_version 1.5.0
load helpers

# set-up and teardown: helpers.bash's defaults


@test "process.user: uid, gid and additionalGids" {
  set_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 6]}'
  in_container 'id'
  assert_success
  assert_output 'uid=1000 gid=1001 groups=5,6'
}

@test "process.user.umask" {
  set_config "$BUNDLE" '.process.user.umask = 63 | .root.readonly = false'
  in_container 'umask; touch /tmp/f; stat -c %a /tmp/f'
  assert_success
  assert_output $'0077\n600'
}

@test "process.rlimits: soft and hard limits" {
  set_config "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 4096},
                                             {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]'
  in_container 'ulimit -n; ulimit -Hn; ulimit -c'
  assert_success
  assert_output $'2048\n4096\n0'
}

@test "process.capabilities: bounding, effective, permitted, inheritable" {
  # CAP_CHOWN (0) and CAP_NET_RAW (13): 0x2001.
  set_config "$BUNDLE" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_RAW"],
    "effective": ["CAP_CHOWN", "CAP_NET_RAW"], "permitted": ["CAP_CHOWN", "CAP_NET_RAW"],
    "inheritable": ["CAP_NET_RAW"]}'
  in_container 'grep ^Cap /proc/self/status'
  assert_success
  assert_line $'CapBnd:\t0000000000002001'
  assert_line $'CapEff:\t0000000000002001'
  assert_line $'CapPrm:\t0000000000002001'
  assert_line $'CapInh:\t0000000000002000'
  assert_line $'CapAmb:\t0000000000000000'
}

@test "process.capabilities.ambient reach a non-root process" {
  set_config "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1000}
    | .process.capabilities = {"bounding": ["CAP_NET_RAW"], "effective": ["CAP_NET_RAW"],
      "permitted": ["CAP_NET_RAW"], "inheritable": ["CAP_NET_RAW"], "ambient": ["CAP_NET_RAW"]}'
  in_container 'grep -E "^Cap(Amb|Eff)" /proc/self/status'
  assert_success
  assert_output $'CapEff:\t0000000000002000\nCapAmb:\t0000000000002000'
}

@test "process.noNewPrivileges" {
  set_config "$BUNDLE" '.process.noNewPrivileges = true'
  in_container 'grep NoNewPrivs /proc/self/status'
  assert_output $'NoNewPrivs:\t1'
  set_config "$BUNDLE" '.process.noNewPrivileges = false'
  in_container 'grep NoNewPrivs /proc/self/status'
  assert_output $'NoNewPrivs:\t0'
}

@test "process.oomScoreAdj" {
  set_config "$BUNDLE" '.process.oomScoreAdj = 345'
  in_container 'cat /proc/self/oom_score_adj'
  assert_success
  assert_output 345
}

@test "hostname and domainname" {
  set_config "$BUNDLE" '.hostname = "box" | .domainname = "example.org"'
  in_container 'hostname; cat /proc/sys/kernel/domainname'
  assert_success
  assert_output $'box\nexample.org'
}

@test "root.readonly refuses writes; a writable root takes them" {
  set_config "$BUNDLE" '.root.readonly = true'
  in_container 'touch /x 2>&1; echo $?'
  assert_output --partial 'Read-only file system'
  set_config "$BUNDLE" '.root.readonly = false'
  in_container 'touch /x && echo written'
  assert_output written
  [ -e "$BUNDLE/rootfs/x" ]
}

@test "process.apparmorProfile, selinuxLabel and linux.mountLabel: a warning by default" {
  set_config "$BUNDLE" '.process.apparmorProfile = "docker-default" | .process.selinuxLabel = "system_u:system_r:container_t:s0" | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  in_container 'echo ran'
  assert_success
  assert_line 'ran'
  assert_line --partial 'warning: '"$BUNDLE"'/config.json: process.apparmorProfile "docker-default" is not applied: the guest kernel has no AppArmor'
  assert_line --partial 'process.selinuxLabel "system_u:system_r:container_t:s0" is not applied'
  assert_line --partial 'warning: '"$BUNDLE"'/config.json: linux.mountLabel "system_u:object_r:container_file_t:s0" is not applied: the guest kernel has no SELinux'
}

@test "process.apparmorProfile with [runtime] lsm_labels = \"error\": create fails, nothing left" {
  local conf="$BATS_TEST_TMPDIR/conf.toml"
  sed 's/^lsm_labels = .*/lsm_labels = "error"/' "$VCRUN_CONFIG" > "$conf"
  grep -q '^lsm_labels = "error"' "$conf"
  set_config "$BUNDLE" '.process.apparmorProfile = "docker-default"'
  VCRUN_CONFIG=$conf run vcrun run --bundle "$BUNDLE" p11
  assert_failure 1
  assert_output --partial 'process.apparmorProfile "docker-default" is not applied: the guest kernel has no AppArmor ([runtime] lsm_labels = "error")'
  assert_no_leftovers
}

@test "CAP_DAC_OVERRIDE of a non-root process: honoured on the guest's file systems, not on virtio-fs (runc: on both; see docs/deviations.md)" {
  mkdir -m 755 "$BUNDLE/rootfs/rootonly"
  set_config "$BUNDLE" '.root.readonly = false | .process.user = {"uid": 1000, "gid": 1000}
    | .process.capabilities |= with_entries(.value += ["CAP_DAC_OVERRIDE"])
    | .process.capabilities.inheritable = ["CAP_DAC_OVERRIDE"]'
  local try='for d in /rootonly /dev; do touch $d/dac 2>/dev/null && echo "$d ok" || echo "$d refused"; done'
  set_args "$BUNDLE" sh -c "$try"
  run runc --root "$STATE_ROOT/runc" run -b "$BUNDLE" "r$BATS_TEST_NUMBER" </dev/null
  assert_success
  assert_line '/rootonly ok'
  assert_line '/dev ok'
  rm -f "$BUNDLE/rootfs/rootonly/dac"
  in_container "$try"
  assert_success
  assert_line '/rootonly refused'
  assert_line '/dev ok'
  [ ! -e "$BUNDLE/rootfs/rootonly/dac" ]
  rm -rf "$STATE_ROOT/runc"
  assert_no_leftovers
}
