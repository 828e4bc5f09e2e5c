#!/usr/bin/env bats
# vcrun exec applies the process's security settings as runc exec does: the
# container's capabilities, rlimits, noNewPrivileges, oomScoreAdj, umask and
# seccomp filter, with --cap, --additional-gids and --user on top, or a
# --process file as it is.  Where runc is installed, the same exec on the
# same bundle is compared with it.

bats_require_minimum_version 1.5.0
load helpers

# set-up: helpers.bash's defaults

teardown() {
  # A failed test leaves its container: delete it, so that its host mounts go.
  [ -n "${CONTAINER:-}" ] && vcrun delete --force "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "${RUNC_ROOT:-}" ]; then
    runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  fi
  teardown_state_root
}

# A reduced capability set: CAP_CHOWN (0) and CAP_NET_RAW (13), 0x2001.
REDUCED_CAPS='.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_RAW"],
  "effective": ["CAP_CHOWN", "CAP_NET_RAW"], "permitted": ["CAP_CHOWN", "CAP_NET_RAW"],
  "inheritable": ["CAP_NET_RAW"]}'

# start_container ID: a running container of $BUNDLE that waits for TERM.
start_container() {
  CONTAINER=$1
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" "$1"
  vcrun start "$1"
}

# same_in_runc EXEC-ARGS...: runs `runc exec EXEC-ARGS` in a runc container
# of the same bundle and checks its output equals $output (what vcrun gave).
# Without runc, nothing is compared.
same_in_runc() {
  command -v runc >/dev/null || return 0
  local ours=$output
  RUNC_ROOT="$BATS_TEST_TMPDIR/runc"
  runc --root "$RUNC_ROOT" run -d --bundle "$BUNDLE" r1 </dev/null >/dev/null 2>&1
  run runc --root "$RUNC_ROOT" exec "$@"
  runc --root "$RUNC_ROOT" delete --force r1
  [ "$output" = "$ours" ] || fail "runc gave:
$output
vcrun gave:
$ours"
}

@test "exec takes the container's capabilities, rlimits, noNewPrivileges, oomScoreAdj and umask" {
  set_config "$BUNDLE" "$REDUCED_CAPS"'
    | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 4096}]
    | .process.noNewPrivileges = true | .process.oomScoreAdj = 345
    | .process.user.umask = 63'
  start_container e1
  local cmd='grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj'
  run vcrun exec e1 sh -c umask
  assert_output 0077
  run vcrun exec e1 sh -c "$cmd"
  assert_success
  assert_line $'CapBnd:\t0000000000002001'
  assert_line $'CapEff:\t0000000000002001'
  assert_line $'CapPrm:\t0000000000002001'
  assert_line $'CapInh:\t0000000000002000'
  assert_line $'NoNewPrivs:\t1'
  assert_line --index 6 2048
  assert_line --index 7 4096
  assert_line --index 8 345
  # runc 1.1.5 sets an exec's rlimits racing with its Go runtime, which
  # raises the soft RLIMIT_NOFILE to the hard one (fixed in runc 1.1.12):
  # its soft nofile is 2048 or 4096 from run to run, so it is not compared.
  cmd='grep -E "^(Cap|NoNewPrivs)" /proc/self/status; ulimit -Hn; cat /proc/self/oom_score_adj'
  run vcrun exec e1 sh -c "$cmd"
  vcrun delete --force e1
  assert_no_leftovers
  same_in_runc r1 sh -c "$cmd"
}

@test "exec runs under the container's seccomp filter" {
  set_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    | .root.readonly = false'
  start_container e2
  local cmd='grep "^Seccomp:" /proc/self/status; mkdir /tmp/d 2>&1; echo $?'
  run vcrun exec e2 sh -c "$cmd"
  assert_success
  assert_output $'Seccomp:\t2\nmkdir: can\'t create directory \'/tmp/d\': Permission denied\n1'
  vcrun delete --force e2
  same_in_runc r1 sh -c "$cmd"
}

@test "exec --cap adds to bounding, effective, permitted and ambient; not inheritable" {
  # CAP_SYS_ADMIN (21) on top of the reduced set: 0x202001.  Ambient needs
  # the capability in inheritable too, so runc 1.1.5 leaves it out as well.
  set_config "$BUNDLE" "$REDUCED_CAPS"
  start_container e3
  local cmd='grep ^Cap /proc/self/status'
  run vcrun exec --cap CAP_SYS_ADMIN -c CAP_KILL e3 sh -c "$cmd"
  assert_success
  assert_line $'CapBnd:\t0000000000202021'
  assert_line $'CapEff:\t0000000000202021'
  assert_line $'CapPrm:\t0000000000202021'
  assert_line $'CapInh:\t0000000000002000'
  assert_line $'CapAmb:\t0000000000000000'
  vcrun delete --force e3
  # runc refuses -c and --cap together.
  same_in_runc --cap CAP_SYS_ADMIN --cap CAP_KILL r1 sh -c "$cmd"
}

@test "exec --user, --additional-gids, --env, --cwd and --no-new-privs" {
  set_config "$BUNDLE" '.process.user.additionalGids = [5] | .process.noNewPrivileges = false'
  start_container e4
  run vcrun exec e4 grep NoNewPrivs /proc/self/status
  assert_output $'NoNewPrivs:\t0'
  run vcrun exec --no-new-privs e4 grep NoNewPrivs /proc/self/status
  assert_output $'NoNewPrivs:\t1'
  # --user UID alone keeps the container's gid.
  run vcrun exec -u 1001 e4 id
  assert_output 'uid=1001 gid=0(root) groups=5'
  local cmd='id; echo "$FOO $PATH"; pwd'
  run vcrun exec --user 1000:1000 -g 1234 -g 7 --env FOO=bar --cwd /tmp e4 sh -c "$cmd"
  assert_success
  # The kernel keeps supplementary groups sorted.
  assert_output 'uid=1000 gid=1000 groups=5,7,1234
bar /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/tmp'
  vcrun delete --force e4
  # runc refuses -g and --additional-gids together.
  same_in_runc --user 1000:1000 -g 1234 -g 7 --env FOO=bar --cwd /tmp r1 sh -c "$cmd"
}

@test "exec --process FILE: the file's capabilities apply, as it is" {
  set_config "$BUNDLE" "$REDUCED_CAPS"
  start_container e5
  # CAP_KILL (5): 0x20.
  cat > "$BATS_TEST_TMPDIR/process.json" <<'EOF'
{"args": ["sh", "-c", "grep -E '^Cap(Bnd|Eff)' /proc/self/status; echo \"env=$FOO\""],
 "env": ["PATH=/bin", "FOO=file"], "cwd": "/", "user": {"uid": 0, "gid": 0},
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                  "permitted": ["CAP_KILL"]}}
EOF
  run vcrun exec --process "$BATS_TEST_TMPDIR/process.json" e5
  assert_success
  assert_output $'CapEff:\t0000000000000020\nCapBnd:\t0000000000000020\nenv=file'
  vcrun delete --force e5
  same_in_runc --process "$BATS_TEST_TMPDIR/process.json" r1
}

@test "a bad capability in --process fails naming the field; the container keeps running" {
  start_container e6
  cat > "$BATS_TEST_TMPDIR/bad.json" <<'EOF'
{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0},
 "capabilities": {"bounding": ["CAP_KILL", "CAP_BOGUS"]}}
EOF
  run vcrun exec --process "$BATS_TEST_TMPDIR/bad.json" e6
  assert_failure 255
  assert_output --partial 'process.capabilities.bounding[1]: unknown capability "CAP_BOGUS"'
  # Effective beyond permitted fails in the exec child itself.
  cat > "$BATS_TEST_TMPDIR/bad2.json" <<'EOF'
{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0},
 "capabilities": {"effective": ["CAP_KILL"]}}
EOF
  run vcrun exec --process "$BATS_TEST_TMPDIR/bad2.json" e6
  assert_failure 255
  assert_output --partial 'process.capabilities.effective: CAP_KILL is not in process.capabilities.permitted'
  [ "$(vcrun state e6 | jq -r .status)" = running ]
  run vcrun exec e6 echo still-running
  assert_success
  assert_output still-running
  # No exec's files are left in the state directory.
  run ls "$STATE_ROOT/e6"
  refute_output --partial exec-
  vcrun delete --force e6
  assert_no_leftovers
}

@test "exec: bad --user and --additional-gids values are refused before anything runs" {
  run vcrun exec -g -1 nosuch true
  assert_failure 1
  assert_output --partial 'exec: --additional-gids `-1` must be a GID from 0 to 4294967295'
  run vcrun exec --user 1000:x nosuch true
  assert_failure 1
  assert_output --partial 'exec: --user `1000:x` must be UID[:GID]'
  assert_no_leftovers
}

@test "exec: LSM labels get create's warning, or its error with lsm_labels = \"error\"" {
  set_config "$BUNDLE" '.process.apparmorProfile = "docker-default"'
  start_container e7
  run vcrun exec e7 echo ran
  assert_success
  assert_line ran
  # config.json as create read it: the copy in the state directory.
  assert_line --partial "warning: $STATE_ROOT/e7/config.json: process.apparmorProfile \"docker-default\" is not applied"
  run vcrun exec --apparmor other --process-label x_t e7 echo ran
  assert_success
  assert_line --partial 'process.apparmorProfile "other" is not applied'
  assert_line --partial 'process.selinuxLabel "x_t" is not applied'
  local conf="$BATS_TEST_TMPDIR/conf.toml"
  sed 's/^lsm_labels = .*/lsm_labels = "error"/' "$VCRUN_CONFIG" > "$conf"
  cat > "$BATS_TEST_TMPDIR/label.json" <<'EOF'
{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "selinuxLabel": "system_u:system_r:container_t:s0"}
EOF
  VCRUN_CONFIG=$conf run vcrun exec --process "$BATS_TEST_TMPDIR/label.json" e7
  assert_failure 255
  assert_output --partial "$BATS_TEST_TMPDIR/label.json: selinuxLabel \"system_u:system_r:container_t:s0\" is not applied: the guest kernel has no SELinux ([runtime] lsm_labels = \"error\")"
  [ "$(vcrun state e7 | jq -r .status)" = running ]
  vcrun delete --force e7
  assert_no_leftovers
}

@test "exec in a user namespace takes the container's capabilities and user" {
  set_config "$BUNDLE" "$REDUCED_CAPS"'
    | .linux.namespaces += [{"type":"user"},{"type":"cgroup"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]
    | .process.noNewPrivileges = true'
  start_container e8
  run vcrun exec -u 1000:1000 --cap CAP_KILL e8 sh -c 'grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status; id'
  assert_success
  assert_output $'CapBnd:\t0000000000002021\nNoNewPrivs:\t1\nuid=1000 gid=1000'
  vcrun delete --force e8
  assert_no_leftovers
}
