/* rtnetlink with libmnl for the pod network: request builders, the dump
 * parser, the mirror plan, and the namespace-bound I/O (scan, tap + tc
 * redirect, macvtap, capability probe).  See netlink.h for the contracts. */
#include "lib/host/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <net/if.h> /* before the linux/ headers, which it clashes with otherwise */
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/ethernet.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

/* The ingress qdisc's handle, ffff:, which its filters name as parent. */
#define INGRESS_HANDLE 0xffff0000U
#define FILTER_PRIO 1

/* ---- builders ----------------------------------------------------------- */

static struct nlmsghdr *start_msg(void *buf, uint16_t type, uint16_t flags,
                                  uint32_t seq) {
  memset(buf, 0, VC_NL_REQ_SIZE);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = seq;
  return nlh;
}

/* libmnl marks every nest NLA_F_NESTED, as the kernel's strict
 * validation wants. */

struct nlmsghdr *vc_nl_build_dump(void *buf, uint16_t type, uint8_t family,
                                  uint32_t seq) {
  struct nlmsghdr *nlh = start_msg(buf, type, NLM_F_REQUEST | NLM_F_DUMP, seq);
  /* Each dump takes its own family header; the first byte is the family. */
  size_t hdr = type == RTM_GETLINK    ? sizeof(struct ifinfomsg)
               : type == RTM_GETADDR  ? sizeof(struct ifaddrmsg)
               : type == RTM_GETROUTE ? sizeof(struct rtmsg)
                                      : sizeof(struct ndmsg);
  uint8_t *h = mnl_nlmsg_put_extra_header(nlh, hdr);
  h[0] = family;
  return nlh;
}

struct nlmsghdr *vc_nl_build_link_change(void *buf, uint32_t seq, int ifindex,
                                         unsigned mtu, const uint8_t *mac,
                                         unsigned flags, unsigned change) {
  struct nlmsghdr *nlh =
      start_msg(buf, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = flags & change;
  ifi->ifi_change = change;
  if (mtu != 0)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (mac != NULL)
    mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
  return nlh;
}

struct nlmsghdr *vc_nl_build_link_del(void *buf, uint32_t seq, int ifindex) {
  struct nlmsghdr *nlh =
      start_msg(buf, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
  ifi->ifi_index = ifindex;
  return nlh;
}

struct nlmsghdr *vc_nl_build_macvtap_new(void *buf, uint32_t seq,
                                         const char *name, int parent,
                                         const uint8_t mac[6], unsigned mtu) {
  struct nlmsghdr *nlh =
      start_msg(buf, RTM_NEWLINK,
                NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  char ifname[VC_NET_NAME_MAX];
  snprintf(ifname, sizeof(ifname), "%s", name);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
  mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent);
  mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
  if (mtu != 0)
    mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvtap");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return nlh;
}

struct nlmsghdr *vc_nl_build_ingress_qdisc(void *buf, uint32_t seq,
                                           uint16_t type, int ifindex) {
  uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
  if (type == RTM_NEWQDISC)
    flags |= NLM_F_CREATE | NLM_F_EXCL;
  struct nlmsghdr *nlh = start_msg(buf, type, flags, seq);
  struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = ifindex;
  tcm->tcm_handle = INGRESS_HANDLE;
  tcm->tcm_parent = TC_H_INGRESS;
  mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
  return nlh;
}

struct nlmsghdr *vc_nl_build_u32_redirect(void *buf, uint32_t seq,
                                          int ifindex, int to_ifindex) {
  struct nlmsghdr *nlh =
      start_msg(buf, RTM_NEWTFILTER,
                NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = ifindex;
  tcm->tcm_parent = INGRESS_HANDLE;
  tcm->tcm_info = TC_H_MAKE((uint32_t)FILTER_PRIO << 16, htons(ETH_P_ALL));
  mnl_attr_put_strz(nlh, TCA_KIND, "u32");
  struct nlattr *opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  /* One key with mask 0 matches every packet; TERMINAL: the actions end
   * the classification.  struct tc_u32_sel ends in a flexible array, so
   * the selector and its key are laid out by hand. */
  struct tc_u32_sel sel = {.flags = TC_U32_TERMINAL, .nkeys = 1};
  struct tc_u32_key key = {.mask = 0, .val = 0};
  uint8_t sel_key[sizeof(sel) + sizeof(key)];
  memcpy(sel_key, &sel, sizeof(sel));
  memcpy(sel_key + sizeof(sel), &key, sizeof(key));
  mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel_key), sel_key);
  struct nlattr *acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
  struct nlattr *act1 = mnl_attr_nest_start(nlh, 1); /* the first action */
  mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
  struct nlattr *aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
  struct tc_mirred parms = {.action = TC_ACT_STOLEN,
                            .eaction = TCA_EGRESS_REDIR,
                            .ifindex = (uint32_t)to_ifindex};
  mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(parms), &parms);
  mnl_attr_nest_end(nlh, aopts);
  mnl_attr_nest_end(nlh, act1);
  mnl_attr_nest_end(nlh, acts);
  mnl_attr_nest_end(nlh, opts);
  return nlh;
}

/* ---- the dump parser ---------------------------------------------------- */

/* Collects the attributes in [start, start + len) by type (types above
 * max are skipped), checking each length against what is left; -1 when an
 * attribute does not fit (more than padding remains unread). */
static int walk_attrs(const void *start, size_t len, const struct nlattr **tb,
                      unsigned max) {
  memset(tb, 0, (max + 1) * sizeof(*tb));
  const struct nlattr *a = start;
  int left = len > INT16_MAX * 2 ? INT16_MAX * 2 : (int)len;
  while (mnl_attr_ok(a, left)) {
    unsigned type = mnl_attr_get_type(a);
    if (type <= max)
      tb[type] = a;
    left -= (int)MNL_ALIGN(a->nla_len);
    a = mnl_attr_next(a);
  }
  return left < (int)sizeof(struct nlattr) ? 0 : -1;
}

/* A message's attributes after its fixed header of hdr bytes; -1 when the
 * message is too short for the header or an attribute overruns it. */
static int parse_msg_attrs(const struct nlmsghdr *nlh, size_t hdr,
                           const struct nlattr **tb, unsigned max) {
  size_t payload = mnl_nlmsg_get_payload_len(nlh);
  if (payload < hdr) {
    memset(tb, 0, (max + 1) * sizeof(*tb));
    return -1;
  }
  return walk_attrs((const char *)mnl_nlmsg_get_payload(nlh) + hdr,
                    payload - hdr, tb, max);
}

static int parse_nested(const struct nlattr *nest, const struct nlattr **tb,
                        unsigned max) {
  return walk_attrs(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest),
                    tb, max);
}

static bool attr_u32(const struct nlattr *a, uint32_t *v) {
  if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
    return false;
  memcpy(v, mnl_attr_get_payload(a), sizeof(*v));
  return true;
}

/* Copies a string attribute (NUL within its payload or not) of at most
 * size - 1 characters; false when longer or absent. */
static bool attr_str(const struct nlattr *a, char *out, size_t size) {
  if (a == NULL)
    return false;
  const char *s = mnl_attr_get_payload(a);
  size_t n = strnlen(s, mnl_attr_get_payload_len(a));
  if (n >= size)
    return false;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

/* An address attribute of exactly the family's length. */
static bool attr_ip(const struct nlattr *a, int family, uint8_t out[16]) {
  size_t len = vc_ip_len(family);
  if (a == NULL || len == 0 || mnl_attr_get_payload_len(a) != len)
    return false;
  memset(out, 0, 16);
  memcpy(out, mnl_attr_get_payload(a), len);
  return true;
}

static int parse_link(const struct nlmsghdr *nlh, struct vc_net_info *info,
                      vc_error **err) {
  const struct nlattr *tb[IFLA_MAX + 1];
  if (parse_msg_attrs(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX) < 0)
    return vc_error_set(err, EPROTO, "netlink: malformed link message");
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  if (info->n_links == VC_NET_MAX_LINKS)
    return vc_error_set(err, E2BIG, "netlink: more than %d links",
                        VC_NET_MAX_LINKS);
  struct vc_net_link *l = &info->links[info->n_links];
  memset(l, 0, sizeof(*l));
  l->index = ifi->ifi_index;
  l->flags = ifi->ifi_flags;
  if (!attr_str(tb[IFLA_IFNAME], l->name, sizeof(l->name)))
    return vc_error_set(err, EPROTO, "netlink: link %d without a valid name",
                        ifi->ifi_index);
  if (tb[IFLA_ADDRESS] != NULL && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
    memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
    l->has_mac = true;
  }
  uint32_t mtu = 0;
  if (attr_u32(tb[IFLA_MTU], &mtu))
    l->mtu = mtu;
  if (tb[IFLA_LINKINFO] != NULL) {
    const struct nlattr *li[IFLA_INFO_MAX + 1];
    if (parse_nested(tb[IFLA_LINKINFO], li, IFLA_INFO_MAX) < 0)
      return vc_error_set(err, EPROTO, "netlink: malformed link info of %s",
                          l->name);
    if (li[IFLA_INFO_KIND] != NULL &&
        !attr_str(li[IFLA_INFO_KIND], l->kind, sizeof(l->kind)))
      snprintf(l->kind, sizeof(l->kind), "?"); /* too long: no kind we take */
    if (strcmp(l->kind, "tun") == 0 && li[IFLA_INFO_DATA] != NULL) {
      const struct nlattr *td[IFLA_TUN_MAX + 1];
      if (parse_nested(li[IFLA_INFO_DATA], td, IFLA_TUN_MAX) == 0 &&
          td[IFLA_TUN_TYPE] != NULL &&
          mnl_attr_get_payload_len(td[IFLA_TUN_TYPE]) >= 1)
        l->tun_is_tap = mnl_attr_get_u8(td[IFLA_TUN_TYPE]) == IFF_TAP;
    }
  }
  info->n_links++;
  return 0;
}

static int parse_addr(const struct nlmsghdr *nlh, struct vc_net_info *info,
                      vc_error **err) {
  const struct nlattr *tb[IFA_MAX + 1];
  if (parse_msg_attrs(nlh, sizeof(struct ifaddrmsg), tb, IFA_MAX) < 0)
    return vc_error_set(err, EPROTO, "netlink: malformed address message");
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  struct vc_net_link *l = vc_net_link_by_index(info, (int)ifa->ifa_index);
  if (l == NULL || vc_ip_len(ifa->ifa_family) == 0)
    return 0;
  struct vc_ip_prefix p = {.family = ifa->ifa_family, .len = ifa->ifa_prefixlen};
  if (p.len > vc_ip_len(p.family) * 8)
    return vc_error_set(err, EPROTO, "netlink: prefix length %u on %s",
                        p.len, l->name);
  /* IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the
   * peer's on a point-to-point link); IPv6 has only IFA_ADDRESS. */
  if (!attr_ip(tb[IFA_LOCAL], p.family, p.addr) &&
      !attr_ip(tb[IFA_ADDRESS], p.family, p.addr))
    return vc_error_set(err, EPROTO, "netlink: address without a value on %s",
                        l->name);
  if (l->n_addrs == VC_NET_MAX_ADDRS)
    return vc_error_set(err, E2BIG, "netlink: more than %d addresses on %s",
                        VC_NET_MAX_ADDRS, l->name);
  l->addrs[l->n_addrs++] = p;
  return 0;
}

static int parse_route(const struct nlmsghdr *nlh, struct vc_net_info *info,
                       vc_error **err) {
  const struct nlattr *tb[RTA_MAX + 1];
  if (parse_msg_attrs(nlh, sizeof(struct rtmsg), tb, RTA_MAX) < 0)
    return vc_error_set(err, EPROTO, "netlink: malformed route message");
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  uint32_t table = rtm->rtm_table;
  attr_u32(tb[RTA_TABLE], &table);
  if (table != RT_TABLE_MAIN || vc_ip_len(rtm->rtm_family) == 0)
    return 0;
  if (rtm->rtm_dst_len > vc_ip_len(rtm->rtm_family) * 8)
    return vc_error_set(err, EPROTO, "netlink: route prefix length %u",
                        rtm->rtm_dst_len);
  if (info->n_routes == VC_NET_MAX_ROUTES)
    return vc_error_set(err, E2BIG, "netlink: more than %d routes",
                        VC_NET_MAX_ROUTES);
  struct vc_net_route *r = &info->routes[info->n_routes];
  memset(r, 0, sizeof(*r));
  r->family = rtm->rtm_family;
  r->dst.family = rtm->rtm_family;
  r->dst.len = rtm->rtm_dst_len;
  if (tb[RTA_DST] != NULL && !attr_ip(tb[RTA_DST], r->family, r->dst.addr))
    return vc_error_set(err, EPROTO, "netlink: route with a bad destination");
  r->has_gateway = attr_ip(tb[RTA_GATEWAY], r->family, r->gateway);
  r->has_prefsrc = attr_ip(tb[RTA_PREFSRC], r->family, r->prefsrc);
  uint32_t v;
  if (attr_u32(tb[RTA_OIF], &v))
    r->oif = (int)v;
  if (attr_u32(tb[RTA_PRIORITY], &v))
    r->priority = v;
  if (tb[RTA_METRICS] != NULL) {
    const struct nlattr *mx[RTAX_MAX + 1];
    if (parse_nested(tb[RTA_METRICS], mx, RTAX_MAX) < 0)
      return vc_error_set(err, EPROTO, "netlink: malformed route metrics");
    if (attr_u32(mx[RTAX_MTU], &v))
      r->mtu = v;
  }
  r->scope = rtm->rtm_scope;
  r->protocol = rtm->rtm_protocol;
  r->type = rtm->rtm_type;
  r->flags = rtm->rtm_flags;
  info->n_routes++;
  return 0;
}

static int parse_neigh(const struct nlmsghdr *nlh, struct vc_net_info *info,
                       vc_error **err) {
  const struct nlattr *tb[NDA_MAX + 1];
  if (parse_msg_attrs(nlh, sizeof(struct ndmsg), tb, NDA_MAX) < 0)
    return vc_error_set(err, EPROTO, "netlink: malformed neighbour message");
  const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
  if (!(nd->ndm_state & NUD_PERMANENT) || vc_ip_len(nd->ndm_family) == 0)
    return 0;
  struct vc_net_neigh n = {.family = nd->ndm_family,
                           .ifindex = nd->ndm_ifindex,
                           .state = nd->ndm_state};
  if (!attr_ip(tb[NDA_DST], n.family, n.ip) || tb[NDA_LLADDR] == NULL ||
      mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
    return 0; /* not an IP-to-Ethernet entry */
  memcpy(n.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
  if (info->n_neighs == VC_NET_MAX_NEIGHS)
    return vc_error_set(err, E2BIG, "netlink: more than %d neighbours",
                        VC_NET_MAX_NEIGHS);
  info->neighs[info->n_neighs++] = n;
  return 0;
}

int vc_nl_parse_dump(const void *buf, size_t len, struct vc_net_info *info,
                     vc_error **err) {
  /* Walked by hand: libmnl's mnl_nlmsg_ok() takes a length above INT_MAX
   * for a negative one and lets it through. */
  const uint8_t *p = buf;
  size_t left = len;
  while (left >= NLMSG_HDRLEN) {
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
    if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > left)
      return vc_error_set(err, EPROTO, "netlink: message length %u of %zu",
                          nlh->nlmsg_len, left);
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
      return vc_error_set(err, EAGAIN, "netlink: dump interrupted");
    int r = 0;
    switch (nlh->nlmsg_type) {
    case NLMSG_DONE:
      return 1;
    case NLMSG_ERROR: {
      const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
      if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
        return vc_error_set(err, EPROTO, "netlink: short error message");
      if (e->error == 0)
        break; /* an acknowledgement */
      int errnum = e->error < 0 && e->error > -4096 ? -e->error : EPROTO;
      return vc_error_set(err, errnum, "netlink dump");
    }
    case RTM_NEWLINK:
      r = parse_link(nlh, info, err);
      break;
    case RTM_NEWADDR:
      r = parse_addr(nlh, info, err);
      break;
    case RTM_NEWROUTE:
      r = parse_route(nlh, info, err);
      break;
    case RTM_NEWNEIGH:
      r = parse_neigh(nlh, info, err);
      break;
    default:
      break; /* NLMSG_NOOP and what a dump of these never holds */
    }
    if (r < 0)
      return -1;
    size_t step = NLMSG_ALIGN(nlh->nlmsg_len);
    if (step > left)
      step = left; /* the last message, unpadded */
    p += step;
    left -= step;
  }
  if (left != 0)
    return vc_error_set(err, EPROTO, "netlink: %zu trailing bytes", left);
  return 0;
}

/* ---- the plan ----------------------------------------------------------- */

static bool is_link_local6(const struct vc_ip_prefix *p) {
  return p->family == AF_INET6 && p->addr[0] == 0xfe &&
         (p->addr[1] & 0xc0) == 0x80;
}

static bool kind_mirrorable(const struct vc_net_link *l) {
  static const char *const kinds[] = {"veth", "macvlan", "macvtap", "ipvlan"};
  for (size_t i = 0; i < N_ELEMS(kinds); i++)
    if (strcmp(l->kind, kinds[i]) == 0)
      return true;
  return strcmp(l->kind, "tun") == 0 && l->tun_is_tap;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct vc_net_link *)a)->name,
                ((const struct vc_net_link *)b)->name);
}

int vc_net_plan(const struct vc_net_info *scan, struct vc_net_info *plan,
                vc_error **err) {
  memset(plan, 0, sizeof(*plan));
  for (size_t i = 0; i < scan->n_links; i++) {
    const struct vc_net_link *l = &scan->links[i];
    if ((l->flags & IFF_LOOPBACK) || !(l->flags & IFF_UP))
      continue;
    struct vc_net_link copy = *l;
    copy.n_addrs = 0;
    for (size_t j = 0; j < l->n_addrs; j++)
      if (!is_link_local6(&l->addrs[j]))
        copy.addrs[copy.n_addrs++] = l->addrs[j];
    if (copy.n_addrs == 0)
      continue;
    if (!kind_mirrorable(l))
      return vc_error_set(err, 0,
                          "network interface \"%s\" is of kind \"%s\", which "
                          "vcrun cannot mirror into the VM (veth, macvlan, "
                          "macvtap, ipvlan, tap)",
                          l->name, l->kind[0] ? l->kind : "device");
    if (!l->has_mac)
      return vc_error_set(err, 0, "network interface \"%s\" has no MAC address",
                          l->name);
    plan->links[plan->n_links++] = copy;
  }
  qsort(plan->links, plan->n_links, sizeof(plan->links[0]), by_name);
  for (size_t i = 0; i < scan->n_routes; i++) {
    const struct vc_net_route *r = &scan->routes[i];
    if (r->protocol == RTPROT_KERNEL || r->type != RTN_UNICAST)
      continue;
    if (vc_net_link_by_index(plan, r->oif) == NULL)
      continue;
    plan->routes[plan->n_routes++] = *r;
  }
  /* Routes without a gateway first (a gateway must be reachable when its
   * route is added), otherwise in the kernel's order: qsort is not stable,
   * so two passes. */
  struct vc_net_route *sorted = xcalloc(plan->n_routes + 1, sizeof(*sorted));
  size_t k = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < plan->n_routes; i++)
      if (plan->routes[i].has_gateway == (pass == 1))
        sorted[k++] = plan->routes[i];
  memcpy(plan->routes, sorted, plan->n_routes * sizeof(*sorted));
  free(sorted);
  for (size_t i = 0; i < scan->n_neighs; i++)
    if (vc_net_link_by_index(plan, scan->neighs[i].ifindex) != NULL)
      plan->neighs[plan->n_neighs++] = scan->neighs[i];
  vc_net_info_resolve(plan);
  return 0;
}

/* ---- running in a namespace --------------------------------------------- */

struct ns_call {
  const char *path;
  int (*fn)(void *arg, vc_error **err);
  void *arg;
  int result;
  vc_error *err;
};

static void *ns_thread(void *p) {
  struct ns_call *c = p;
  cleanup_close int fd = open(c->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
    c->result = vc_error_set(&c->err, errno, "enter network namespace `%s`",
                             c->path);
    return NULL;
  }
  c->result = c->fn(c->arg, &c->err);
  return NULL;
}

/* Runs fn in the network namespace at path from a thread of its own, which
 * then ends, so no thread of the caller ever changes namespace (sockets and
 * taps take the namespace of the thread that makes them).  path NULL: fn
 * runs here. */
static int in_netns(const char *path, int (*fn)(void *, vc_error **),
                    void *arg, vc_error **err) {
  if (path == NULL)
    return fn(arg, err);
  struct ns_call c = {path, fn, arg, -1, NULL};
  pthread_t t;
  int e = pthread_create(&t, NULL, ns_thread, &c);
  if (e != 0)
    return vc_error_set(err, e, "thread for network namespace `%s`", path);
  pthread_join(t, NULL);
  if (c.result < 0) {
    if (err != NULL && *err == NULL)
      *err = c.err;
    else
      vc_error_free(&c.err);
  }
  return c.result;
}

/* ---- the netlink socket ------------------------------------------------- */

struct nl {
  struct mnl_socket *sock;
  uint32_t seq;
  char req[VC_NL_REQ_SIZE];
};

static void nl_close(struct nl *nl) {
  if (nl->sock != NULL)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

static int nl_open(struct nl *nl, vc_error **err) {
  nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl->sock == NULL || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    nl_close(nl);
    return vc_error_set(err, e, "netlink socket");
  }
  nl->seq = (uint32_t)time(NULL);
  return 0;
}

/* Sends the request in nl->req (built with seq ++nl->seq) and waits for its
 * acknowledgement: 0, or the kernel's errno as a negative number. */
static int nl_talk(struct nl *nl) {
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->req;
  if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
    return -errno;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
    if (n < 0)
      return errno == EINTR ? -EINTR : -errno;
    int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
                       mnl_socket_get_portid(nl->sock), NULL, NULL);
    if (r == MNL_CB_ERROR)
      return -errno;
    if (r == MNL_CB_STOP)
      return 0;
  }
}

/* As nl_talk, but a failure becomes err naming what. */
static int nl_do(struct nl *nl, vc_error **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int nl_do(struct nl *nl, vc_error **err, const char *fmt, ...) {
  int r = nl_talk(nl);
  if (r == 0)
    return 0;
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  return vc_error_set(err, -r, "%s", what);
}

static int nl_dump(struct nl *nl, uint16_t type, struct vc_net_info *info,
                   vc_error **err) {
  const struct nlmsghdr *nlh = vc_nl_build_dump(nl->req, type, AF_UNSPEC, ++nl->seq);
  if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
    return vc_error_set(err, errno, "netlink: send dump request");
  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
    if (n < 0)
      return vc_error_set(err, errno, "netlink: read dump");
    int r = vc_nl_parse_dump(buf, (size_t)n, info, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
}

/* ---- scan --------------------------------------------------------------- */

static int scan_here(void *arg, vc_error **err) {
  struct vc_net_info *info = arg;
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  static const uint16_t dumps[] = {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE,
                                   RTM_GETNEIGH};
  int r = 0;
  /* A dump the kernel marks interrupted (the tables changed meanwhile) is
   * redone from the start. */
  for (int attempt = 0; attempt < 5; attempt++) {
    memset(info, 0, sizeof(*info));
    r = 0;
    for (size_t i = 0; i < N_ELEMS(dumps) && r == 0; i++)
      r = nl_dump(&nl, dumps[i], info, err);
    if (r == 0 || (*err)->errnum != EAGAIN)
      break;
    vc_error_free(err);
  }
  nl_close(&nl);
  if (r < 0)
    return -1;
  vc_net_info_resolve(info);
  return 0;
}

int vc_netns_scan(const char *netns_path, struct vc_net_info *info,
                  vc_error **err) {
  vc_error *inner = NULL;
  if (in_netns(netns_path, scan_here, info, &inner) < 0) {
    if (err != NULL && *err == NULL)
      *err = inner;
    else
      vc_error_free(&inner);
    return vc_error_wrap(err, "scan network namespace `%s`",
                         netns_path ? netns_path : "(own)");
  }
  return 0;
}

/* ---- models ------------------------------------------------------------- */

int vc_net_model_parse(const char *name) {
  if (strcmp(name, "tcfilter") == 0)
    return VC_NET_MODEL_TCFILTER;
  if (strcmp(name, "macvtap") == 0)
    return VC_NET_MODEL_MACVTAP;
  if (strcmp(name, "none") == 0)
    return VC_NET_MODEL_NONE;
  return -1;
}

const char *vc_net_model_name(enum vc_net_model model) {
  return model == VC_NET_MODEL_TCFILTER  ? "tcfilter"
         : model == VC_NET_MODEL_MACVTAP ? "macvtap"
                                         : "none";
}

/* A tap named name in this namespace: IFF_NO_PI (frames only) and
 * IFF_VNET_HDR (QEMU's virtio-net passes offload headers).  Not persistent,
 * so it vanishes with its last fd. */
static int tap_open(const char *name, int *fd_out, int *index, vc_error **err) {
  cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open /dev/net/tun");
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0)
    return vc_error_set(err, errno, "create tap %s", name);
  *index = (int)if_nametoindex(ifr.ifr_name);
  if (*index == 0)
    return vc_error_set(err, errno, "tap %s", name);
  *fd_out = fd;
  fd = -1; /* handed over */
  return 0;
}

/* Adds the ingress qdisc; the kernel answers EBUSY while a previous one on
 * the device is still being torn down, so that is retried briefly. */
static int add_ingress(struct nl *nl, int ifindex, const char *dev,
                       vc_error **err) {
  for (int attempt = 0;; attempt++) {
    vc_nl_build_ingress_qdisc(nl->req, ++nl->seq, RTM_NEWQDISC, ifindex);
    int r = nl_talk(nl);
    if (r == 0)
      return 0;
    if (r == -EBUSY && attempt < 20) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
      continue;
    }
    if (r == -EEXIST)
      return vc_error_set(err, 0, "%s already has an ingress qdisc (tc qdisc "
                          "show dev %s): vcrun will not share it", dev, dev);
    return vc_error_set(err, -r, "add ingress qdisc on %s", dev);
  }
}

static int del_ingress(struct nl *nl, int ifindex, const char *dev,
                       vc_error **err) {
  vc_nl_build_ingress_qdisc(nl->req, ++nl->seq, RTM_DELQDISC, ifindex);
  int r = nl_talk(nl);
  if (r == 0 || r == -ENOENT || r == -EINVAL || r == -ENODEV)
    return 0;
  return vc_error_set(err, -r, "remove ingress qdisc from %s", dev);
}

/* The link's index here, checked against the name the scan saw. */
static int link_index(const char *name, vc_error **err) {
  int index = (int)if_nametoindex(name);
  if (index == 0)
    return vc_error_set(err, errno, "network interface %s", name);
  return index;
}

struct attach_ctx {
  const struct vc_net_link *link;
  struct vc_net_attachment *out;
};

static int tcfilter_attach_here(void *arg, vc_error **err) {
  struct attach_ctx *c = arg;
  struct vc_net_attachment *a = c->out;
  int link = link_index(a->link, err);
  if (link < 0)
    return -1;
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  int fd = -1, tap = 0;
  bool link_qdisc = false;
  int r = tap_open(a->dev, &fd, &tap, err);
  if (r == 0) {
    vc_nl_build_link_change(nl.req, ++nl.seq, tap, a->mtu, NULL, IFF_UP, IFF_UP);
    r = nl_do(&nl, err, "set MTU %u and up on %s", a->mtu, a->dev);
  }
  if (r == 0)
    r = add_ingress(&nl, tap, a->dev, err);
  if (r == 0) {
    vc_nl_build_u32_redirect(nl.req, ++nl.seq, tap, link);
    r = nl_do(&nl, err, "add redirect filter %s -> %s", a->dev, a->link);
  }
  if (r == 0 && (r = add_ingress(&nl, link, a->link, err)) == 0)
    link_qdisc = true;
  if (r == 0) {
    vc_nl_build_u32_redirect(nl.req, ++nl.seq, link, tap);
    r = nl_do(&nl, err, "add redirect filter %s -> %s", a->link, a->dev);
  }
  if (r < 0) {
    /* The link's qdisc is ours (it was created exclusively); the tap, with
     * its qdisc and filter, goes with its fd. */
    if (link_qdisc) {
      vc_error *ignored = NULL;
      del_ingress(&nl, link, a->link, &ignored);
      vc_error_free(&ignored);
    }
    if (fd >= 0)
      close(fd);
    nl_close(&nl);
    return -1;
  }
  nl_close(&nl);
  a->fd = fd;
  return 0;
}

static int tcfilter_detach_here(void *arg, vc_error **err) {
  const struct vc_net_attachment *a = arg;
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  int r = 0;
  int link = (int)if_nametoindex(a->link);
  if (link > 0)
    r = del_ingress(&nl, link, a->link, err);
  int tap = (int)if_nametoindex(a->dev);
  if (r == 0 && tap > 0) {
    vc_nl_build_link_del(nl.req, ++nl.seq, tap);
    int e = nl_talk(&nl);
    if (e < 0 && e != -ENODEV)
      r = vc_error_set(err, -e, "remove tap %s", a->dev);
  }
  nl_close(&nl);
  return r;
}

/* A random locally administered unicast MAC. */
static int random_mac(uint8_t mac[6], vc_error **err) {
  cleanup_close int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || vc_read_all(fd, mac, 6) != 6)
    return vc_error_set(err, errno, "read /dev/urandom");
  mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
  return 0;
}

/* Opens the macvtap's character device.  Its number is only in sysfs, and
 * only a sysfs mounted from inside the namespace shows the namespace's
 * links; so: a private mount namespace (this runs in a child), sysfs, then
 * a device node on a private tmpfs. */
static int macvtap_open_dev(const char *name, int index, int *fd_out,
                            vc_error **err) {
  if (unshare(CLONE_NEWNS) < 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    return vc_error_set(err, errno, "private sysfs for %s", name);
  cleanup_free char *path = xasprintf("/sys/class/net/%s/macvtap/tap%d/dev", name, index);
  cleanup_free char *text = NULL;
  if (vc_read_file(path, &text, NULL, err) < 0)
    return -1;
  unsigned maj, min;
  if (sscanf(text, "%u:%u", &maj, &min) != 2)
    return vc_error_set(err, 0, "%s: \"%s\" is no device number", path, text);
  if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0700") < 0 ||
      mknod("/tmp/tap", S_IFCHR | 0600, makedev(maj, min)) < 0)
    return vc_error_set(err, errno, "device node for %s", name);
  *fd_out = open("/tmp/tap", O_RDWR | O_CLOEXEC);
  if (*fd_out < 0)
    return vc_error_set(err, errno, "open /dev/tap%d of %s", index, name);
  return 0;
}

static int macvtap_undo(struct nl *nl, const struct vc_net_attachment *a,
                        vc_error **err) {
  int r = 0;
  int dev = (int)if_nametoindex(a->dev);
  if (dev > 0) {
    vc_nl_build_link_del(nl->req, ++nl->seq, dev);
    int e = nl_talk(nl);
    if (e < 0 && e != -ENODEV)
      r = vc_error_set(err, -e, "remove macvtap %s", a->dev);
  }
  int link = (int)if_nametoindex(a->link);
  if (r == 0 && link > 0) {
    vc_nl_build_link_change(nl->req, ++nl->seq, link, 0, a->link_mac,
                            a->link_noarp ? IFF_NOARP : 0, IFF_NOARP);
    r = nl_do(nl, err, "restore MAC and ARP of %s", a->link);
  }
  return r;
}

/* The whole macvtap attachment, in the current network namespace; leaves
 * the mount namespace private (callers run it in a child). */
static int macvtap_attach_here(struct vc_net_attachment *a, vc_error **err) {
  int link = link_index(a->link, err);
  if (link < 0)
    return -1;
  uint8_t link_new_mac[6];
  if (random_mac(link_new_mac, err) < 0)
    return -1;
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  /* The macvtap takes the link's MAC, which a lower device and its
   * macvtap may not share; NOARP keeps the link's own stack from answering
   * ARP for the addresses the guest now holds. */
  vc_nl_build_link_change(nl.req, ++nl.seq, link, 0, link_new_mac, IFF_NOARP,
                          IFF_NOARP);
  int r = nl_do(&nl, err, "new MAC and NOARP on %s", a->link);
  bool changed = r == 0;
  if (r == 0) {
    vc_nl_build_macvtap_new(nl.req, ++nl.seq, a->dev, link, a->guest_mac, a->mtu);
    r = nl_do(&nl, err, "create macvtap %s on %s", a->dev, a->link);
  }
  int dev = 0;
  if (r == 0 && (dev = link_index(a->dev, err)) < 0)
    r = -1;
  if (r == 0) {
    vc_nl_build_link_change(nl.req, ++nl.seq, dev, 0, NULL, IFF_UP, IFF_UP);
    r = nl_do(&nl, err, "set %s up", a->dev);
  }
  if (r == 0)
    r = macvtap_open_dev(a->dev, dev, &a->fd, err);
  if (r < 0 && changed) {
    vc_error *ignored = NULL;
    macvtap_undo(&nl, a, &ignored);
    vc_error_free(&ignored);
  }
  nl_close(&nl);
  return r;
}

/* Runs macvtap_attach_here in a child in netns_path (NULL: this one) and
 * receives the fd, or the error text, on a socket pair. */
static int macvtap_attach(const char *netns_path, struct vc_net_attachment *a,
                          vc_error **err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return vc_error_set(err, errno, "socketpair");
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    return vc_error_set(err, e, "fork");
  }
  if (pid == 0) {
    close(sv[0]);
    vc_error *cerr = NULL;
    int nsfd = netns_path ? open(netns_path, O_RDONLY | O_CLOEXEC) : -1;
    int r = 0;
    if (netns_path != NULL && (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0))
      r = vc_error_set(&cerr, errno, "enter network namespace `%s`", netns_path);
    if (r == 0)
      r = macvtap_attach_here(a, &cerr);
    if (r == 0)
      vc_send_fd(sv[1], "", 1, a->fd);
    else if (vc_write_all(sv[1], cerr->msg, strlen(cerr->msg) + 1) < 0)
      _exit(2);
    _exit(r == 0 ? 0 : 1);
  }
  close(sv[1]);
  char msg[1024] = "";
  int fd = -1;
  ssize_t n = vc_recv_fd(sv[0], msg, sizeof(msg) - 1, &fd);
  int e = errno;
  close(sv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (n > 0 && msg[0] == '\0' && fd >= 0) {
    a->fd = fd;
    return 0;
  }
  if (fd >= 0)
    close(fd);
  if (n > 0) {
    msg[n] = '\0';
    return vc_error_set(err, 0, "%s", msg);
  }
  return vc_error_set(err, n < 0 ? e : 0, "macvtap helper for %s exited (%d)",
                      a->link, status);
}

static int macvtap_detach_here(void *arg, vc_error **err) {
  struct nl nl = {0};
  if (nl_open(&nl, err) < 0)
    return -1;
  int r = macvtap_undo(&nl, arg, err);
  nl_close(&nl);
  return r;
}

int vc_net_attach(const char *netns_path, enum vc_net_model model,
                  const struct vc_net_link *link, unsigned n,
                  struct vc_net_attachment *out, vc_error **err) {
  memset(out, 0, sizeof(*out));
  out->fd = -1;
  out->model = model;
  snprintf(out->link, sizeof(out->link), "%s", link->name);
  memcpy(out->guest_mac, link->mac, 6);
  memcpy(out->link_mac, link->mac, 6);
  out->link_noarp = (link->flags & IFF_NOARP) != 0;
  out->mtu = link->mtu;
  struct attach_ctx c = {link, out};
  int r;
  switch (model) {
  case VC_NET_MODEL_TCFILTER:
    snprintf(out->dev, sizeof(out->dev), "tap%u_vc", n);
    r = in_netns(netns_path, tcfilter_attach_here, &c, err);
    break;
  case VC_NET_MODEL_MACVTAP:
    snprintf(out->dev, sizeof(out->dev), "mvt%u_vc", n);
    r = macvtap_attach(netns_path, out, err);
    break;
  default:
    return vc_error_set(err, EINVAL, "network model \"%s\" attaches nothing",
                        vc_net_model_name(model));
  }
  if (r < 0)
    return vc_error_wrap(err, "mirror %s into the VM (%s)", link->name,
                         vc_net_model_name(model));
  return 0;
}

int vc_net_detach(const char *netns_path, const struct vc_net_attachment *a,
                  vc_error **err) {
  if (netns_path != NULL && !vc_file_exists(netns_path))
    return 0; /* the namespace is gone, and with it all we made there */
  int r = 0;
  if (a->model == VC_NET_MODEL_TCFILTER)
    r = in_netns(netns_path, tcfilter_detach_here, (void *)a, err);
  else if (a->model == VC_NET_MODEL_MACVTAP)
    r = in_netns(netns_path, macvtap_detach_here, (void *)a, err);
  if (r < 0)
    return vc_error_wrap(err, "undo the mirror of %s", a->link);
  return 0;
}

/* ---- probe -------------------------------------------------------------- */

static int probe_tcfilter_here(struct vc_net_attachment *a, vc_error **err) {
  /* A tap stands in for the veth: the same calls, on two taps. */
  int fd = -1, index = 0;
  if (tap_open("vcprobe0", &fd, &index, err) < 0)
    return -1;
  struct vc_net_link link = {.index = index, .mtu = 1500};
  snprintf(link.name, sizeof(link.name), "vcprobe0");
  memset(a, 0, sizeof(*a));
  snprintf(a->link, sizeof(a->link), "vcprobe0");
  snprintf(a->dev, sizeof(a->dev), "tap0_vc");
  a->mtu = 1500;
  struct attach_ctx c = {&link, a};
  int r = tcfilter_attach_here(&c, err);
  if (r == 0)
    close(a->fd);
  close(fd);
  return r;
}

static int probe_macvtap_here(struct vc_net_attachment *a, vc_error **err) {
  int fd = -1, index = 0;
  if (tap_open("vcprobe1", &fd, &index, err) < 0)
    return -1;
  memset(a, 0, sizeof(*a));
  a->fd = -1;
  snprintf(a->link, sizeof(a->link), "vcprobe1");
  snprintf(a->dev, sizeof(a->dev), "mvt0_vc");
  a->mtu = 1500;
  int r = random_mac(a->guest_mac, err);
  if (r == 0)
    r = macvtap_attach_here(a, err);
  if (r == 0)
    close(a->fd);
  close(fd);
  return r;
}

static void set_why(char *why, size_t size, const char *text) {
  if (why != NULL && size > 0)
    snprintf(why, size, "%s", text);
}

void vc_net_probe_models(bool *tcfilter, char *why_tcfilter, size_t why_tc_size,
                         bool *macvtap, char *why_macvtap,
                         size_t why_macvtap_size) {
  *tcfilter = *macvtap = false;
  set_why(why_tcfilter, why_tc_size, "probe did not run");
  set_why(why_macvtap, why_macvtap_size, "probe did not run");
  /* A child in a scratch network namespace: whatever the probe makes goes
   * with the namespace when the child exits.  It writes "tcfilter\t<why>"
   * and "macvtap\t<why>" lines, an empty why meaning supported. */
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0)
    return;
  pid_t pid = fork();
  if (pid < 0) {
    close(pfd[0]);
    close(pfd[1]);
    return;
  }
  if (pid == 0) {
    close(pfd[0]);
    FILE *out = fdopen(pfd[1], "w");
    if (out == NULL)
      _exit(1);
    if (unshare(CLONE_NEWNET) < 0) {
      fprintf(out, "tcfilter\tscratch network namespace: %s\n", strerror(errno));
      fprintf(out, "macvtap\tscratch network namespace: %s\n", strerror(errno));
      _exit(0);
    }
    struct vc_net_attachment a;
    vc_error *e = NULL;
    probe_tcfilter_here(&a, &e);
    fprintf(out, "tcfilter\t%s\n", e ? e->msg : "");
    vc_error_free(&e);
    probe_macvtap_here(&a, &e);
    fprintf(out, "macvtap\t%s\n", e ? e->msg : "");
    vc_error_free(&e);
    fclose(out);
    _exit(0);
  }
  close(pfd[1]);
  char buf[1024];
  size_t len = 0;
  ssize_t n;
  while (len + 1 < sizeof(buf) &&
         ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
          (n < 0 && errno == EINTR)))
    if (n > 0)
      len += (size_t)n;
  buf[len] = '\0';
  close(pfd[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char *tab = strchr(line, '\t');
    if (tab == NULL)
      continue;
    *tab = '\0';
    const char *why = tab + 1;
    if (strcmp(line, "tcfilter") == 0) {
      *tcfilter = why[0] == '\0';
      set_why(why_tcfilter, why_tc_size, why);
    } else if (strcmp(line, "macvtap") == 0) {
      *macvtap = why[0] == '\0';
      set_why(why_macvtap, why_macvtap_size, why);
    }
  }
}
