/* The pod's network as the VM gets it: scan a network namespace (links,
 * addresses, main-table routes, permanent neighbours), decide which links
 * to mirror into the VM, and attach each one to a tap or macvtap whose fd
 * QEMU gets (Kata Containers' "tcfilter" and "macvtap" models).  Everything is rtnetlink through libmnl.
 *
 * Layers, so that the tests reach the bytes without a kernel:
 *   - builders: fill a caller's buffer with one request, no I/O;
 *   - the dump parser: recorded rtnetlink dumps -> struct vc_net_info;
 *   - the plan: a scan -> the part to mirror (pure);
 *   - I/O: functions taking a namespace path run their work in a dedicated
 *     thread (or, for macvtap, a child) that setns()es into it; the caller's
 *     own thread never changes namespace.
 *
 * Order at create (after the host's createRuntime/prestart hooks ran):
 *   vc_netns_scan -> vc_net_plan -> vc_net_attach per mirrored link (fd to
 *   QEMU, see vmm/qemu_net.h) -> the agent configures the plan in the guest.
 * At delete, after QEMU exited: vc_net_detach per attachment. */
#ifndef VC_NETLINK_H
#define VC_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"
#include "lib/base/netinfo.h"

struct nlmsghdr;

/* Buffer size the builders assume (every request here is far smaller). */
#define VC_NL_REQ_SIZE 1024

/* ---- builders: one request each, in buf (VC_NL_REQ_SIZE bytes, zeroed
 * by the builder); return its header (nlmsg_len is the length). ---- */

/* RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE / RTM_GETNEIGH with NLM_F_DUMP
 * and the family (AF_UNSPEC for all). */
struct nlmsghdr *vc_nl_build_dump(void *buf, uint16_t type, uint8_t family,
                                  uint32_t seq);

/* RTM_NEWLINK changing an existing link: mtu if non-zero, mac if non-NULL,
 * and the bits of change in flags (IFF_UP, IFF_NOARP). */
struct nlmsghdr *vc_nl_build_link_change(void *buf, uint32_t seq, int ifindex,
                                         unsigned mtu, const uint8_t *mac,
                                         unsigned flags, unsigned change);

/* RTM_DELLINK of ifindex. */
struct nlmsghdr *vc_nl_build_link_del(void *buf, uint32_t seq, int ifindex);

/* RTM_NEWLINK creating a macvtap named name in bridge mode on parent, with
 * mac and mtu. */
struct nlmsghdr *vc_nl_build_macvtap_new(void *buf, uint32_t seq,
                                         const char *name, int parent,
                                         const uint8_t mac[6], unsigned mtu);

/* RTM_NEWQDISC (create, exclusive) or RTM_DELQDISC of the ingress qdisc
 * (handle ffff:) of ifindex. */
struct nlmsghdr *vc_nl_build_ingress_qdisc(void *buf, uint32_t seq,
                                           uint16_t type, int ifindex);

/* RTM_NEWTFILTER: on ifindex's ingress qdisc, priority 1, protocol all, a
 * u32 filter matching every packet (one key, mask 0) whose action is
 * "mirred egress redirect" to to_ifindex, verdict stolen; as
 * `tc filter add dev A parent ffff: prio 1 protocol all u32 match u8 0 0
 *  action mirred egress redirect dev B`. */
struct nlmsghdr *vc_nl_build_u32_redirect(void *buf, uint32_t seq,
                                          int ifindex, int to_ifindex);

/* ---- the dump parser ---- */

/* Adds what the messages in buf (one recv()'s worth of a dump of links,
 * addresses, routes or neighbours, in any mix) describe to info: links,
 * their addresses (by index; addresses of links not yet seen are dropped,
 * so dump links first), routes of the main table, and NUD_PERMANENT
 * neighbours.  Every length is checked against the buffer.  Returns 1 when
 * the dump's NLMSG_DONE was seen, 0 when more is to come, -1 with err on a
 * malformed message, an NLMSG_ERROR, an interrupted dump (errnum EAGAIN:
 * redo the whole scan) or more entries than info holds. */
int vc_nl_parse_dump(const void *buf, size_t len, struct vc_net_info *info,
                     vc_error **err);

/* ---- the plan ---- */

/* From a scan, what the VM gets: links that are up, not loopback, and have
 * an address other than an IPv6 link-local one, sorted by name (eth0 before
 * eth1), each with those addresses; the routes through them except the ones
 * the kernel makes from addresses (RTPROT_KERNEL) and non-unicast ones,
 * routes without a gateway first; and their permanent neighbours.  A link
 * to mirror whose kind is none of veth, macvlan, macvtap, ipvlan and tun in
 * tap mode is an error naming it.  No link to mirror is not an error. */
int vc_net_plan(const struct vc_net_info *scan, struct vc_net_info *plan,
                vc_error **err);

/* ---- I/O ---- */

/* Scans the network namespace at netns_path (NULL: the caller's own). */
int vc_netns_scan(const char *netns_path, struct vc_net_info *info,
                  vc_error **err);

enum vc_net_model {
  VC_NET_MODEL_NONE,
  VC_NET_MODEL_TCFILTER, /* tap + ingress u32/mirred redirect both ways */
  VC_NET_MODEL_MACVTAP,  /* macvtap in bridge mode on the link */
};

/* "tcfilter", "macvtap", "none" (configuration.toml [network] model);
 * -1 if unknown. */
int vc_net_model_parse(const char *name);
const char *vc_net_model_name(enum vc_net_model model);

/* One mirrored link.  Everything but fd is what delete needs: the
 * integrator saves it with the container's state. */
struct vc_net_attachment {
  enum vc_net_model model;
  char link[VC_NET_NAME_MAX]; /* the engine's link (the veth) */
  char dev[VC_NET_NAME_MAX];  /* what vcrun made: tapN_vc or mvtN_vc */
  uint8_t guest_mac[6];       /* the MAC the VM's NIC gets: the link's */
  unsigned mtu;               /* the link's */
  /* macvtap only: the macvtap takes the link's MAC (peers and anti-spoofing
   * CNIs expect it), so the link gets a random one and IFF_NOARP while
   * attached; these restore it at detach. */
  uint8_t link_mac[6];
  bool link_noarp;
  int fd; /* the tap or /dev/tapN fd for QEMU (close-on-exec), -1 if none */
};

/* Attaches link (as vc_net_plan returned it) in netns_path with model;
 * n numbers the device (tap<n>_vc, mvt<n>_vc).  tcfilter: a tap with the
 * link's MTU, IFF_NO_PI|IFF_VNET_HDR, up; an ingress qdisc on the link and
 * on the tap (the link must not have one already: detach removes it) and a
 * u32 redirect filter on each to the other.  macvtap: see above, and the fd
 * is /dev/tapN opened in a child with its own mount namespace and sysfs.
 * On failure nothing is left behind.  The tap is not persistent: it goes
 * away with the last fd (QEMU's). */
int vc_net_attach(const char *netns_path, enum vc_net_model model,
                  const struct vc_net_link *link, unsigned n,
                  struct vc_net_attachment *out, vc_error **err);

/* Undoes vc_net_attach from the saved fields (a's fd is not touched):
 * removes the ingress qdisc from the link (its filters go with it) and the
 * tap if it still exists, or the macvtap with the link's MAC and NOARP flag
 * restored.  What is already gone is not an error; the link stays. */
int vc_net_detach(const char *netns_path, const struct vc_net_attachment *a,
                  vc_error **err);

/* Which models this host can run: each is tried for real in a scratch
 * network namespace (tcfilter: two taps, ingress qdiscs, a u32 filter with
 * mirred; macvtap: a macvtap and its /dev/tapN).  why_* (may be NULL) get
 * a one-line reason when false. */
void vc_net_probe_models(bool *tcfilter, char *why_tcfilter, size_t why_tc_size,
                         bool *macvtap, char *why_macvtap,
                         size_t why_macvtap_size);

#endif
