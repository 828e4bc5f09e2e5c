#!/bin/sh
# Installs every Debian package vcrun needs to build, run and test.
# Does nothing (and needs no network) when they are all present already.
set -eu
PKGS="build-essential autoconf pkg-config git cpio ca-certificates
  libyajl-dev libseccomp-dev libcap-dev libmnl-dev
  qemu-system-x86 busybox-static xz-utils lz4 zstd
  bats bats-assert bats-support
  clang libclang-rt-14-dev
  runc crun go-md2man jq
  containerd podman conmon umoci containernetworking-plugins
  python3-grpcio python3-grpc-tools protobuf-compiler"

missing=""
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages:$missing; run as root (apt-get install)" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
