#!/bin/sh
# Runs a busybox container in a VM with the installed vcrun and prints the
# guest kernel's version from inside it.
set -eu
VCRUN=${1:-vcrun}
dir=$(mktemp -d /tmp/vcrun-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/"
for a in sh uname echo; do ln -s busybox "$dir/rootfs/bin/$a"; done
cd "$dir"
"$VCRUN" spec
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo \"container kernel: $(uname -r)\""]' \
  config.json > config.json.new && mv config.json.new config.json
echo "host kernel:      $(uname -r)"
"$VCRUN" run demo-$$
