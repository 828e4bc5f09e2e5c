/* The guest side of the pod network: the host mirrors each of the pod's
 * links into the VM as a virtio-net NIC with the link's MAC, and sends the
 * plan (lib/host/netlink.h vc_net_plan) as a struct vc_net_info; these
 * functions make the guest's network namespace match it.  Built into the
 * static agent and, for the tests, into tests/tools/agentnet on the host. */
#ifndef VC_AGENT_NETWORK_H
#define VC_AGENT_NETWORK_H

#include "lib/base/error.h"
#include "lib/base/netinfo.h"

/* Loads the virtio-net modules (failover, net_failover, virtio_net), which
 * scripts/build-guest.sh puts in /lib/modules with their order in
 * /lib/modules/net.order; only a sandbox with NICs pays for them.  Modules
 * already loaded are fine; call it before agent_net_configure. */
int agent_net_load_modules(vc_error **err);

/* In the caller's network namespace: for each link of plan, finds the NIC
 * by MAC (waiting up to timeout_ms for it to appear: a hot-plugged NIC
 * takes a moment), names it (a link already holding the name is renamed
 * out of the way first), sets its MTU, adds its addresses (IPv6 without
 * duplicate address detection) and sets it up; then adds the routes in
 * plan's order (gatewayless ones come first there), and the neighbours as
 * permanent entries.  A route or address that exists already is fine.
 * Routes name their device by name: the one the plan gives the link.  -1
 * with err naming the link, route or neighbour that failed. */
int agent_net_configure(const struct vc_net_info *plan, int timeout_ms,
                        vc_error **err);

/* Sets lo up in the caller's network namespace (the guest's own, which
 * containers of a networked sandbox share). */
int agent_net_loopback_up(vc_error **err);

#endif
