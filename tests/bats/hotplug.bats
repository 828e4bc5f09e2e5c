#!/usr/bin/env bats
# vhost-user devices hot-plugged into a running sandbox's q35 VM and out
# again (vmm/qemu_hotplug.c, through tests/tools/vchotplug): a second
# virtio-fs the guest mounts and reads, and a vhost-user-vsock device the
# guest sees on its virtio bus (the guest's driver serves one vsock device,
# so the second is only counted).  A template clone gets both this way.

bats_require_minimum_version 1.5.0
load helpers

VCHOTPLUG=${VCHOTPLUG:-$SRCDIR/build/tools/vchotplug}

setup_file() {
  [ -x "$VCHOTPLUG" ] || skip "build/tools/vchotplug is missing (make build/tools/vchotplug)"
  setup_bundle_template
}

# virtio_count ID HEX: how many virtio devices of that id the guest lists.
virtio_count() {
  vcrun exec c1 sh -c 'cat /sys/bus/virtio/devices/*/device' | grep -c "^$2\$" || true
}

# wait_virtio HEX N: polls (up to 20 s) until the guest lists N of them.
wait_virtio() {
  local i
  for i in $(seq 100); do
    [ "$(virtio_count c1 "$1")" -eq "$2" ] && return 0
    sleep 0.2
  done
  fail "the guest lists $(virtio_count c1 "$1") virtio devices $1, not $2"
}

@test "hotplug: virtio-fs and vhost-user-vsock into a running VM, and out" {
  set_args "$BUNDLE" sleep 1000
  set_config "$BUNDLE" '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] |
    .process.capabilities.effective += ["CAP_SYS_ADMIN"] |
    .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  vcrun_bg create --bundle "$BUNDLE" c1
  vcrun start c1
  local run
  run=$(run_dir_of c1)
  # One virtio-fs (0x001a) and one vsock (0x0013) from the start.
  [ "$(virtio_count c1 0x001a)" -eq 1 ]
  [ "$(virtio_count c1 0x0013)" -eq 1 ]

  mkdir -p "$BATS_TEST_TMPDIR/extra"
  echo "from the hot-plugged share" > "$BATS_TEST_TMPDIR/extra/hello"
  local virtiofsd backend
  virtiofsd=$(sed -n 's/^virtiofsd = "\(.*\)"/\1/p' "$VCRUN_CONFIG")
  backend=$(sed -n 's/^vsock_backend = "\(.*\)"/\1/p' "$VCRUN_CONFIG")
  "${virtiofsd:-/usr/lib/qemu/virtiofsd}" --socket-path="$run/extra-fs.sock" \
    -o source="$BATS_TEST_TMPDIR/extra" -o cache=auto -o sandbox=namespace \
    </dev/null >"$BATS_TEST_TMPDIR/virtiofsd.log" 2>&1 &
  "$backend" --vhost-user "$run/extra-vsock.sock" --hybrid "$run/extra-hybrid.sock" \
    --cid 9 </dev/null >"$BATS_TEST_TMPDIR/backend.log" 2>&1 &
  local i
  for i in $(seq 50); do
    [ -S "$run/extra-fs.sock" ] && [ -S "$run/extra-vsock.sock" ] && break
    sleep 0.1
  done

  run "$VCHOTPLUG" plug fs fs9 "$run/qmp.sock" "$run/extra-fs.sock" extra
  assert_success
  assert_output --regexp '^plugged fs9 in [0-9]+ ms$'
  wait_virtio 0x001a 2
  run vcrun exec c1 sh -c 'mount -t virtiofs extra /tmp && cat /tmp/hello && umount /tmp'
  assert_success
  assert_output "from the hot-plugged share"

  run "$VCHOTPLUG" plug vsock vs9 "$run/qmp.sock" "$run/extra-vsock.sock"
  assert_success
  wait_virtio 0x0013 2

  # The same id twice is QEMU's error, with nothing left half-added.
  run "$VCHOTPLUG" plug vsock vs9 "$run/qmp.sock" "$run/extra-vsock.sock"
  assert_failure
  assert_output --partial "hot-plug vhost-user-vsock-pci \`vs9\`"

  run "$VCHOTPLUG" unplug fs fs9 "$run/qmp.sock"
  assert_success
  wait_virtio 0x001a 1
  run "$VCHOTPLUG" unplug vsock vs9 "$run/qmp.sock"
  assert_success
  wait_virtio 0x0013 1
  # The container's own share still works.
  run vcrun exec c1 cat /proc/1/cmdline
  assert_success
  assert_output "sleep1000"
  vcrun delete --force c1
  assert_no_leftovers
}
