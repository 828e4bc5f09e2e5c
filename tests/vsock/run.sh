#!/bin/sh
# End-to-end test of the vhost-user-vsock back-end with a real QEMU: builds
# vcrun-vsock-backend (with ASan/UBSan), the host driver and a static guest /init,
# packs a test initramfs and runs tests/vsock/stress.c.  Exits non-zero on
# failure; leaves no QEMU or socket behind (the driver kills its children on
# every exit path, they also die with it, and the run dir is removed).
#   tests/vsock/run.sh            the test
#   tests/vsock/run.sh --bench    throughput and latency figures instead,
#                                 beside a virtio-serial port on the same VM
set -eu
cd "$(dirname "$0")/../.."
OUT=build/vsock-test
GUEST=build/guest
mkdir -p "$OUT"

CFLAGS="-std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -I."
SRCS="vmm/virtqueue.c vmm/vhost_user.c vmm/vsock_device.c vmm/vsock_backend.c vmm/hybrid_vsock.c vmm/console_log.c lib/base/error.c lib/base/util.c lib/host/process.c"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
if [ "${1:-}" = "--bench" ]; then SAN=""; fi
# shellcheck disable=SC2086
cc $CFLAGS $SAN -o "$OUT/vcrun-vsock-backend" vmm/vsock_backend_main.c $SRCS
# shellcheck disable=SC2086
cc $CFLAGS -Itests/vsock -o "$OUT/stress" tests/vsock/stress.c $SRCS
cc -static -O2 -Wall -Wextra -Werror -Itests/vsock -o "$OUT/init" tests/vsock/guest.c

[ -f "$GUEST/vmlinux" ] || { echo "missing $GUEST/vmlinux: ./scripts/build-guest.sh kernel $GUEST" >&2; exit 1; }
rm -rf "$OUT/root"
mkdir -p "$OUT/root/modules"
cp "$OUT/init" "$OUT/root/init"
: > "$OUT/root/modules/load.order"
for m in virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev \
         virtio_pci vsock vmw_vsock_virtio_transport_common \
         vmw_vsock_virtio_transport; do
  cp "$GUEST/modules/$m.ko" "$OUT/root/modules/"
  echo "$m.ko" >> "$OUT/root/modules/load.order"
done
# --bench compares a virtio-serial port on the same VM.
if [ "${1:-}" = "--bench" ]; then
  [ -f "$GUEST/test-modules/virtio_console.ko" ] ||
    { echo "missing $GUEST/test-modules/virtio_console.ko: make guest" >&2; exit 1; }
  cp "$GUEST/test-modules/virtio_console.ko" "$OUT/root/modules/"
  echo virtio_console.ko >> "$OUT/root/modules/load.order"
fi
(cd "$OUT/root" && find . | cpio -o -H newc --quiet) > "$OUT/test.cpio"

RUN=$(mktemp -d /tmp/vsock-e2e.XXXXXX)
keep_logs() {
  rc=$?
  if [ $rc -ne 0 ]; then
    for f in backend.log qemu.log serial.log; do
      [ -s "$RUN/$f" ] && { echo "--- $f"; tail -30 "$RUN/$f"; }
    done
  fi
  rm -rf "$RUN"
  exit $rc
}
trap keep_logs EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
timeout -k 5 150 "$OUT/stress" --backend "$OUT/vcrun-vsock-backend" \
  --kernel "$GUEST/vmlinux" --initrd "$OUT/test.cpio" --dir "$RUN" "$@"
