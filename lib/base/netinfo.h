/* A network namespace's configuration as plain data: links with their
 * addresses, routes and neighbours.  The host fills it by scanning the pod's
 * network namespace (lib/host/netlink.h) and keeps the part it mirrors into
 * the VM; the agent applies that part in the guest (agent/network.h).  Shared
 * by host and agent, so it has fixed-size arrays (no ownership to track
 * across the protocol) and only libc. */
#ifndef VC_NETINFO_H
#define VC_NETINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

#define VC_NET_NAME_MAX 16 /* IFNAMSIZ, NUL included */
#define VC_NET_KIND_MAX 16
#define VC_NET_MAX_LINKS 32
#define VC_NET_MAX_ADDRS 16 /* per link */
#define VC_NET_MAX_ROUTES 128
#define VC_NET_MAX_NEIGHS 64

/* An IPv4 or IPv6 address with a prefix length (128/32 for a host). */
struct vc_ip_prefix {
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  uint8_t len;
};

struct vc_net_link {
  int index;                  /* in the namespace it was read from */
  char name[VC_NET_NAME_MAX];
  char kind[VC_NET_KIND_MAX]; /* IFLA_INFO_KIND ("veth"...), "" if none */
  bool tun_is_tap;            /* kind "tun" in tap mode */
  uint8_t mac[6];
  bool has_mac;
  unsigned mtu;
  unsigned flags; /* ifi_flags: IFF_UP, IFF_LOOPBACK, IFF_NOARP... */
  struct vc_ip_prefix addrs[VC_NET_MAX_ADDRS];
  size_t n_addrs;
};

struct vc_net_route {
  int family;
  struct vc_ip_prefix dst; /* len 0: the default route */
  bool has_gateway;
  uint8_t gateway[16];
  bool has_prefsrc;
  uint8_t prefsrc[16];
  int oif;                   /* link index, 0 if none */
  char dev[VC_NET_NAME_MAX]; /* the link's name, filled by resolve */
  unsigned mtu;              /* RTAX_MTU, 0 if unset */
  uint32_t priority;         /* RTA_PRIORITY (metric) */
  uint8_t scope, protocol, type;
  unsigned flags; /* rtm_flags */
};

struct vc_net_neigh {
  int family;
  uint8_t ip[16];
  uint8_t mac[6];
  int ifindex;
  char dev[VC_NET_NAME_MAX];
  uint16_t state; /* NUD_* */
};

struct vc_net_info {
  struct vc_net_link links[VC_NET_MAX_LINKS];
  size_t n_links;
  struct vc_net_route routes[VC_NET_MAX_ROUTES];
  size_t n_routes;
  struct vc_net_neigh neighs[VC_NET_MAX_NEIGHS];
  size_t n_neighs;
};

/* The link with that index or name, or NULL. */
struct vc_net_link *vc_net_link_by_index(struct vc_net_info *info, int index);
struct vc_net_link *vc_net_link_by_name(struct vc_net_info *info,
                                        const char *name);

/* Fills routes' and neighbours' dev from their link index (left "" when the
 * link is not in info). */
void vc_net_info_resolve(struct vc_net_info *info);

/* "10.0.0.2/24", "fd00::2/64"; out needs VC_IP_PREFIX_STR_MAX bytes. */
#define VC_IP_PREFIX_STR_MAX 52
void vc_ip_prefix_format(const struct vc_ip_prefix *p, char *out);
/* Parses "ADDR/LEN" or a bare address (full length); -1 with err if bad. */
int vc_ip_prefix_parse(const char *text, struct vc_ip_prefix *p,
                       vc_error **err);
/* "02:ab:..." lower case; out needs 18 bytes. */
void vc_mac_format(const uint8_t mac[6], char *out);
int vc_mac_parse(const char *text, uint8_t mac[6], vc_error **err);

/* Byte length of an address of family (4, 16, or 0 if unknown). */
size_t vc_ip_len(int family);

#endif
