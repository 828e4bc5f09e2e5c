#!/bin/sh
# Builds a busybox OCI image archive with no network: busybox-static in a
# rootfs, packed by umoci into an OCI layout, then tarred (oci-archive).
# usage: make-image.sh WORKDIR OUT.tar [NAME [CMD...]]
#   (default name localhost/vcrun-busybox:test, default command /bin/sh)
set -eu
work=$1 out=$2
name=${3:-localhost/vcrun-busybox:test}
shift 2
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- /bin/sh
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-image: $bb missing (busybox-static)" >&2; exit 1; }
rm -rf "$work/rootfs" "$work/layout"
mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/etc"
cp "$bb" "$work/rootfs/bin/busybox"
for app in $("$bb" --list); do
  [ "$app" = busybox ] || ln -sf busybox "$work/rootfs/bin/$app"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"
umoci init --layout "$work/layout"
umoci new --image "$work/layout:test"
umoci insert --rootless --image "$work/layout:test" "$work/rootfs" / >/dev/null
cmd_flags=
for arg in "$@"; do cmd_flags="$cmd_flags --config.cmd $arg"; done
# shellcheck disable=SC2086
umoci config --image "$work/layout:test" $cmd_flags \
  --config.env PATH=/bin:/usr/bin:/sbin --config.workingdir /
# containerd and podman read the name from this annotation.
idx="$work/layout/index.json"
jq --arg name "$name" '.manifests[0].annotations["org.opencontainers.image.ref.name"] = $name' \
  "$idx" > "$idx.new" && mv "$idx.new" "$idx"
tar -C "$work/layout" -cf "$out" .
