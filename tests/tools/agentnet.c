/* Runs agent/network.c's agent_net_configure on the host, in the caller's
 * network namespace (tests/bats/netlink.bats runs it in one it made).
 * Each argument is one item of the plan:
 *   "link MAC NAME MTU [ADDR/LEN...]"
 *   "route DST/LEN GATEWAY|- DEV MTU"
 *   "neigh IP MAC DEV" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/network.h"
#include "lib/base/util.h"

static int parse_item(char *text, struct vc_net_info *plan, vc_error **err) {
  char *save = NULL;
  char *word[20] = {0};
  size_t n = 0;
  for (char *w = strtok_r(text, " ", &save); w && n < N_ELEMS(word);
       w = strtok_r(NULL, " ", &save))
    word[n++] = w;
  if (plan->n_links == VC_NET_MAX_LINKS || plan->n_routes == VC_NET_MAX_ROUTES ||
      plan->n_neighs == VC_NET_MAX_NEIGHS)
    return vc_error_set(err, 0, "too many items");
  if (n >= 4 && strcmp(word[0], "link") == 0) {
    struct vc_net_link *l = &plan->links[plan->n_links++];
    if (vc_mac_parse(word[1], l->mac, err) < 0)
      return -1;
    l->has_mac = true;
    snprintf(l->name, sizeof(l->name), "%s", word[2]);
    l->mtu = (unsigned)strtoul(word[3], NULL, 10);
    for (size_t i = 4; i < n && l->n_addrs < VC_NET_MAX_ADDRS; i++)
      if (vc_ip_prefix_parse(word[i], &l->addrs[l->n_addrs++], err) < 0)
        return -1;
    return 0;
  }
  if (n == 5 && strcmp(word[0], "route") == 0) {
    struct vc_net_route *r = &plan->routes[plan->n_routes++];
    if (vc_ip_prefix_parse(word[1], &r->dst, err) < 0)
      return -1;
    r->family = r->dst.family;
    r->scope = 0; /* universe; gatewayless ones get link scope below */
    if (strcmp(word[2], "-") != 0) {
      struct vc_ip_prefix gw;
      if (vc_ip_prefix_parse(word[2], &gw, err) < 0)
        return -1;
      memcpy(r->gateway, gw.addr, 16);
      r->has_gateway = true;
    } else {
      r->scope = 253; /* RT_SCOPE_LINK */
    }
    snprintf(r->dev, sizeof(r->dev), "%s", word[3]);
    r->mtu = (unsigned)strtoul(word[4], NULL, 10);
    return 0;
  }
  if (n == 4 && strcmp(word[0], "neigh") == 0) {
    struct vc_net_neigh *nb = &plan->neighs[plan->n_neighs++];
    struct vc_ip_prefix ip;
    if (vc_ip_prefix_parse(word[1], &ip, err) < 0 ||
        vc_mac_parse(word[2], nb->mac, err) < 0)
      return -1;
    nb->family = ip.family;
    memcpy(nb->ip, ip.addr, 16);
    snprintf(nb->dev, sizeof(nb->dev), "%s", word[3]);
    return 0;
  }
  return vc_error_set(err, 0, "bad item \"%s\"", word[0] ? word[0] : "");
}

int main(int argc, char **argv) {
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  vc_error *err = NULL;
  for (int i = 1; i < argc; i++) {
    if (parse_item(argv[i], plan, &err) < 0) {
      fprintf(stderr, "agentnet: %s\n", err->msg);
      return 2;
    }
  }
  int r = agent_net_configure(plan, 1000, &err);
  if (r < 0)
    fprintf(stderr, "agentnet: %s\n", err->msg);
  vc_error_free(&err);
  free(plan);
  return r < 0 ? 1 : 0;
}
