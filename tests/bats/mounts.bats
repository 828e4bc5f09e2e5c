#!/usr/bin/env bats
# Mounts and /dev as the OCI spec describes them, checked from inside the
# container: host paths bound in over the sandbox's virtio-fs share, the
# file systems and options of mounts[], maskedPaths, readonlyPaths, /dev.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  setup_bundle
  HOSTDIR="$BATS_TEST_TMPDIR/hostdir"
  mkdir -p "$HOSTDIR"
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
  grep -qF "$(run_dir_of m5)/shared" /proc/self/mountinfo || fail "the share is not mounted"
  run vcrun delete --force m5
  assert_success
  assert_no_leftovers
  [ -d "$HOSTDIR" ]
  [ -x "$BUNDLE/rootfs/bin/busybox" ]
}

# run_in CMD: runs sh -c CMD in a fresh container of $BUNDLE.
run_in() {
  set_args "$BUNDLE" sh -c "$1"
  run vcrun run -b "$BUNDLE" "c$BATS_TEST_NUMBER"
}

@test "proc is mounted on /proc" {
  run_in "$(mountinfo_of /proc); cat /proc/self/comm"
  assert_success
  assert_line --regexp ' /proc rw,.* - proc proc '
  assert_line cat
}

@test "sysfs is mounted read-only with nosuid,nodev,noexec" {
  run_in "$(mountinfo_of /sys); touch /sys/x 2>&1"
  assert_line --regexp ' /sys ro,nosuid,nodev,noexec,.* - sysfs '
  assert_output --partial 'Read-only file system'
}

@test "tmpfs takes size= and mode= as data and nosuid/strictatime as flags" {
  add_mount /scratch tmpfs tmpfs nosuid nodev strictatime mode=1750 size=2m
  run_in "$(mountinfo_of /scratch); stat -c %a /scratch; df -k /scratch | tail -1"
  assert_success
  assert_line --regexp ' /scratch rw,nosuid,nodev - tmpfs tmpfs rw,size=2048k,mode=1750'
  assert_line 1750
  assert_line --regexp '^tmpfs +2048 '
}

@test "devpts is a new instance with ptmxmode, mode and gid; /dev/ptmx points into it" {
  run_in "$(mountinfo_of /dev/pts); readlink /dev/ptmx; stat -c %a /dev/pts/ptmx"
  assert_success
  assert_line --regexp ' /dev/pts rw,nosuid,noexec,.* - devpts devpts rw,gid=5,mode=620,ptmxmode=666'
  assert_line pts/ptmx
  assert_line 666
}

@test "mqueue is mounted on /dev/mqueue and /dev/shm is a tmpfs" {
  run_in "$(mountinfo_of /dev/mqueue); $(mountinfo_of /dev/shm); echo x > /dev/shm/f && cat /dev/shm/f"
  assert_success
  assert_line --regexp ' /dev/mqueue rw,nosuid,nodev,noexec,.* - mqueue '
  assert_line --regexp ' /dev/shm rw,nosuid,nodev,noexec,.* - tmpfs shm rw,size=65536k'
  assert_line x
  run_in 'stat -c %a /dev/shm'
  assert_output 1777
}

@test "a cgroup mount is the guest's cgroup2, read-only, showing the container's own cgroup" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type": "cgroup"}]'
  run_in "$(mountinfo_of /sys/fs/cgroup); ls /sys/fs/cgroup/cgroup.procs; cat /proc/self/cgroup"
  assert_success
  assert_line --regexp ' /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 '
  assert_line /sys/fs/cgroup/cgroup.procs
  assert_line '0::/'
}

@test "/dev has the default devices and links" {
  # One line: set_args splits its arguments on newlines.
  run_in 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done; echo x > /dev/null && head -c 4 /dev/zero | wc -c; echo y 2>&1 >/dev/full'
  assert_line '/dev/null character special file 1:3 666'
  assert_line '/dev/zero character special file 1:5 666'
  assert_line '/dev/full character special file 1:7 666'
  assert_line '/dev/random character special file 1:8 666'
  assert_line '/dev/urandom character special file 1:9 666'
  assert_line '/dev/tty character special file 5:0 666'
  assert_line 'fd -> /proc/self/fd'
  assert_line 'stdin -> /proc/self/fd/0'
  assert_line 'stdout -> /proc/self/fd/1'
  assert_line 'stderr -> /proc/self/fd/2'
  assert_line 'ptmx -> pts/ptmx'
  assert_line 4
  assert_output --partial 'No space left on device'
}

@test "maskedPaths read empty: a file is /dev/null, a directory an empty read-only tmpfs" {
  run_in 'wc -c < /proc/kcore; ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>&1; grep " /proc/kcore " /proc/self/mountinfo'
  assert_line -n 0 0
  assert_line -n 1 0
  assert_output --partial 'Read-only file system'
  assert_output --regexp ' /null /proc/kcore rw,'

}

@test "readonlyPaths refuse writes" {
  run_in 'echo 1 > /proc/sys/kernel/domainname 2>&1; echo 1 > /proc/sysrq-trigger 2>&1; grep " /proc/sys " /proc/self/mountinfo'
  assert_output --partial 'Read-only file system'
  assert_output --regexp ' /proc/sys ro,'
}

@test "root.readonly makes / read-only; without it / is writable" {
  run_in 'touch /rootfile 2>&1; cut -d" " -f5,6 /proc/self/mountinfo | grep "^/ "'
  assert_output --partial 'Read-only file system'
  assert_line --regexp '^/ ro(,|$)'

  set_config "$BUNDLE" '.root.readonly = false'
  run_in 'touch /rootfile && echo written'
  assert_output written
  [ -e "$BUNDLE/rootfs/rootfile" ]
}

@test "propagation options: shared, slave and private show in mountinfo" {
  add_mount /p-shared tmpfs tmpfs shared
  add_mount /p-private tmpfs tmpfs private
  add_mount /p-bind bind "$HOSTDIR" rbind rshared
  run_in "$(mountinfo_of /p-shared); $(mountinfo_of /p-private); $(mountinfo_of /p-bind)"
  assert_success
  assert_line --regexp ' /p-shared rw[^ ]* shared:[0-9]+ - tmpfs '
  assert_line --regexp ' /p-private rw[^ ]* - tmpfs '
  assert_line --regexp ' /p-bind rw[^ ]* shared:[0-9]+ - virtiofs '
}

@test "rootfsPropagation sets the propagation of the container's root" {
  set_config "$BUNDLE" '.linux.rootfsPropagation = "shared"'
  run_in 'cut -d" " -f5,7 /proc/self/mountinfo | grep "^/ "'
  assert_success
  assert_output --regexp '^/ shared:[0-9]+$'

}

@test "noexec refuses to run a program; defaults, nosuid and nodev show as flags" {
  add_mount /nx tmpfs tmpfs defaults noexec nosuid nodev
  run_in "cp /bin/busybox /nx/bb && /nx/bb true; echo status=\$?; $(mountinfo_of /nx)"
  assert_line status=126
  assert_line --regexp ' /nx rw,nosuid,nodev,noexec,relatime - tmpfs '
}

@test "tmpcopyup gives a tmpfs a copy of the directory it covers" {
  mkdir -p "$BUNDLE/rootfs/seed/sub"
  echo seeded > "$BUNDLE/rootfs/seed/sub/file"
  ln -s sub/file "$BUNDLE/rootfs/seed/link"
  add_mount /seed tmpfs tmpfs tmpcopyup mode=755
  run_in "cat /seed/sub/file; readlink /seed/link; echo new > /seed/sub/file; $(mountinfo_of /seed)"
  assert_success
  assert_line seeded
  assert_line sub/file
  assert_line --regexp ' /seed rw,relatime - tmpfs '
  run cat "$BUNDLE/rootfs/seed/sub/file"
  assert_output seeded
}

@test "a bind mount with nosuid,nodev,noexec is remounted with them in the guest" {
  add_mount /flags bind "$HOSTDIR" bind nosuid nodev noexec
  run_in "$(mountinfo_of /flags)"
  assert_success
  assert_line --regexp ' /flags rw,nosuid,nodev,noexec,relatime - virtiofs '
}

@test "a mount the guest kernel refuses fails at create naming mounts[N], nothing left" {
  add_mount /data bind "$HOSTDIR" rbind
  add_mount /bad tmpfs tmpfs size=nonsense
  local n
  n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
  run vcrun create -b "$BUNDLE" m6
  assert_failure 1
  assert_output --partial "mounts[$n]: mount tmpfs on \`/bad\` with size=nonsense"
  assert_no_leftovers
}

@test "a destination through a symlink stays inside the rootfs" {
  ln -s ../../../../../run "$BUNDLE/rootfs/escape"
  add_mount /escape/x tmpfs tmpfs
  run_in "$(mountinfo_of /run/x)"
  assert_success
  assert_line --regexp ' /run/x rw,relatime - tmpfs '
  [ -d "$BUNDLE/rootfs/run/x" ]
}

@test "a relative bind source is relative to the bundle" {
  mkdir -p "$BUNDLE/shared-data"
  echo beside-config > "$BUNDLE/shared-data/f"
  add_mount /rel bind shared-data rbind
  run_in 'cat /rel/f'
  assert_success
  assert_output beside-config
  assert_no_leftovers
}

# runc_in CMD: as run_in, with runc 1.1.5 on the host, for comparison.
runc_in() {
  set_args "$BUNDLE" sh -c "$1"
  run runc --root "$STATE_ROOT/runc" run -b "$BUNDLE" "r$BATS_TEST_NUMBER" </dev/null
}

# A tmpfs at /base with another below it, then two rbinds of the rootfs's
# base directory: a source below the rootfs is seen, as with runc, in the
# container's mount namespace, so each rbind brings the sub-mount along.
# rootfs/base does not exist before the tmpfs mount makes it.
add_base_with_submount() {
  add_mount /base tmpfs tmpfs
  add_mount /base/sub tmpfs tmpfs
  add_mount /plain bind rootfs/base rbind ro
  add_mount /rec bind rootfs/base rbind "$@"
}

# Tries a write in each directory: "DIR ok" or "DIR refused".
try_writes() {
  echo "for d in $*; do touch \$d/w 2>/dev/null && echo \"\$d ok\" || echo \"\$d refused\"; done"
}

@test "rro makes an rbind's sub-mounts read-only too, ro only its top (as runc)" {
  add_base_with_submount rro
  local rt
  for rt in run_in runc_in; do
    $rt "$(try_writes /plain /plain/sub /rec /rec/sub)"
    assert_success
    assert_line '/plain refused'
    assert_line '/plain/sub ok'
    assert_line '/rec refused'
    assert_line '/rec/sub refused'
  done
}

@test "rnosuid, rnoexec, rnodev and rnoatime show in the sub-mount's mountinfo (as runc)" {
  add_base_with_submount rnosuid rnoexec rnodev rnoatime
  local rt
  for rt in run_in runc_in; do
    $rt "$(mountinfo_of /rec/sub); $(mountinfo_of /plain/sub)"
    assert_success
    assert_line --regexp ' /rec/sub rw,nosuid,nodev,noexec,noatime - tmpfs '
    assert_line --regexp ' /plain/sub rw,relatime - tmpfs '
  done
}

@test "rro and rnosuid act in a user namespace too" {
  set_config "$BUNDLE" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]'
  # The rootfs belongs to an unmapped id: its mount points made beforehand.
  mkdir -p "$BUNDLE/rootfs/base" "$BUNDLE/rootfs/plain" "$BUNDLE/rootfs/rec"
  add_base_with_submount rro rnosuid
  run_in "$(try_writes /plain/sub /rec/sub); $(mountinfo_of /rec/sub)"
  assert_success
  assert_line '/plain/sub ok'
  assert_line '/rec/sub refused'
  assert_line --regexp ' /rec/sub ro,nosuid,relatime - tmpfs '
}

@test "rrw and rexec clear what an earlier option set; the last atime option wins" {
  add_base_with_submount rro rnoexec rnoatime rrw rexec rstrictatime
  run_in "$(try_writes /rec/sub); $(mountinfo_of /rec/sub)"
  assert_success
  assert_line '/rec/sub ok'
  assert_line --regexp ' /rec/sub rw - tmpfs '
}

@test "rro and rnoexec on a host directory's bind (virtio-fs) refuse writes and programs" {
  cp /bin/busybox "$HOSTDIR/bb"
  add_mount /hostro bind "$HOSTDIR" rbind rro rnoexec
  run_in "$(try_writes /hostro); /hostro/bb true; echo status=\$?; $(mountinfo_of /hostro)"
  assert_success
  assert_line '/hostro refused'
  assert_line status=126
  assert_line --regexp ' /hostro ro,noexec,relatime - virtiofs '
  [ ! -e "$HOSTDIR/w" ]
}

@test "recursive options apply to other file systems too (runc 1.1 only binds)" {
  add_mount /t tmpfs tmpfs rro rnosuid rnoatime rnosymfollow
  run_in "$(try_writes /t); $(mountinfo_of /t)"
  assert_success
  assert_line '/t refused'
  assert_line --regexp ' /t ro,nosuid,noatime,nosymfollow - tmpfs '
}

@test "an unknown r-option stays mount data, as before" {
  add_mount /u tmpfs tmpfs rbogus
  run vcrun run -b "$BUNDLE" u1
  assert_failure 1
  assert_output --partial 'mount tmpfs on `/u` with rbogus'
  assert_no_leftovers
}

@test "a bind source below the rootfs that nothing made fails at create naming mounts[N].source" {
  add_mount /nowhere bind rootfs/not-there rbind
  local n
  n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
  run vcrun run -b "$BUNDLE" m7
  assert_failure 1
  assert_output --partial "mounts[$n].source \`rootfs/not-there\`: No such file or directory"
  assert_no_leftovers
}

@test "a rootfs whose /proc or /sys is a symlink is refused, as runc refuses it" {
  local dir fs rt
  for dir in proc sys; do
    fs=$dir
    [ "$dir" = sys ] && fs=sysfs
    rmdir "$BUNDLE/rootfs/$dir"
    ln -s tmp "$BUNDLE/rootfs/$dir"
    for rt in run_in runc_in; do
      $rt 'echo ran'
      assert_failure
      refute_line ran
      # runc's log escapes the quotes
      assert_output --regexp "filesystem \\\\?\"$fs\\\\?\" must be mounted on ordinary directory"
    done
    rm "$BUNDLE/rootfs/$dir"
    mkdir "$BUNDLE/rootfs/$dir"
  done
  [ -z "$(ls -A "$BUNDLE/rootfs/tmp")" ]
  rm -rf "$STATE_ROOT/runc"
  assert_no_leftovers
}

@test "rootfsPropagation unbindable and runbindable: the container's root cannot be bound (EINVAL)" {
  # runc 1.1.5 leaves the root bindable (see docs/deviations.md); crun and
  # runtime-tools' validation expect EINVAL.
  set_config "$BUNDLE" '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
  mkdir -p "$BUNDLE/rootfs/t"
  local prop
  for prop in unbindable runbindable; do
    set_config "$BUNDLE" ".linux.rootfsPropagation = \"$prop\""
    run_in "cut -d\" \" -f5,7 /proc/self/mountinfo | grep \"^/ \"; mount --rbind / /t 2>&1; echo status=\$?"
    assert_success
    assert_line '/ unbindable'
    assert_line --partial 'Invalid argument'
    refute_line status=0
  done
}

@test "rbind with ro: a host sub-mount below the source is read-only too (runc: only the top; see docs/deviations.md)" {
  mkdir -p "$HOSTDIR/sub"
  mount -t tmpfs tmpfs "$HOSTDIR/sub"
  add_mount /data bind "$HOSTDIR" rbind ro
  run_in "$(try_writes /data /data/sub)"
  local vcrun_output=$output
  runc_in "$(try_writes /data /data/sub)"
  local runc_output=$output
  umount "$HOSTDIR/sub"
  [ "$runc_output" = "$(printf '/data refused\n/data/sub ok')" ]
  [ "$vcrun_output" = "$(printf '/data refused\n/data/sub refused')" ]
}
