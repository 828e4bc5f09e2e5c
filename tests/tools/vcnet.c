/* Drives lib/host/netlink.h for tests/bats/netlink.bats:
 *   vcnet scan NETNS              the scan, then the plan, one item a line
 *   vcnet attach [-k] NETNS MODEL LINK [CMD...]
 *                                 attaches LINK, runs CMD (environment
 *                                 VCNET_DEV = the device made), then closes
 *                                 the fd (as QEMU's exit would; -k: keeps it
 *                                 open, as a hot-unplug would) and detaches
 *   vcnet hotplug NETNS LINK QMP  attaches LINK (tcfilter), hot-plugs it
 *                                 into the q35 VM behind QMP, checks
 *                                 query-pci, unplugs it and detaches
 *   vcnet probe                   the models this host supports
 *   vcnet record NETNS FILE       the raw link, address, route and
 *                                 neighbour dumps, for unit-test fixtures */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/host/netlink.h"
#include "vmm/qemu_net.h"
#include "vmm/qmp.h"

static int fail(vc_error **err) {
  fprintf(stderr, "vcnet: %s\n", (*err)->msg);
  vc_error_free(err);
  return 1;
}

static void print_info(const char *what, const struct vc_net_info *info) {
  char a[VC_IP_PREFIX_STR_MAX], b[VC_IP_PREFIX_STR_MAX], mac[18];
  for (size_t i = 0; i < info->n_links; i++) {
    const struct vc_net_link *l = &info->links[i];
    vc_mac_format(l->mac, mac);
    printf("%s link %s kind=%s mac=%s mtu=%u up=%d\n", what, l->name,
           l->kind[0] ? l->kind : "-", l->has_mac ? mac : "-", l->mtu,
           (l->flags & 1) != 0);
    for (size_t j = 0; j < l->n_addrs; j++) {
      vc_ip_prefix_format(&l->addrs[j], a);
      printf("%s addr %s %s\n", what, l->name, a);
    }
  }
  for (size_t i = 0; i < info->n_routes; i++) {
    const struct vc_net_route *r = &info->routes[i];
    vc_ip_prefix_format(&r->dst, a);
    struct vc_ip_prefix gw = {.family = r->family, .len = 0};
    memcpy(gw.addr, r->gateway, 16);
    vc_ip_prefix_format(&gw, b);
    b[strlen(b) - 2] = '\0'; /* no "/0" */
    printf("%s route %s via %s dev %s mtu %u proto %u\n", what, a,
           r->has_gateway ? b : "-", r->dev[0] ? r->dev : "-", r->mtu,
           r->protocol);
  }
  for (size_t i = 0; i < info->n_neighs; i++) {
    const struct vc_net_neigh *n = &info->neighs[i];
    struct vc_ip_prefix ip = {.family = n->family, .len = (uint8_t)(vc_ip_len(n->family) * 8)};
    memcpy(ip.addr, n->ip, 16);
    vc_ip_prefix_format(&ip, a);
    vc_mac_format(n->mac, mac);
    printf("%s neigh %s lladdr %s dev %s\n", what, a, mac, n->dev);
  }
}

static int cmd_scan(const char *netns) {
  vc_error *err = NULL;
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  int rc = 0;
  if (vc_netns_scan(netns, scan, &err) < 0) {
    rc = fail(&err);
  } else {
    print_info("scan", scan);
    if (vc_net_plan(scan, plan, &err) < 0)
      rc = fail(&err);
    else
      print_info("plan", plan);
  }
  free(scan);
  free(plan);
  return rc;
}

static int cmd_attach(bool keep, const char *netns, const char *model_name,
                      const char *link_name, char **cmd) {
  vc_error *err = NULL;
  int model = vc_net_model_parse(model_name);
  if (model < 0) {
    fprintf(stderr, "vcnet: unknown model %s\n", model_name);
    return 2;
  }
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_net_attachment a;
  int rc = 0;
  if (vc_netns_scan(netns, scan, &err) < 0) {
    rc = fail(&err);
    goto out;
  }
  const struct vc_net_link *link = vc_net_link_by_name(scan, link_name);
  if (link == NULL) {
    fprintf(stderr, "vcnet: no link %s\n", link_name);
    rc = 1;
    goto out;
  }
  if (vc_net_attach(netns, model, link, 0, &a, &err) < 0) {
    rc = fail(&err);
    goto out;
  }
  char mac[18];
  vc_mac_format(a.guest_mac, mac);
  printf("attached %s dev %s mac %s mtu %u fd %s\n", a.link, a.dev, mac, a.mtu,
         a.fd >= 0 ? "yes" : "no");
  fflush(stdout);
  if (cmd[0] != NULL) {
    setenv("VCNET_DEV", a.dev, 1);
    pid_t pid = fork();
    if (pid == 0) {
      execvp(cmd[0], cmd);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "vcnet: %s failed\n", cmd[0]);
      rc = 1;
    }
  }
  if (!keep)
    close(a.fd);
  if (vc_net_detach(netns, &a, &err) < 0)
    rc = fail(&err);
  if (keep)
    close(a.fd);
  if (rc == 0)
    printf("detached %s\n", a.link);
out:
  free(scan);
  return rc;
}

static int cmd_hotplug(const char *netns, const char *link_name,
                       const char *qmp) {
  vc_error *err = NULL;
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_net_attachment a;
  int rc = 1;
  const struct vc_net_link *link = NULL;
  if (vc_netns_scan(netns, scan, &err) < 0 ||
      (link = vc_net_link_by_name(scan, link_name)) == NULL ||
      vc_net_attach(netns, VC_NET_MODEL_TCFILTER, link, 0, &a, &err) < 0) {
    if (err != NULL)
      fail(&err);
    free(scan);
    return 1;
  }
  struct vc_qemu_nic nic = {.index = 0, .tap_fd = a.fd, .vhost_fd = -1};
  memcpy(nic.mac, a.guest_mac, 6);
  char *port = NULL;
  long long t0 = vc_now_ms();
  if (vc_qemu_hotplug_nic(qmp, &nic, 10000, &port, &err) < 0) {
    fail(&err);
    goto detach;
  }
  printf("hotplugged nic0 on %s in %lld ms\n", port, vc_now_ms() - t0);
  free(port);
  close(a.fd); /* QEMU has its own copy now */
  a.fd = -1;
  char *pci = NULL;
  if (vc_qmp_execute(qmp, "query-pci", &pci, 5000, &err) < 0) {
    fail(&err);
    goto detach;
  }
  printf("query-pci lists nic0: %s\n", strstr(pci, "\"nic0\"") ? "yes" : "no");
  free(pci);
  t0 = vc_now_ms();
  if (vc_qemu_unplug_nic(qmp, 0, 30000, &err) < 0) {
    fail(&err);
    goto detach;
  }
  printf("unplugged nic0 in %lld ms\n", vc_now_ms() - t0);
  rc = 0;
detach:
  if (a.fd >= 0)
    close(a.fd);
  if (vc_net_detach(netns, &a, &err) < 0)
    rc = fail(&err);
  free(scan);
  return rc;
}

static int cmd_probe(void) {
  bool tc, mvt;
  char why_tc[256], why_mvt[256];
  vc_net_probe_models(&tc, why_tc, sizeof(why_tc), &mvt, why_mvt, sizeof(why_mvt));
  printf("tcfilter %s%s\n", tc ? "yes" : "no: ", tc ? "" : why_tc);
  printf("macvtap %s%s\n", mvt ? "yes" : "no: ", mvt ? "" : why_mvt);
  return 0;
}

static int cmd_record(const char *netns, const char *file) {
  int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
    perror(netns);
    return 1;
  }
  FILE *out = fopen(file, "w");
  struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
  if (out == NULL || nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    perror("record");
    return 1;
  }
  static const uint16_t dumps[] = {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE,
                                   RTM_GETNEIGH};
  char req[VC_NL_REQ_SIZE], buf[MNL_SOCKET_BUFFER_SIZE];
  for (size_t i = 0; i < N_ELEMS(dumps); i++) {
    struct nlmsghdr *nlh = vc_nl_build_dump(req, dumps[i], 0, (uint32_t)i + 1);
    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
      if (n <= 0)
        return 1;
      fwrite(buf, 1, (size_t)n, out);
      /* The last buffer of a dump ends in NLMSG_DONE. */
      if (mnl_cb_run(buf, (size_t)n, 0, 0, NULL, NULL) <= MNL_CB_STOP)
        break;
    }
  }
  mnl_socket_close(nl);
  fclose(out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "scan") == 0)
    return cmd_scan(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "attach") == 0) {
    bool keep = strcmp(argv[2], "-k") == 0;
    if (keep && argc < 6)
      goto usage;
    char **a = argv + 2 + keep;
    return cmd_attach(keep, a[0], a[1], a[2], a + 3);
  }
  if (argc == 5 && strcmp(argv[1], "hotplug") == 0)
    return cmd_hotplug(argv[2], argv[3], argv[4]);
  if (argc == 2 && strcmp(argv[1], "probe") == 0)
    return cmd_probe();
  if (argc == 4 && strcmp(argv[1], "record") == 0)
    return cmd_record(argv[2], argv[3]);
usage:
  fprintf(stderr, "usage: vcnet scan NETNS | attach [-k] NETNS MODEL LINK [CMD...] "
                  "| hotplug NETNS LINK QMP | probe | record NETNS FILE\n");
  return 2;
}
