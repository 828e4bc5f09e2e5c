/* Configures the guest's NICs, routes and neighbours over rtnetlink.
 *
 * The agent is linked statically and Debian ships no static libmnl (only
 * libmnl.so), so this file carries its own small netlink helper: a request
 * buffer whose every append is checked against its size, and replies
 * walked with each length checked against what was received. */
#include "agent/network.h"
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

#ifndef IFA_F_NODAD
#define IFA_F_NODAD 0x02
#endif

/* ---- a minimal netlink helper ------------------------------------------- */

struct nl_req {
  union {
    struct nlmsghdr hdr;
    uint8_t bytes[1024];
  } u;
  bool overflow; /* an append did not fit: the request is not sent */
  uint32_t nests[4];
  size_t depth;
};

static void req_start(struct nl_req *r, uint16_t type, uint16_t flags,
                      const void *fixed, size_t fixed_len) {
  memset(r, 0, sizeof(*r));
  r->u.hdr.nlmsg_type = type;
  r->u.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  r->u.hdr.nlmsg_len = NLMSG_HDRLEN;
  if (NLMSG_HDRLEN + NLMSG_ALIGN(fixed_len) > sizeof(r->u.bytes)) {
    r->overflow = true;
    return;
  }
  memcpy(r->u.bytes + NLMSG_HDRLEN, fixed, fixed_len);
  r->u.hdr.nlmsg_len += NLMSG_ALIGN(fixed_len);
}

static void req_attr(struct nl_req *r, uint16_t type, const void *data,
                     size_t len) {
  size_t at = r->u.hdr.nlmsg_len;
  size_t need = NLA_ALIGN(NLA_HDRLEN + len);
  if (r->overflow || len > 0xffff - NLA_HDRLEN || at + need > sizeof(r->u.bytes)) {
    r->overflow = true;
    return;
  }
  struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
  memcpy(r->u.bytes + at, &a, sizeof(a));
  if (len > 0)
    memcpy(r->u.bytes + at + NLA_HDRLEN, data, len);
  r->u.hdr.nlmsg_len = (uint32_t)(at + need);
}

static void req_u32(struct nl_req *r, uint16_t type, uint32_t v) {
  req_attr(r, type, &v, sizeof(v));
}

static void req_nest_start(struct nl_req *r, uint16_t type) {
  if (r->depth == N_ELEMS(r->nests)) {
    r->overflow = true;
    return;
  }
  r->nests[r->depth++] = r->u.hdr.nlmsg_len;
  req_attr(r, type | NLA_F_NESTED, NULL, 0);
}

static void req_nest_end(struct nl_req *r) {
  if (r->overflow || r->depth == 0)
    return;
  uint32_t at = r->nests[--r->depth];
  uint16_t len = (uint16_t)(r->u.hdr.nlmsg_len - at);
  memcpy(r->u.bytes + at, &len, sizeof(len)); /* nla_len comes first */
}

struct nl_sock {
  int fd;
  uint32_t seq;
};

static int sock_open(struct nl_sock *s, vc_error **err) {
  s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = errno;
    if (s->fd >= 0)
      close(s->fd);
    s->fd = -1;
    return vc_error_set(err, e, "netlink socket");
  }
  s->seq = (uint32_t)time(NULL);
  return 0;
}

/* Calls fn on each message of one reply datagram, lengths checked; returns
 * 1 at NLMSG_DONE or the ack (an NLMSG_ERROR answering seq), with *errnum
 * its error (0 for an ack), 0 when more is to come, -1 if malformed. */
static int walk_reply(const uint8_t *buf, size_t len, uint32_t seq,
                      void (*fn)(const struct nlmsghdr *, void *), void *arg,
                      int *errnum) {
  while (len >= NLMSG_HDRLEN) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
      return -1;
    if (h->nlmsg_seq == seq) {
      if (h->nlmsg_type == NLMSG_DONE) {
        *errnum = 0;
        return 1;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr e;
        if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(e))
          return -1;
        memcpy(&e, buf + NLMSG_HDRLEN, sizeof(e));
        *errnum = e.error < 0 ? -e.error : 0;
        return 1;
      }
      if (fn != NULL)
        fn(h, arg);
    }
    size_t step = NLMSG_ALIGN(h->nlmsg_len);
    if (step > len)
      step = len;
    buf += step;
    len -= step;
  }
  return 0;
}

/* Sends r and reads until its ack or the end of its dump, handing every
 * message to fn (if non-NULL): 0, or the kernel's errno (positive), or -1
 * with err on a local failure. */
static int sock_talk(struct nl_sock *s, struct nl_req *r,
                     void (*fn)(const struct nlmsghdr *, void *), void *arg,
                     vc_error **err) {
  if (r->overflow)
    return vc_error_set(err, EMSGSIZE, "netlink request too large");
  r->u.hdr.nlmsg_seq = ++s->seq;
  if (send(s->fd, r->u.bytes, r->u.hdr.nlmsg_len, 0) < 0)
    return vc_error_set(err, errno, "netlink send");
  static uint8_t buf[32768]; /* the agent is single-threaded */
  for (;;) {
    ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return vc_error_set(err, n < 0 ? errno : EPROTO, "netlink receive");
    int errnum = 0;
    int w = walk_reply(buf, (size_t)n, s->seq, fn, arg, &errnum);
    if (w < 0)
      return vc_error_set(err, EPROTO, "netlink: malformed reply");
    if (w == 1)
      return errnum;
  }
}

/* ---- links -------------------------------------------------------------- */

struct link_seen {
  int index;
  char name[VC_NET_NAME_MAX];
  uint8_t mac[6];
  bool has_mac;
};

struct link_list {
  struct link_seen links[VC_NET_MAX_LINKS * 2];
  size_t n;
};

static void collect_link(const struct nlmsghdr *h, void *arg) {
  struct link_list *list = arg;
  if (h->nlmsg_type != RTM_NEWLINK ||
      h->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg) ||
      list->n == N_ELEMS(list->links))
    return;
  struct ifinfomsg ifi;
  memcpy(&ifi, (const uint8_t *)h + NLMSG_HDRLEN, sizeof(ifi));
  struct link_seen l = {.index = ifi.ifi_index};
  size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifi));
  while (at + NLA_HDRLEN <= h->nlmsg_len) {
    struct nlattr a;
    memcpy(&a, (const uint8_t *)h + at, sizeof(a));
    if (a.nla_len < NLA_HDRLEN || at + a.nla_len > h->nlmsg_len)
      return; /* malformed: skip the link */
    const uint8_t *payload = (const uint8_t *)h + at + NLA_HDRLEN;
    size_t plen = a.nla_len - NLA_HDRLEN;
    uint16_t type = a.nla_type & NLA_TYPE_MASK;
    if (type == IFLA_ADDRESS && plen == 6) {
      memcpy(l.mac, payload, 6);
      l.has_mac = true;
    } else if (type == IFLA_IFNAME) {
      size_t n = strnlen((const char *)payload, plen);
      if (n >= sizeof(l.name))
        return;
      memcpy(l.name, payload, n);
    }
    at += NLA_ALIGN(a.nla_len);
  }
  list->links[list->n++] = l;
}

static int list_links(struct nl_sock *s, struct link_list *list, vc_error **err) {
  struct nl_req r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  req_start(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
  list->n = 0;
  int e = sock_talk(s, &r, collect_link, list, err);
  if (e > 0)
    return vc_error_set(err, e, "list links");
  return e;
}

static const struct link_seen *by_mac(const struct link_list *list,
                                      const uint8_t mac[6]) {
  for (size_t i = 0; i < list->n; i++)
    if (list->links[i].has_mac && memcmp(list->links[i].mac, mac, 6) == 0)
      return &list->links[i];
  return NULL;
}

static const struct link_seen *by_name(const struct link_list *list,
                                       const char *name) {
  for (size_t i = 0; i < list->n; i++)
    if (strcmp(list->links[i].name, name) == 0)
      return &list->links[i];
  return NULL;
}

/* RTM_NEWLINK on index: name if non-NULL, mtu if non-zero, up or down. */
static int link_set(struct nl_sock *s, int index, const char *name,
                    unsigned mtu, bool up, vc_error **err) {
  struct nl_req r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                          .ifi_index = index,
                          .ifi_flags = up ? IFF_UP : 0,
                          .ifi_change = IFF_UP};
  req_start(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
  if (name != NULL)
    req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  if (mtu != 0)
    req_u32(&r, IFLA_MTU, mtu);
  int e = sock_talk(s, &r, NULL, NULL, err);
  if (e > 0)
    return vc_error_set(err, e, "set link %d%s%s%s", index,
                        name ? " name " : "", name ? name : "", up ? " up" : "");
  return e;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The link with mac, waiting for a NIC still being probed. */
static int find_nic(struct nl_sock *s, const uint8_t mac[6], int timeout_ms,
                    struct link_list *list, struct link_seen *out,
                    vc_error **err) {
  for (int waited = 0;; waited += 20) {
    if (list_links(s, list, err) < 0)
      return -1;
    const struct link_seen *l = by_mac(list, mac);
    if (l != NULL) {
      *out = *l;
      return 0;
    }
    if (waited >= timeout_ms) {
      char text[18];
      vc_mac_format(mac, text);
      return vc_error_set(err, ENODEV, "no network interface with MAC %s", text);
    }
    sleep_ms(20);
  }
}

static int configure_link(struct nl_sock *s, const struct vc_net_link *want,
                          int timeout_ms, vc_error **err) {
  static struct link_list list; /* large; the agent is single-threaded */
  struct link_seen nic = {0};
  if (find_nic(s, want->mac, timeout_ms, &list, &nic, err) < 0)
    return -1;
  /* A NIC can only be renamed while down. */
  if (link_set(s, nic.index, NULL, 0, false, err) < 0)
    return -1;
  const struct link_seen *holder = by_name(&list, want->name);
  if (holder != NULL && holder->index != nic.index) {
    /* Another NIC has the name (eth0 and eth1 probed the other way round):
     * move it aside; its own turn gives it its name. */
    char aside[VC_NET_NAME_MAX];
    snprintf(aside, sizeof(aside), "vcnet%d", holder->index);
    if (link_set(s, holder->index, NULL, 0, false, err) < 0 ||
        link_set(s, holder->index, aside, 0, false, err) < 0)
      return -1;
  }
  if (link_set(s, nic.index, want->name, want->mtu, false, err) < 0)
    return -1;
  for (size_t i = 0; i < want->n_addrs; i++) {
    const struct vc_ip_prefix *p = &want->addrs[i];
    size_t alen = vc_ip_len(p->family);
    if (alen == 0)
      return vc_error_set(err, EAFNOSUPPORT, "address family %d", p->family);
    struct ifaddrmsg ifa = {.ifa_family = (uint8_t)p->family,
                            .ifa_prefixlen = p->len,
                            .ifa_flags = p->family == AF_INET6 ? IFA_F_NODAD : 0,
                            .ifa_index = (uint32_t)nic.index};
    struct nl_req r;
    req_start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
    if (p->family == AF_INET)
      req_attr(&r, IFA_LOCAL, p->addr, alen);
    req_attr(&r, IFA_ADDRESS, p->addr, alen);
    if (p->family == AF_INET6)
      req_u32(&r, IFA_FLAGS, IFA_F_NODAD);
    int e = sock_talk(s, &r, NULL, NULL, err);
    if (e > 0 && e != EEXIST) {
      char text[VC_IP_PREFIX_STR_MAX];
      vc_ip_prefix_format(p, text);
      return vc_error_set(err, e, "add address %s to %s", text, want->name);
    }
    if (e < 0)
      return -1;
  }
  return link_set(s, nic.index, NULL, 0, true, err);
}

/* ---- routes and neighbours ---------------------------------------------- */

static int add_route(struct nl_sock *s, const struct vc_net_route *rt,
                     vc_error **err) {
  size_t alen = vc_ip_len(rt->family);
  int oif = rt->dev[0] ? (int)if_nametoindex(rt->dev) : 0;
  char dst[VC_IP_PREFIX_STR_MAX];
  vc_ip_prefix_format(&rt->dst, dst);
  if (alen == 0 || (rt->dev[0] && oif == 0))
    return vc_error_set(err, ENODEV, "route %s: device \"%s\"", dst, rt->dev);
  struct rtmsg rtm = {.rtm_family = (uint8_t)rt->family,
                      .rtm_dst_len = rt->dst.len,
                      .rtm_table = RT_TABLE_MAIN,
                      .rtm_protocol = rt->protocol ? rt->protocol : RTPROT_BOOT,
                      .rtm_scope = rt->scope,
                      .rtm_type = RTN_UNICAST,
                      .rtm_flags = rt->flags & RTNH_F_ONLINK};
  struct nl_req r;
  req_start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rtm, sizeof(rtm));
  if (rt->dst.len > 0)
    req_attr(&r, RTA_DST, rt->dst.addr, alen);
  if (rt->has_gateway)
    req_attr(&r, RTA_GATEWAY, rt->gateway, alen);
  if (rt->has_prefsrc)
    req_attr(&r, RTA_PREFSRC, rt->prefsrc, alen);
  if (oif != 0)
    req_u32(&r, RTA_OIF, (uint32_t)oif);
  if (rt->priority != 0)
    req_u32(&r, RTA_PRIORITY, rt->priority);
  if (rt->mtu != 0) {
    req_nest_start(&r, RTA_METRICS);
    req_u32(&r, RTAX_MTU, rt->mtu);
    req_nest_end(&r);
  }
  int e = sock_talk(s, &r, NULL, NULL, err);
  if (e > 0 && e != EEXIST)
    return vc_error_set(err, e, "add route %s dev %s", dst, rt->dev);
  return e < 0 ? -1 : 0;
}

static int add_neigh(struct nl_sock *s, const struct vc_net_neigh *n,
                     vc_error **err) {
  size_t alen = vc_ip_len(n->family);
  int index = n->dev[0] ? (int)if_nametoindex(n->dev) : 0;
  struct vc_ip_prefix ip = {.family = n->family, .len = (uint8_t)(alen * 8)};
  memcpy(ip.addr, n->ip, sizeof(ip.addr));
  char text[VC_IP_PREFIX_STR_MAX];
  vc_ip_prefix_format(&ip, text);
  if (alen == 0 || index == 0)
    return vc_error_set(err, ENODEV, "neighbour %s: device \"%s\"", text, n->dev);
  struct ndmsg nd = {.ndm_family = (uint8_t)n->family,
                     .ndm_ifindex = index,
                     .ndm_state = NUD_PERMANENT};
  struct nl_req r;
  req_start(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &nd, sizeof(nd));
  req_attr(&r, NDA_DST, n->ip, alen);
  req_attr(&r, NDA_LLADDR, n->mac, 6);
  int e = sock_talk(s, &r, NULL, NULL, err);
  if (e > 0)
    return vc_error_set(err, e, "add neighbour %s dev %s", text, n->dev);
  return e;
}

int agent_net_configure(const struct vc_net_info *plan, int timeout_ms,
                        vc_error **err) {
  if (plan->n_links == 0)
    return 0;
  struct nl_sock s;
  if (sock_open(&s, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < plan->n_links && r == 0; i++)
    r = configure_link(&s, &plan->links[i], timeout_ms, err);
  for (size_t i = 0; i < plan->n_routes && r == 0; i++)
    r = add_route(&s, &plan->routes[i], err);
  for (size_t i = 0; i < plan->n_neighs && r == 0; i++)
    r = add_neigh(&s, &plan->neighs[i], err);
  close(s.fd);
  return r;
}

int agent_net_loopback_up(vc_error **err) {
  struct nl_sock s;
  if (sock_open(&s, err) < 0)
    return -1;
  int r = link_set(&s, 1, NULL, 0, true, err); /* lo is always index 1 */
  close(s.fd);
  return r < 0 ? -1 : 0;
}

/* ---- modules ------------------------------------------------------------ */

int agent_net_load_modules(vc_error **err) {
  return agent_load_modules("net.order", err);
}
