#!/bin/sh
# Builds the guest image from Debian's cloud kernel.
#   build-guest.sh kernel OUTDIR          -> OUTDIR/vmlinux, OUTDIR/modules/
#   build-guest.sh initrd OUTDIR AGENT    -> OUTDIR/initramfs.cpio
# The kernel package is resolved through the meta package and cached in
# OUTDIR/cache, so a rebuild needs no network.
set -eu
what=$1
out=$2
mkdir -p "$out/cache"
out=$(cd "$out" && pwd)

# Modules the agent needs; their dependencies come from modules.dep.  Ones
# the kernel has built in (modules.builtin) are skipped.
MODULES="virtio_pci virtio_mmio vmw_vsock_virtio_transport virtiofs overlay"
# Modules the agent loads only for a sandbox with NICs (agent/network.c),
# listed in OUTDIR/modules/net.order after those of load.order they need
# (failover and net_failover come in as virtio_net's dependencies).
NET_MODULES="virtio_net"
# Modules only tests load (tests/vsock --bench compares virtio-serial), kept
# in OUTDIR/test-modules, out of the agent's initramfs.  Their dependencies
# must be among the agent's.
TEST_MODULES="virtio_console"

# Tries each compressor's magic at each place it occurs; keeps the first
# stream that decompresses to an ELF image.
extract_vmlinux() {
  for pair in '\xfd7zXZ\x00:xz -dc' '\x02\x21\x4c\x18:lz4 -dc' '\x28\xb5\x2f\xfd:zstd -dc' '\x1f\x8b\x08:gzip -dc'; do
    magic=${pair%%:*}
    tool=${pair#*:}
    command -v "${tool%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$1" | cut -d: -f1 | head -5); do
      tail -c +$((off + 1)) "$1" | $tool > "$2" 2>/dev/null || true
      if [ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = "177ELF" ]; then
        return 0
      fi
    done
  done
  echo "build-guest: cannot extract vmlinux from $1 (install xz-utils, lz4, zstd)" >&2
  exit 1
}

# copy_module NAME DIR: DIR/NAME.ko, uncompressed; returns 1 when the
# kernel has NAME built in.
copy_module() {
  f=$(find "$moddir/kernel" -name "$1.ko" -o -name "$1.ko.xz" | head -1)
  if [ -z "$f" ]; then
    grep -qE "/$1\.ko\$" "$moddir/modules.builtin" 2>/dev/null && return 1
    echo "build-guest: module $1 not found" >&2
    exit 1
  fi
  case "$f" in *.xz) xz -dc "$f" > "$2/$1.ko" ;; *) cp "$f" "$2/$1.ko" ;; esac
}

# add_module NAME: copies NAME.ko and, first, the modules it depends on (the
# "depends=" field of its .modinfo), so that $order (load.order by default)
# lists every module after its dependencies.  No depmod needed: the package
# ships no modules.dep.
add_module() {
  case "$added" in *" $1 "*) return 0 ;; esac
  copy_module "$1" "$out/modules" || return 0
  deps=$(LC_ALL=C grep -a -o 'depends=[A-Za-z0-9_,-]*' "$out/modules/$1.ko" | head -1 | cut -d= -f2 | tr ',' ' ')
  for d in $deps; do
    add_module "$d"
  done
  echo "$1.ko" >> "$out/modules/$order"
  added="$added$1 "
}

kernel() {
  cd "$out/cache"
  if [ ! -f pkg.name ]; then
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\).*/\1/p' | head -1)
    if [ -z "$pkg" ]; then
      apt-get update -qq && pkg=$(apt-cache depends linux-image-cloud-amd64 |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\).*/\1/p' | head -1)
    fi
    [ -n "$pkg" ] || { echo "build-guest: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }
    echo "$pkg" > pkg.name
  fi
  pkg=$(cat pkg.name)
  if ! ls "$pkg"_*.deb >/dev/null 2>&1; then
    echo "build-guest: downloading $pkg"
    apt-get download "$pkg" >/dev/null
  fi
  rm -rf root && mkdir root
  dpkg-deb -x "$pkg"_*.deb root
  vmlinuz=$(ls root/boot/vmlinuz-* | head -1)
  kver=${vmlinuz##*/vmlinuz-}
  # Unpack the bzImage's payload (Debian has used XZ and LZ4) so the VMM
  # boots the uncompressed ELF (PVH) and skips a slow decompression under TCG.
  extract_vmlinux "$vmlinuz" "$out/vmlinux.tmp"
  mv "$out/vmlinux.tmp" "$out/vmlinux"
  rm -rf "$out/modules" && mkdir -p "$out/modules"
  : > "$out/modules/load.order"
  moddir=root/lib/modules/$kver
  added=" "
  order=load.order
  for m in $MODULES; do
    add_module "$m"
  done
  : > "$out/modules/net.order"
  order=net.order
  for m in $NET_MODULES; do
    add_module "$m"
  done
  rm -rf "$out/test-modules" && mkdir -p "$out/test-modules"
  for m in $TEST_MODULES; do
    copy_module "$m" "$out/test-modules" || true
  done
  echo "$kver" > "$out/kernel.release"
  rm -rf root
  echo "build-guest: $out/vmlinux ($kver), $(wc -l < "$out/modules/load.order") modules"
}

initrd() {
  agent=$3
  stage="$out/initrd.stage"
  rm -rf "$stage"
  mkdir -p "$stage/lib/modules" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/run" "$stage/tmp"
  cp "$agent" "$stage/init"
  chmod 0755 "$stage/init"
  cp "$out/modules/"*.ko "$out/modules/load.order" "$out/modules/net.order" "$stage/lib/modules/"
  (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/initramfs.cpio.tmp"
  mv "$out/initramfs.cpio.tmp" "$out/initramfs.cpio"
  rm -rf "$stage"
  echo "build-guest: $out/initramfs.cpio ($(du -k "$out/initramfs.cpio" | cut -f1) KiB)"
}

case "$what" in
  kernel) kernel ;;
  initrd) initrd "$@" ;;
  *) echo "usage: build-guest.sh kernel|initrd OUTDIR [AGENT]" >&2; exit 2 ;;
esac
