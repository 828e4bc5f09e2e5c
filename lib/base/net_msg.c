/* struct vc_net_info <-> UpdateNetwork.  See lib/base/net_msg.h. */
#include "lib/base/net_msg.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/util.h"

static char *prefix_text(const struct vc_ip_prefix *p) {
  char text[VC_IP_PREFIX_STR_MAX];
  vc_ip_prefix_format(p, text);
  return xstrdup(text);
}

/* An address without its length ("10.0.0.1"). */
static char *address_text(int family, const uint8_t addr[16]) {
  struct vc_ip_prefix p = {.family = family,
                           .len = (uint8_t)(vc_ip_len(family) * 8)};
  memcpy(p.addr, addr, sizeof(p.addr));
  char *text = prefix_text(&p);
  char *slash = strrchr(text, '/');
  if (slash != NULL)
    *slash = '\0';
  return text;
}

static char *mac_text(const uint8_t mac[6]) {
  char text[18];
  vc_mac_format(mac, text);
  return xstrdup(text);
}

static char *name_or_null(const char *name) {
  return name[0] != '\0' ? xstrdup(name) : NULL;
}

void vc_net_msg_from_plan(const struct vc_net_info *plan,
                          struct vc_msg_update_network *msg) {
  msg->n_interfaces = plan->n_links;
  msg->interfaces = xcalloc(plan->n_links + 1, sizeof(*msg->interfaces));
  for (size_t i = 0; i < plan->n_links; i++) {
    const struct vc_net_link *l = &plan->links[i];
    struct vc_msg_net_interface *m = &msg->interfaces[i];
    m->name = xstrdup(l->name);
    m->hwaddr = mac_text(l->mac);
    m->mtu = l->mtu;
    m->n_addresses = l->n_addrs;
    m->addresses = xcalloc(l->n_addrs + 1, sizeof(*m->addresses));
    for (size_t j = 0; j < l->n_addrs; j++)
      m->addresses[j].address = prefix_text(&l->addrs[j]);
  }
  msg->n_routes = plan->n_routes;
  msg->routes = xcalloc(plan->n_routes + 1, sizeof(*msg->routes));
  for (size_t i = 0; i < plan->n_routes; i++) {
    const struct vc_net_route *r = &plan->routes[i];
    struct vc_msg_net_route *m = &msg->routes[i];
    struct vc_ip_prefix dst = r->dst;
    dst.family = r->family;
    m->dest = prefix_text(&dst);
    m->gateway = r->has_gateway ? address_text(r->family, r->gateway) : NULL;
    m->source = r->has_prefsrc ? address_text(r->family, r->prefsrc) : NULL;
    m->device = name_or_null(r->dev);
    m->mtu = r->mtu;
    m->metric = r->priority;
    m->scope = r->scope;
    m->flags = r->flags;
  }
  msg->n_neighbors = plan->n_neighs;
  msg->neighbors = xcalloc(plan->n_neighs + 1, sizeof(*msg->neighbors));
  for (size_t i = 0; i < plan->n_neighs; i++) {
    const struct vc_net_neigh *n = &plan->neighs[i];
    struct vc_msg_net_neighbor *m = &msg->neighbors[i];
    m->ip = address_text(n->family, n->ip);
    m->hwaddr = mac_text(n->mac);
    m->device = name_or_null(n->dev);
  }
}

/* A device name that fits IFNAMSIZ, has no '/' and is not empty. */
static int copy_name(char out[VC_NET_NAME_MAX], const char *name,
                     const char *what, vc_error **err) {
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len >= VC_NET_NAME_MAX || strchr(name, '/') != NULL)
    return vc_error_set(err, 0, "%s: bad interface name", what);
  memcpy(out, name, len + 1);
  return 0;
}

/* A bare address of family (or any family when family is 0). */
static int parse_address(const char *text, int *family, uint8_t out[16],
                         const char *what, vc_error **err) {
  struct vc_ip_prefix p;
  if (text == NULL || strchr(text, '/') != NULL ||
      vc_ip_prefix_parse(text, &p, err) < 0) {
    vc_error_free(err);
    return vc_error_set(err, 0, "%s: `%s` is not an address", what,
                        text ? text : "");
  }
  if (*family != 0 && p.family != *family)
    return vc_error_set(err, 0, "%s: `%s` is of another family than the "
                        "destination", what, text);
  *family = p.family;
  memcpy(out, p.addr, 16);
  return 0;
}

static int parse_mac(const char *text, uint8_t mac[6], const char *what,
                     vc_error **err) {
  if (text == NULL || vc_mac_parse(text, mac, err) < 0) {
    vc_error_free(err);
    return vc_error_set(err, 0, "%s: `%s` is not a MAC", what, text ? text : "");
  }
  return 0;
}

static int to_link(const struct vc_msg_net_interface *m, size_t i,
                   struct vc_net_link *l, vc_error **err) {
  char what[64];
  snprintf(what, sizeof(what), "interfaces[%zu]", i);
  if (copy_name(l->name, m->name, what, err) < 0)
    return -1;
  snprintf(what, sizeof(what), "interface %s", l->name);
  if (parse_mac(m->hwaddr, l->mac, what, err) < 0)
    return -1;
  l->has_mac = true;
  if (m->mtu != 0 && (m->mtu < 68 || m->mtu > 65535))
    return vc_error_set(err, 0, "%s: MTU %u out of range", what, m->mtu);
  l->mtu = m->mtu;
  if (m->n_addresses > VC_NET_MAX_ADDRS)
    return vc_error_set(err, 0, "%s: more than %d addresses", what,
                        VC_NET_MAX_ADDRS);
  for (size_t j = 0; j < m->n_addresses; j++) {
    if (m->addresses[j].address == NULL ||
        vc_ip_prefix_parse(m->addresses[j].address, &l->addrs[j], err) < 0) {
      vc_error_free(err);
      return vc_error_set(err, 0, "%s: address `%s` is not ADDR/LEN", what,
                          m->addresses[j].address ? m->addresses[j].address : "");
    }
  }
  l->n_addrs = m->n_addresses;
  return 0;
}

static int to_route(const struct vc_msg_net_route *m, struct vc_net_route *r,
                    vc_error **err) {
  char what[96];
  snprintf(what, sizeof(what), "route %.60s", m->dest ? m->dest : "");
  if (m->dest == NULL || vc_ip_prefix_parse(m->dest, &r->dst, err) < 0) {
    vc_error_free(err);
    return vc_error_set(err, 0, "%s: destination is not ADDR/LEN", what);
  }
  r->family = r->dst.family;
  if (m->gateway != NULL &&
      parse_address(m->gateway, &r->family, r->gateway, what, err) < 0)
    return -1;
  r->has_gateway = m->gateway != NULL;
  if (m->source != NULL &&
      parse_address(m->source, &r->family, r->prefsrc, what, err) < 0)
    return -1;
  r->has_prefsrc = m->source != NULL;
  if (m->device != NULL && copy_name(r->dev, m->device, what, err) < 0)
    return -1;
  if (m->scope > 255)
    return vc_error_set(err, 0, "%s: scope %u out of range", what, m->scope);
  r->mtu = m->mtu;
  r->priority = m->metric;
  r->scope = (uint8_t)m->scope;
  r->flags = m->flags;
  return 0;
}

static int to_neigh(const struct vc_msg_net_neighbor *m, struct vc_net_neigh *n,
                    vc_error **err) {
  char what[96];
  snprintf(what, sizeof(what), "neighbour %.60s", m->ip ? m->ip : "");
  n->family = 0;
  if (parse_address(m->ip, &n->family, n->ip, what, err) < 0 ||
      parse_mac(m->hwaddr, n->mac, what, err) < 0)
    return -1;
  if (m->device != NULL && copy_name(n->dev, m->device, what, err) < 0)
    return -1;
  return 0;
}

int vc_net_msg_to_plan(const struct vc_msg_update_network *msg,
                       struct vc_net_info *plan, vc_error **err) {
  memset(plan, 0, sizeof(*plan));
  if (msg->n_interfaces > VC_NET_MAX_LINKS)
    return vc_error_set(err, 0, "UpdateNetwork: more than %d interfaces",
                        VC_NET_MAX_LINKS);
  if (msg->n_routes > VC_NET_MAX_ROUTES)
    return vc_error_set(err, 0, "UpdateNetwork: more than %d routes",
                        VC_NET_MAX_ROUTES);
  if (msg->n_neighbors > VC_NET_MAX_NEIGHS)
    return vc_error_set(err, 0, "UpdateNetwork: more than %d neighbours",
                        VC_NET_MAX_NEIGHS);
  for (size_t i = 0; i < msg->n_interfaces; i++)
    if (to_link(&msg->interfaces[i], i, &plan->links[i], err) < 0)
      return -1;
  plan->n_links = msg->n_interfaces;
  for (size_t i = 0; i < msg->n_routes; i++)
    if (to_route(&msg->routes[i], &plan->routes[i], err) < 0)
      return -1;
  plan->n_routes = msg->n_routes;
  for (size_t i = 0; i < msg->n_neighbors; i++)
    if (to_neigh(&msg->neighbors[i], &plan->neighs[i], err) < 0)
      return -1;
  plan->n_neighs = msg->n_neighbors;
  return 0;
}
