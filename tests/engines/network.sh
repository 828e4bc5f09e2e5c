# The pod network under the engines, sourced by tests/engines/run.sh (its
# ok/fail/check, ctr_run_fg, $T, $IMG and the podman configuration).
# Namespaces made here only (addresses in 10.x; podman's bridge is made by
# CNI inside a namespace of ours), so the host's network is untouched.

NETNS_CTR=vce-ctr$$
NETNS_GW=vce-gw$$
NETNS_PM=vce-pm$$

netns_cleanup() {
  ip netns del "$NETNS_CTR" 2>/dev/null
  ip netns del "$NETNS_GW" 2>/dev/null
  ip netns del "$NETNS_PM" 2>/dev/null
}

# What vcrun makes in a namespace (taps, ingress qdiscs) is gone.
netns_clean() {
  ! ip -n "$1" link show 2>/dev/null | grep -q '_vc' &&
    ! tc -n "$1" qdisc show 2>/dev/null | grep -q ingress
}

# ctr run --with-ns network:<netns>: the CRI shape, a namespace populated
# before create; the container pings and fetches a file from the peer.
ctr_network() {
  local out httpd
  ip netns add "$NETNS_CTR" && ip netns add "$NETNS_GW" || { fail "ctr network: netns"; return; }
  ip -n "$NETNS_CTR" link set lo up
  ip -n "$NETNS_CTR" link add eth0 type veth peer name gw0 netns "$NETNS_GW"
  ip -n "$NETNS_GW" link set gw0 up
  ip -n "$NETNS_GW" addr add 10.201.0.1/24 dev gw0
  ip -n "$NETNS_CTR" link set eth0 up
  ip -n "$NETNS_CTR" addr add 10.201.0.2/24 dev eth0
  ip -n "$NETNS_CTR" route add default via 10.201.0.1
  mkdir -p "$T/www" && echo from-the-peer > "$T/www/hello"
  nsenter --net="/run/netns/$NETNS_GW" busybox httpd -f -p 10.201.0.1:8080 -h "$T/www" 3>&- &
  httpd=$!
  out=$(ctr_run --rm --with-ns "network:/run/netns/$NETNS_CTR" "$IMG" c-net sh -c \
    'ip -o addr show eth0; ip route; ping -c 1 -W 5 10.201.0.1 >/dev/null && echo ping-ok; wget -qO- http://10.201.0.1:8080/hello' 2>&1)
  kill "$httpd" 2>/dev/null
  if echo "$out" | grep -q 'eth0 *inet 10\.201\.0\.2/24' &&
     echo "$out" | grep -q '^default via 10\.201\.0\.1' &&
     echo "$out" | grep -qx ping-ok && echo "$out" | grep -qx from-the-peer; then
    ok "ctr run --with-ns network: eth0 10.201.0.2 in the VM reaches the peer (ping, HTTP)"
  else fail "ctr run --with-ns network" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
  check "ctr run --with-ns network: delete leaves the namespace as it was" netns_clean "$NETNS_CTR"
}

# podman's bridge network (CNI) in a network and mount namespace of its
# own, with a private /run (podman's netns files) and /var/lib/cni (IPAM
# leases): a container reaches the bridge gateway; a pod's member shares
# the infra container's eth0.
podman_network() {
  ip netns add "$NETNS_PM" || { fail "podman network: netns"; return; }
  cat > "$T/pmnet.sh" <<EOF
set -u
mount -t tmpfs tmpfs /run && mkdir -p /var/lib/cni && mount -t tmpfs tmpfs /var/lib/cni || exit 1
ip link set lo up
pm() { CONTAINERS_CONF="$T/pm/containers.conf" podman --root "$T/pm/root" --runroot "$T/pm/run" \
  --storage-driver vfs --runtime vcrun "\$@"; }
out=\$(pm run --rm --network bridge --cap-add NET_RAW "$IMG" sh -c \
  'ip -o addr show eth0; ip route; ping -c 1 -W 5 10.88.0.1 >/dev/null && echo ping-ok' 2>&1)
if echo "\$out" | grep -q 'eth0 *inet 10\.88\.' && echo "\$out" | grep -q '^default via 10\.88\.0\.1' &&
   echo "\$out" | grep -qx ping-ok; then
  echo "ok podman run --network bridge: eth0 on 10.88/16 in the VM reaches the bridge gateway"
else echo "FAIL podman run --network bridge: \$(echo "\$out" | tail -n 5 | tr '\n' ' ')"; fi
if pm pod create --network bridge --name npod --infra-image "$IMG" --infra-command "sleep 1000" >/dev/null 2>&1 &&
   pm run -d --name n-member --pod npod "$IMG" sleep 300 >/dev/null 2>&1; then
  infra=\$(pm pod inspect -f '{{.InfraContainerID}}' npod)
  a=\$(pm exec "\$infra" ip -o addr show eth0 2>&1 | grep -o 'inet [0-9./]*')
  b=\$(pm exec n-member ip -o addr show eth0 2>&1 | grep -o 'inet [0-9./]*')
  if [ -n "\$a" ] && [ "\$a" = "\$b" ]; then
    echo "ok podman pod --network bridge: the member shares the infra's eth0 (\$a)"
  else echo "FAIL podman pod --network bridge: infra '\$a' member '\$b'"; fi
else echo "FAIL podman pod create / run --pod with --network bridge"; fi
pm pod rm -f -t 0 npod >/dev/null 2>&1
pm rm -af -t 0 >/dev/null 2>&1
EOF
  nsenter --net="/run/netns/$NETNS_PM" unshare -m --propagation private \
    sh "$T/pmnet.sh" > "$T/pmnet.out" 2>&1
  local line
  while read -r line; do
    case $line in
      "ok "*) ok "${line#ok }" ;;
      "FAIL "*) fail "${line#FAIL }" ;;
      *) echo "  $line" ;;
    esac
  done < "$T/pmnet.out"
  check "podman --network bridge: nothing of vcrun left in its namespace" netns_clean "$NETNS_PM"
}

network_suite() {
  ctr_network
  podman_network
  netns_cleanup
}
