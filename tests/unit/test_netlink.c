/* lib/host/netlink.c without a kernel: the request builders byte for byte
 * against messages laid out by hand from the kernel's structs (struct
 * nlmsghdr 16 bytes, ifinfomsg 16, tcmsg 20, rtmsg 12; attributes 4-byte
 * header, padded to 4), the dump parser on recorded dumps and on broken
 * ones, and the mirror plan. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>

#include "netlink_dumps.h"
#include "test.h"
#include "lib/base/util.h"
#include "lib/host/netlink.h"

static int same_bytes(const struct nlmsghdr *nlh, const uint8_t *want,
                      size_t want_len) {
  const uint8_t *got = (const uint8_t *)nlh;
  if (nlh->nlmsg_len != want_len) {
    fprintf(stderr, "  length %u, want %zu\n", nlh->nlmsg_len, want_len);
    return 0;
  }
  for (size_t i = 0; i < want_len; i++)
    if (got[i] != want[i]) {
      fprintf(stderr, "  byte %zu: 0x%02x, want 0x%02x\n", i, got[i], want[i]);
      return 0;
    }
  return 1;
}

#define LE32(v) (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
#define LE16(v) (v) & 0xff, ((v) >> 8) & 0xff
/* struct nlmsghdr: len, type, flags, seq, pid 0. */
#define NLHDR(len, type, flags, seq) LE32(len), LE16(type), LE16(flags), LE32(seq), LE32(0)
#define REQ_ACK 0x0005        /* NLM_F_REQUEST | NLM_F_ACK */
#define REQ_CREATE_EXCL 0x0605 /* ... | NLM_F_CREATE | NLM_F_EXCL */
#define NESTED 0x8000          /* NLA_F_NESTED, on every nest */

TEST(build_link_dump) {
  static const uint8_t want[] = {
      NLHDR(32, 18 /* RTM_GETLINK */, 0x0301 /* REQUEST | DUMP */, 7),
      /* ifinfomsg: family AF_UNSPEC, pad, type, index, flags, change */
      0, 0, LE16(0), LE32(0), LE32(0), LE32(0)};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_dump(buf, RTM_GETLINK, AF_UNSPEC, 7), want,
                   sizeof(want)));
}

TEST(build_route_dump_v6) {
  static const uint8_t want[] = {
      NLHDR(28, 26 /* RTM_GETROUTE */, 0x0301, 8),
      /* rtmsg: family AF_INET6 (10), then 11 zero bytes */
      10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_dump(buf, RTM_GETROUTE, AF_INET6, 8), want,
                   sizeof(want)));
}

TEST(build_link_change_mtu_up) {
  static const uint8_t want[] = {
      NLHDR(40, 16 /* RTM_NEWLINK */, REQ_ACK, 3),
      /* ifinfomsg: index 9, flags IFF_UP, change IFF_UP */
      0, 0, LE16(0), LE32(9), LE32(1), LE32(1),
      /* IFLA_MTU (4) = 1400 */
      LE16(8), LE16(4), LE32(1400)};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_link_change(buf, 3, 9, 1400, NULL, IFF_UP, IFF_UP),
                   want, sizeof(want)));
}

TEST(build_link_change_mac_noarp_off) {
  static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  static const uint8_t want[] = {
      NLHDR(44, 16, REQ_ACK, 4),
      /* flags 0 in the IFF_NOARP (0x80) bit: clears it */
      0, 0, LE16(0), LE32(2), LE32(0), LE32(0x80),
      /* IFLA_ADDRESS (1), 6 bytes padded to 8 */
      LE16(10), LE16(1), 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_link_change(buf, 4, 2, 0, mac, 0, IFF_NOARP),
                   want, sizeof(want)));
}

TEST(build_link_del) {
  static const uint8_t want[] = {NLHDR(32, 17 /* RTM_DELLINK */, REQ_ACK, 5),
                                 0, 0, LE16(0), LE32(4), LE32(0), LE32(0)};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_link_del(buf, 5, 4), want, sizeof(want)));
}

TEST(build_macvtap) {
  static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x07};
  static const uint8_t want[] = {
      NLHDR(100, 16, REQ_CREATE_EXCL, 6),
      0, 0, LE16(0), LE32(0), LE32(0), LE32(0),
      /* IFLA_IFNAME (3) "mvt0_vc" with its NUL */
      LE16(12), LE16(3), 'm', 'v', 't', '0', '_', 'v', 'c', 0,
      /* IFLA_LINK (5) = 3 */
      LE16(8), LE16(5), LE32(3),
      /* IFLA_ADDRESS (1) */
      LE16(10), LE16(1), 0x02, 0, 0, 0, 0, 0x07, 0, 0,
      /* IFLA_MTU (4) = 1500 */
      LE16(8), LE16(4), LE32(1500),
      /* IFLA_LINKINFO (18, nested) { IFLA_INFO_KIND (1) "macvtap",
       *   IFLA_INFO_DATA (2) { IFLA_MACVLAN_MODE (1) = BRIDGE (4) } } */
      LE16(28), LE16(18 | NESTED),
      LE16(12), LE16(1), 'm', 'a', 'c', 'v', 't', 'a', 'p', 0,
      LE16(12), LE16(2 | NESTED), LE16(8), LE16(1), LE32(4)};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_macvtap_new(buf, 6, "mvt0_vc", 3, mac, 1500),
                   want, sizeof(want)));
}

TEST(build_ingress_qdisc) {
  static const uint8_t want_new[] = {
      NLHDR(48, 36 /* RTM_NEWQDISC */, REQ_CREATE_EXCL, 1),
      /* tcmsg: family, pad, pad, ifindex 5, handle ffff:0, parent
       * TC_H_INGRESS (ffff:fff1), info 0 */
      0, 0, LE16(0), LE32(5), LE32(0xffff0000u), LE32(0xfffffff1u), LE32(0),
      /* TCA_KIND (1) "ingress" */
      LE16(12), LE16(1), 'i', 'n', 'g', 'r', 'e', 's', 's', 0};
  static const uint8_t want_del[] = {
      NLHDR(48, 37 /* RTM_DELQDISC */, REQ_ACK, 2),
      0, 0, LE16(0), LE32(5), LE32(0xffff0000u), LE32(0xfffffff1u), LE32(0),
      LE16(12), LE16(1), 'i', 'n', 'g', 'r', 'e', 's', 's', 0};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_ingress_qdisc(buf, 1, RTM_NEWQDISC, 5), want_new,
                   sizeof(want_new)));
  CHECK(same_bytes(vc_nl_build_ingress_qdisc(buf, 2, RTM_DELQDISC, 5), want_del,
                   sizeof(want_del)));
}

TEST(build_u32_redirect) {
  static const uint8_t want[] = {
      NLHDR(140, 44 /* RTM_NEWTFILTER */, REQ_CREATE_EXCL, 2),
      /* tcmsg: ifindex 5, handle 0 (the kernel picks), parent ffff:,
       * info = prio 1 << 16 | htons(ETH_P_ALL) */
      0, 0, LE16(0), LE32(5), LE32(0), LE32(0xffff0000u), LE32(0x00010300u),
      /* TCA_KIND (1) "u32" */
      LE16(8), LE16(1), 'u', '3', '2', 0,
      /* TCA_OPTIONS (2, nested) */
      LE16(96), LE16(2 | NESTED),
      /* TCA_U32_SEL (5): struct tc_u32_sel { flags TC_U32_TERMINAL (1),
       * offshift 0, nkeys 1, pad, offmask, off, offoff, hoff, hmask } and
       * one struct tc_u32_key { mask 0, val 0, off 0, offmask 0 } */
      LE16(36), LE16(5),
      1, 0, 1, 0, LE16(0), LE16(0), LE16(0), LE16(0), LE32(0),
      LE32(0), LE32(0), LE32(0), LE32(0),
      /* TCA_U32_ACT (7) { [1] { TCA_ACT_KIND (1) "mirred",
       *   TCA_ACT_OPTIONS (2) { TCA_MIRRED_PARMS (2) } } }, nests nested */
      LE16(56), LE16(7 | NESTED),
      LE16(52), LE16(1 | NESTED),
      LE16(11), LE16(1), 'm', 'i', 'r', 'r', 'e', 'd', 0, 0 /* pad */,
      LE16(36), LE16(2 | NESTED),
      /* struct tc_mirred { index, capab, action TC_ACT_STOLEN (4), refcnt,
       * bindcnt, eaction TCA_EGRESS_REDIR (1), ifindex 7 } */
      LE16(32), LE16(2),
      LE32(0), LE32(0), LE32(4), LE32(0), LE32(0), LE32(1), LE32(7)};
  char buf[VC_NL_REQ_SIZE];
  CHECK(same_bytes(vc_nl_build_u32_redirect(buf, 2, 5, 7), want, sizeof(want)));
}

/* Parses the four recorded dumps into info; each ends its dump. */
static void parse_recorded(struct vc_net_info *info) {
  vc_error *err = NULL;
  memset(info, 0, sizeof(*info));
  CHECK(vc_nl_parse_dump(link_dump, sizeof(link_dump), info, &err) == 1);
  CHECK(vc_nl_parse_dump(addr_dump, sizeof(addr_dump), info, &err) == 1);
  CHECK(vc_nl_parse_dump(route_dump, sizeof(route_dump), info, &err) == 1);
  CHECK(vc_nl_parse_dump(neigh_dump, sizeof(neigh_dump), info, &err) == 1);
  CHECK(err == NULL);
  vc_error_free(&err);
  vc_net_info_resolve(info);
}

static const char *prefix_text(const struct vc_ip_prefix *p) {
  static char text[VC_IP_PREFIX_STR_MAX];
  vc_ip_prefix_format(p, text);
  return text;
}

static const char *ip_text(int family, const uint8_t *addr) {
  static char text[64];
  inet_ntop(family, addr, text, sizeof(text));
  return text;
}

TEST(parse_recorded_dumps) {
  struct vc_net_info *info = xcalloc(1, sizeof(*info));
  parse_recorded(info);
  CHECK(info->n_links == 4);
  struct vc_net_link *lo = vc_net_link_by_name(info, "lo");
  struct vc_net_link *eth0 = vc_net_link_by_name(info, "eth0");
  struct vc_net_link *eth1 = vc_net_link_by_name(info, "eth1");
  struct vc_net_link *eth2 = vc_net_link_by_name(info, "eth2");
  CHECK(lo && eth0 && eth1 && eth2);
  if (!(lo && eth0 && eth1 && eth2))
    goto out;
  CHECK((lo->flags & IFF_LOOPBACK) && lo->kind[0] == '\0');
  CHECK_STR(eth0->kind, "veth");
  CHECK(eth0->mtu == 1400 && eth1->mtu == 1500);
  CHECK(eth0->flags & IFF_UP);
  char mac[18];
  vc_mac_format(eth0->mac, mac);
  CHECK(eth0->has_mac);
  CHECK_STR(mac, "be:b2:93:39:6a:c0");
  CHECK(eth0->n_addrs == 3);
  CHECK_STR(prefix_text(&eth0->addrs[0]), "10.200.0.2/24");
  CHECK_STR(prefix_text(&eth0->addrs[1]), "fd00:200::2/64");
  CHECK(eth1->n_addrs == 2 && eth2->n_addrs == 1);
  CHECK_STR(prefix_text(&eth2->addrs[0]), "fe80::c4d9:85ff:fe3b:f5f8/64");
  /* Main table only: the local table's routes are not there. */
  CHECK(info->n_routes == 9);
  int with_mtu = 0;
  for (size_t i = 0; i < info->n_routes; i++) {
    const struct vc_net_route *r = &info->routes[i];
    if (r->mtu != 0) {
      with_mtu++;
      CHECK(r->mtu == 1300);
      CHECK_STR(prefix_text(&r->dst), "10.210.0.0/16");
      CHECK(r->has_gateway);
      CHECK_STR(ip_text(AF_INET, r->gateway), "10.201.0.1");
      CHECK_STR(r->dev, "eth1");
    }
  }
  CHECK(with_mtu == 1);
  CHECK(info->n_neighs == 2);
  CHECK_STR(ip_text(AF_INET, info->neighs[0].ip), "10.200.0.1");
  CHECK_STR(ip_text(AF_INET6, info->neighs[1].ip), "fd00:200::1");
  CHECK_STR(info->neighs[1].dev, "eth0");
  vc_mac_format(info->neighs[0].mac, mac);
  CHECK_STR(mac, "02:00:00:00:00:01");
out:
  free(info);
}

TEST(plan_from_recorded_dumps) {
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  parse_recorded(scan);
  /* A gatewayless route added by hand after the gateway ones: the plan
   * must put it first. */
  struct vc_net_route extra = {.family = AF_INET, .oif = vc_net_link_by_name(scan, "eth1")->index,
                               .protocol = RTPROT_BOOT, .type = RTN_UNICAST};
  CHECK(vc_ip_prefix_parse("10.220.0.0/16", &extra.dst, NULL) == 0);
  scan->routes[scan->n_routes++] = extra;
  vc_error *err = NULL;
  CHECK(vc_net_plan(scan, plan, &err) == 0);
  CHECK(err == NULL);
  /* lo (loopback) and eth2 (only link-local) stay out; sorted by name. */
  CHECK(plan->n_links == 2);
  CHECK_STR(plan->links[0].name, "eth0");
  CHECK_STR(plan->links[1].name, "eth1");
  CHECK(plan->links[0].n_addrs == 2); /* fe80:: is the guest's own business */
  CHECK(plan->links[1].n_addrs == 1);
  /* Kernel routes out; gatewayless first. */
  CHECK(plan->n_routes == 4);
  CHECK_STR(prefix_text(&plan->routes[0].dst), "10.220.0.0/16");
  CHECK(!plan->routes[0].has_gateway);
  CHECK_STR(plan->routes[0].dev, "eth1");
  for (size_t i = 1; i < plan->n_routes; i++)
    CHECK(plan->routes[i].has_gateway && plan->routes[i].protocol != RTPROT_KERNEL);
  CHECK(plan->n_neighs == 2);
  vc_error_free(&err);
  free(scan);
  free(plan);
}

TEST(plan_refuses_other_kinds) {
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  parse_recorded(scan);
  vc_error *err = NULL;
  /* Not mirrored anyway (only link-local): no error. */
  snprintf(vc_net_link_by_name(scan, "eth2")->kind, VC_NET_KIND_MAX, "bridge");
  CHECK(vc_net_plan(scan, plan, &err) == 0);
  /* A tun in tun mode, or a bridge, that would be mirrored: refused. */
  struct vc_net_link *eth1 = vc_net_link_by_name(scan, "eth1");
  snprintf(eth1->kind, VC_NET_KIND_MAX, "tun");
  CHECK(vc_net_plan(scan, plan, &err) < 0);
  CHECK(err && strstr(err->msg, "\"eth1\"") && strstr(err->msg, "\"tun\""));
  vc_error_free(&err);
  eth1->tun_is_tap = true;
  CHECK(vc_net_plan(scan, plan, &err) == 0);
  eth1->kind[0] = '\0';
  CHECK(vc_net_plan(scan, plan, &err) < 0);
  CHECK(err && strstr(err->msg, "\"eth1\" is of kind \"device\""));
  vc_error_free(&err);
  /* Down: not mirrored, so not refused. */
  eth1->flags &= ~(unsigned)IFF_UP;
  CHECK(vc_net_plan(scan, plan, &err) == 0);
  CHECK(plan->n_links == 1);
  free(scan);
  free(plan);
}

/* The first message of the link dump, copied so it can be broken. */
static size_t first_link_msg(uint8_t *out) {
  const struct nlmsghdr *nlh = (const struct nlmsghdr *)link_dump;
  memcpy(out, link_dump, nlh->nlmsg_len);
  return nlh->nlmsg_len;
}

TEST(parse_rejects_broken_dumps) {
  struct vc_net_info *info = xcalloc(1, sizeof(*info));
  vc_error *err = NULL;
  uint8_t msg[2048];
  size_t len = first_link_msg(msg);
  /* Cut short: the message is incomplete. */
  CHECK(vc_nl_parse_dump(msg, len - 3, info, &err) < 0);
  CHECK(err && strstr(err->msg, "message length"));
  vc_error_free(&err);
  /* An attribute longer than the message. */
  memset(info, 0, sizeof(*info));
  len = first_link_msg(msg);
  struct nlattr *first = (struct nlattr *)(msg + NLMSG_HDRLEN + sizeof(struct ifinfomsg));
  first->nla_len = (uint16_t)len;
  CHECK(vc_nl_parse_dump(msg, len, info, &err) < 0);
  CHECK(err && strstr(err->msg, "malformed link"));
  vc_error_free(&err);
  /* A message too short for its ifinfomsg. */
  memset(info, 0, sizeof(*info));
  struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
  nlh->nlmsg_len = NLMSG_HDRLEN + 8;
  CHECK(vc_nl_parse_dump(msg, nlh->nlmsg_len, info, &err) < 0);
  vc_error_free(&err);
  /* The kernel's error. */
  struct {
    struct nlmsghdr h;
    struct nlmsgerr e;
  } error_msg = {{sizeof(error_msg), NLMSG_ERROR, 0, 1, 0}, {-EPERM, {0}}};
  CHECK(vc_nl_parse_dump(&error_msg, sizeof(error_msg), info, &err) < 0);
  CHECK(err && err->errnum == EPERM);
  vc_error_free(&err);
  /* An interrupted dump asks for a retry. */
  len = first_link_msg(msg);
  nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
  CHECK(vc_nl_parse_dump(msg, len, info, &err) < 0);
  CHECK(err && err->errnum == EAGAIN);
  vc_error_free(&err);
  /* More links than the table holds. */
  memset(info, 0, sizeof(*info));
  len = first_link_msg(msg);
  int r = 0;
  for (int i = 0; i <= VC_NET_MAX_LINKS && r == 0; i++)
    r = vc_nl_parse_dump(msg, len, info, &err);
  CHECK(r < 0 && err && err->errnum == E2BIG);
  CHECK(info->n_links == VC_NET_MAX_LINKS);
  vc_error_free(&err);
  free(info);
}

TEST(model_names) {
  CHECK(vc_net_model_parse("tcfilter") == VC_NET_MODEL_TCFILTER);
  CHECK(vc_net_model_parse("macvtap") == VC_NET_MODEL_MACVTAP);
  CHECK(vc_net_model_parse("none") == VC_NET_MODEL_NONE);
  CHECK(vc_net_model_parse("bridge") == -1);
  CHECK_STR(vc_net_model_name(VC_NET_MODEL_MACVTAP), "macvtap");
}

TEST(text_forms) {
  struct vc_ip_prefix p;
  char text[VC_IP_PREFIX_STR_MAX];
  CHECK(vc_ip_prefix_parse("fd00::5/64", &p, NULL) == 0);
  CHECK(p.family == AF_INET6 && p.len == 64);
  vc_ip_prefix_format(&p, text);
  CHECK_STR(text, "fd00::5/64");
  CHECK(vc_ip_prefix_parse("10.0.0.1", &p, NULL) == 0 && p.len == 32);
  vc_error *err = NULL;
  CHECK(vc_ip_prefix_parse("10.0.0.1/33", &p, &err) < 0);
  vc_error_free(&err);
  CHECK(vc_ip_prefix_parse("10.0.0/8", &p, &err) < 0);
  vc_error_free(&err);
  uint8_t mac[6];
  CHECK(vc_mac_parse("02:ab:cd:ef:01:23", mac, NULL) == 0 && mac[1] == 0xab);
  CHECK(vc_mac_parse("02:ab:cd:ef:01:2", mac, &err) < 0);
  vc_error_free(&err);
}

int main(void) {
  RUN(build_link_dump);
  RUN(build_route_dump_v6);
  RUN(build_link_change_mtu_up);
  RUN(build_link_change_mac_noarp_off);
  RUN(build_link_del);
  RUN(build_macvtap);
  RUN(build_ingress_qdisc);
  RUN(build_u32_redirect);
  RUN(parse_recorded_dumps);
  RUN(plan_from_recorded_dumps);
  RUN(plan_refuses_other_kinds);
  RUN(parse_rejects_broken_dumps);
  RUN(model_names);
  RUN(text_forms);
  return TEST_SUMMARY();
}
