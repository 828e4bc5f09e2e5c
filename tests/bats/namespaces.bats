#!/usr/bin/env bats
# Namespaces seen from inside the container: which are new, user namespace
# mappings, the new network namespace's lo, the cgroup namespace's root.

bats_require_minimum_version 1.5.0
load helpers

# Two containers, run once for the whole file; each @test reads its lines.
#  shared.out: no pid namespace, so /proc/1 is the guest's init (the agent)
#              and each namespace can be compared with the agent's.
#  user.out:   the default namespaces plus user (0 -> 100000, 65536 ids)
#              and cgroup.
setup_file() {
  setup_bundle_template
  setup_state_root
  export NS_DIR="$BATS_FILE_TMPDIR"
  BUNDLE="$NS_DIR/bundle"
  cp -a "$BUNDLE_TEMPLATE" "$BUNDLE"
  # CAP_SYS_PTRACE: reading the agent's /proc/1/ns/* needs it.
  set_config "$BUNDLE" '.linux.namespaces = [{"type":"mount"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"cgroup"}]
    | .process.capabilities |= with_entries(.value += ["CAP_SYS_PTRACE"])'
  cat > "$BUNDLE/rootfs/shared.sh" <<'SH'
    for ns in net ipc uts cgroup pid mnt user; do
      agent=$(readlink /proc/1/ns/$ns) || { echo "$ns unreadable"; continue; }
      if [ "$(readlink /proc/self/ns/$ns)" = "$agent" ]; then
        echo "$ns shared"; else echo "$ns new"; fi
    done
    echo "links $(ls /sys/class/net | tr '\n' ' ')"
    ip link show lo | head -1
    echo "cgroup $(cat /proc/self/cgroup)"
SH
  set_args "$BUNDLE" sh /shared.sh
  vcrun run --bundle "$BUNDLE" ns1 > "$NS_DIR/shared.out" 2>&1 || true
  set_config "$BUNDLE" '.linux.namespaces += [{"type":"user"},{"type":"pid"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]'
  cat > "$BUNDLE/rootfs/user.sh" <<'SH'
    echo "uid_map $(awk '{print $1, $2, $3}' /proc/self/uid_map)"
    echo "gid_map $(awk '{print $1, $2, $3}' /proc/self/gid_map)"
    echo "id $(id)"
    echo "pid $$"
    echo "devnull $(echo x > /dev/null && echo writable)"
SH
  set_args "$BUNDLE" sh /user.sh
  vcrun run --bundle "$BUNDLE" ns2 > "$NS_DIR/user.out" 2>&1 || true
  teardown_state_root
}

setup() {
  setup_bundle
}

@test "network namespace: new, only lo, and lo is up" {
  run cat "$NS_DIR/shared.out"
  assert_line "net new"
  assert_line "links lo "
  assert_line --regexp '^1: lo: <LOOPBACK,UP,LOWER_UP>'
}

@test "ipc namespace: new when listed" {
  run cat "$NS_DIR/shared.out"
  assert_line "ipc new"
}

@test "uts namespace: new when listed" {
  run cat "$NS_DIR/shared.out"
  assert_line "uts new"
}

@test "cgroup namespace: new, and the container's cgroup is its root" {
  run cat "$NS_DIR/shared.out"
  assert_line "cgroup new"
  assert_line "cgroup 0::/"
}

@test "mount namespace: always new" {
  run cat "$NS_DIR/shared.out"
  assert_line "mnt new"
}

@test "pid namespace: shared with the guest when not listed, new (pid 1) when listed" {
  run cat "$NS_DIR/shared.out"
  assert_line "pid shared"
  run cat "$NS_DIR/user.out"
  assert_line "pid 1"
}

@test "user namespace: shared when not listed" {
  run cat "$NS_DIR/shared.out"
  assert_line "user shared"
}

@test "user namespace: uid and gid mappings applied, the process is root inside" {
  run cat "$NS_DIR/user.out"
  assert_line "uid_map 0 100000 65536"
  assert_line "gid_map 0 200000 65536"
  assert_line --regexp '^id uid=0\(root\) gid=0\(root\)'
  assert_line "devnull writable"
}

@test "a user namespace without mappings fails at create naming the field" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type":"user"}]'
  run vcrun_bg create --bundle "$BUNDLE" ns3
  assert_failure 1
  assert_output --partial "linux.uidMappings: a user namespace needs uid and gid mappings"
  assert_no_leftovers
}

@test "joining a host namespace by path is refused at create naming the field" {
  # Namespaces of other containers in the sandbox: pods.bats.
  set_config "$BUNDLE" '.linux.namespaces = [{"type":"mount"},{"type":"ipc","path":"/proc/1/ns/ipc"}]'
  run vcrun_bg create --bundle "$BUNDLE" ns4
  assert_failure 1
  assert_output --partial "config.json: linux.namespaces[1].path: \`/proc/1/ns/ipc\` is not a namespace of a container in this sandbox"
  assert_no_leftovers
}

@test "exec joins the container's user namespace" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type":"user"},{"type":"cgroup"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]'
  set_args "$BUNDLE" sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  vcrun_bg create --bundle "$BUNDLE" ns5
  vcrun start ns5
  run vcrun exec ns5 sh -c 'awk "{print \$1, \$2, \$3}" /proc/self/uid_map; id -u'
  assert_success
  assert_output "0 100000 65536
0"
  vcrun delete --force ns5
  assert_no_leftovers
}

@test "a cgroup mount in a user namespace without a cgroup namespace binds the container's own cgroup" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type":"user"}]
    | .linux.cgroupsPath = "/vctest/ns6"
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]'
  cat > "$BUNDLE/rootfs/cg.sh" <<'SH'
    grep " /sys/fs/cgroup " /proc/self/mountinfo
    cat /proc/self/cgroup
    grep -qx "$$" /sys/fs/cgroup/cgroup.procs && echo "own pid listed"
    ls /sys/fs/cgroup/cgroup.procs
    touch /sys/fs/cgroup/x 2>&1 || true
SH
  set_args "$BUNDLE" sh /cg.sh
  run vcrun run --bundle "$BUNDLE" ns6 </dev/null
  assert_success
  assert_line --regexp '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ /vctest/ns6 /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime .*- cgroup2 '
  assert_line '0::/vctest/ns6'
  assert_line 'own pid listed'
  assert_line /sys/fs/cgroup/cgroup.procs
  assert_output --partial 'Read-only file system'
  assert_no_leftovers
}
