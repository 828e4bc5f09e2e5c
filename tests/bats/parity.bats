#!/usr/bin/env bats
# Behaviours where vcrun once differed from runc 1.1.5 on the same bundle:
# device rules in the guest's cgroup, seccomp's ENOSYS for syscalls newer
# than the profile and startContainer hooks under the filter, the owner of a
# non-root process's terminal, exec into a container with a user namespace,
# and a read-only /dev.  Where runc is installed, each is run with runc too
# and the answers compared.

bats_require_minimum_version 1.5.0
load helpers

SYSCALL_ERRNO=${SYSCALL_ERRNO:-$SRCDIR/build/tools/syscall-errno}

teardown() {
  [ -n "${CONTAINER:-}" ] && vcrun delete --force "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "${RUNC_ROOT:-}" ]; then
    runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  fi
  [ -z "${RUNC_BUNDLE_DIR:-}" ] || rm -rf "$RUNC_BUNDLE_DIR"
  teardown_state_root
}

have_runc() {
  command -v runc >/dev/null || return 1
  RUNC_ROOT="$BATS_TEST_TMPDIR/runc"
}

# same_in_runc_run: `runc run` of $BUNDLE must print $output (vcrun's).
same_in_runc_run() {
  have_runc || return 0
  local ours=$output
  run runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" r1 </dev/null
  runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  [ "$output" = "$ours" ] || fail "runc gave:
$output
vcrun gave:
$ours"
}

# start_container ID: a running container of $BUNDLE.
start_container() {
  CONTAINER=$1
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" "$1"
  vcrun start "$1"
}

# /dev/kmsg in the container, which no default rule allows.
KMSG='.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
WRITE_KMSG='{ echo x > /dev/kmsg && echo kmsg written; } 2>&1; echo x > /dev/null && echo null written'

@test "linux.resources.devices: deny-all holds in the guest, runc's default devices stay allowed" {
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": false, "access": "rwm"}]'
  in_container "$WRITE_KMSG"
  assert_success
  assert_output "sh: can't create /dev/kmsg: Operation not permitted
null written"
  same_in_runc_run
  assert_no_leftovers
}

@test "linux.resources.devices: an allow rule grants just its access" {
  # CAP_SYSLOG, so that only the device rule can refuse reading the log.
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]
    | .process.capabilities |= with_entries(.value += ["CAP_SYSLOG"])'
  # Written in the guest's kernel log only: not compared with runc, whose
  # write would reach the host's.
  local read_kmsg='head -c 1 /dev/kmsg >/dev/null 2>&1 && echo kmsg read || echo kmsg refused'
  in_container "$WRITE_KMSG; $read_kmsg"
  assert_success
  assert_output "kmsg written
null written
kmsg refused"
  set_config "$BUNDLE" '.linux.resources.devices[1].access = "rw"'
  in_container "$read_kmsg"
  assert_output "kmsg read"
}

@test "update: new linux.resources.devices replace the container's rules" {
  set_config "$BUNDLE" "$KMSG"' | .linux.resources.devices = [{"allow": true, "access": "rwm"}]'
  start_container dv3
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output "kmsg written
null written"
  echo '{"devices": [{"allow": false, "access": "rwm"}]}' > "$BATS_TEST_TMPDIR/r.json"
  run vcrun update -r "$BATS_TEST_TMPDIR/r.json" dv3
  assert_success
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output "sh: can't create /dev/kmsg: Operation not permitted
null written"
  # A rule update without devices leaves them as they are.
  run vcrun update --pids-limit 100 dv3
  assert_success
  run vcrun exec dv3 sh -c "$WRITE_KMSG"
  assert_output --partial "Operation not permitted"
  vcrun delete --force dv3
  assert_no_leftovers
}

@test "update: a device rule cgroup v1 could not apply is refused naming it" {
  start_container dv4
  echo '{"devices": [{"allow": true, "type": "q", "access": "rwm"}]}' > "$BATS_TEST_TMPDIR/r.json"
  run vcrun update -r "$BATS_TEST_TMPDIR/r.json" dv4
  assert_failure
  assert_output --partial 'linux.resources.devices[0].type: must be "a", "c" or "b"'
  vcrun delete --force dv4
  assert_no_leftovers
}

# A default-deny profile with what a static binary (and runc's init, after
# it loads the filter) needs.  The last syscall it names is rseq (334).
ALLOW_FEW='.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "syscalls": [{"action": "SCMP_ACT_ALLOW", "names": ["arch_prctl", "brk",
    "clone", "close", "dup3", "epoll_ctl", "epoll_pwait", "execve", "exit",
    "exit_group", "faccessat", "fcntl", "fstat", "fstatfs", "futex",
    "getdents64", "getpid", "getppid", "getrandom", "gettid", "kill", "lseek",
    "madvise", "mmap", "mprotect", "munmap", "nanosleep", "newfstatat",
    "openat", "pipe2", "pread64", "prlimit64", "read", "readlink",
    "readlinkat", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
    "sched_getaffinity", "sched_yield", "set_robust_list", "set_tid_address",
    "sigaltstack", "statfs", "tgkill", "uname", "wait4", "waitid", "write"]}]}'

@test "seccomp: a syscall newer than any the profile names gets ENOSYS, an older one the default errno" {
  [ -x "$SYSCALL_ERRNO" ] || fail "build $SYSCALL_ERRNO first (make build/tools/syscall-errno)"
  cp "$SYSCALL_ERRNO" "$BUNDLE/rootfs/bin/syscall-errno"
  set_config "$BUNDLE" "$ALLOW_FEW"
  # 1000: no such syscall; 435: clone3, after rseq; 163: acct, before it.
  set_args "$BUNDLE" /bin/syscall-errno 1000 435 163
  run vcrun run --bundle "$BUNDLE" sc1 </dev/null
  assert_success
  assert_output "1000 38
435 38
163 1"
  same_in_runc_run
  assert_no_leftovers
}

@test "seccomp: a startContainer hook runs under the filter" {
  set_config "$BUNDLE" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
    | .hooks.startContainer = [{"path": "/bin/mkdir", "args": ["mkdir", "/tmp/hook"]}]'
  set_args "$BUNDLE" echo started
  run vcrun run --bundle "$BUNDLE" sc2 </dev/null
  assert_failure 1
  assert_output --partial "error running hook #0: error running hook: signal: bad system call"
  refute_output --partial started
  if have_runc; then
    run runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" r1 </dev/null
    assert_failure
    assert_output --partial "error running hook #0: error running hook: signal: bad system call"
  fi
  assert_no_leftovers
}

# tty_owner: the "uid gid" line in $output (a terminal's, with \r and noise).
tty_owner() {
  grep -o '[0-9][0-9]* [0-9][0-9]*' <<<"$output" | head -1
}

@test "the terminal of a non-root process is the process's, for run and exec -t" {
  set_config "$BUNDLE" '.process.terminal = true | .process.user = {"uid": 1000, "gid": 1000}'
  set_args "$BUNDLE" sh -c 'stat -c "%u %g" $(tty)'
  run vcrun run --bundle "$BUNDLE" tt1 </dev/null
  assert_success
  [ "$(tty_owner)" = "1000 5" ] || fail "run: terminal owned by $(tty_owner): $output"
  set_config "$BUNDLE" '.process.terminal = false'
  start_container tt2
  run vcrun exec -t tt2 sh -c 'stat -c "%u %g" $(tty)' </dev/null
  assert_success
  [ "$(tty_owner)" = "1000 5" ] || fail "exec -t: terminal owned by $(tty_owner): $output"
  vcrun delete --force tt2
  if have_runc; then
    # runc's terminal needs one of its own: script(1) lends it.
    set_config "$BUNDLE" '.process.terminal = true'
    set_args "$BUNDLE" sh -c 'stat -c "%u %g" $(tty)'
    run script -qec "runc --root $RUNC_ROOT run --bundle $BUNDLE r1" /dev/null </dev/null
    [ "$(tty_owner)" = "1000 5" ] || fail "runc run: $output"
    runc --root "$RUNC_ROOT" delete --force r1 >/dev/null 2>&1 || true
  fi
  assert_no_leftovers
}

@test "exec into a container with a user namespace and no cgroup namespace" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  start_container un1
  local cmd='awk "{print \$1, \$2, \$3}" /proc/self/uid_map; id -u; id -g; echo x > /dev/null && echo null'
  run vcrun exec un1 sh -c "$cmd"
  assert_success
  assert_output "0 100000 65536
0
0
null"
  # A terminal made there is the namespace root's, handed to --user.
  run vcrun exec -t --user 1000:1000 un1 sh -c 'stat -c "%u %g" $(tty)' </dev/null
  assert_success
  [ "$(tty_owner)" = "1000 5" ] || fail "exec -t in the user namespace: $output"
  vcrun delete --force un1
  if have_runc; then
    # runc's container runs as host uid 100000, which must reach the
    # rootfs: bats' own temporary directories are private.
    RUNC_BUNDLE_DIR=$(mktemp -d /tmp/vcr-runc.XXXXXX)
    chmod 755 "$RUNC_BUNDLE_DIR"
    cp -a "$BUNDLE" "$RUNC_BUNDLE_DIR/bundle"
    runc --root "$RUNC_ROOT" run -d --bundle "$RUNC_BUNDLE_DIR/bundle" r1 </dev/null >/dev/null 2>&1
    run runc --root "$RUNC_ROOT" exec r1 sh -c "$cmd"
    assert_output "0 100000 65536
0
0
null"
  fi
  assert_no_leftovers
}

@test "a read-only /dev is filled first, then made read-only" {
  set_config "$BUNDLE" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)
    | .linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  in_container 'touch /dev/x 2>&1; ls /dev/pts/ptmx /dev/fuse /dev/null; grep " /dev " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1'
  assert_success
  assert_output "touch: /dev/x: Read-only file system
/dev/fuse
/dev/null
/dev/pts/ptmx
ro"
  same_in_runc_run
  assert_no_leftovers
}
