/* Lookups and text forms for struct vc_net_info. */
#include "lib/base/netinfo.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t vc_ip_len(int family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

struct vc_net_link *vc_net_link_by_index(struct vc_net_info *info, int index) {
  for (size_t i = 0; i < info->n_links; i++)
    if (info->links[i].index == index)
      return &info->links[i];
  return NULL;
}

struct vc_net_link *vc_net_link_by_name(struct vc_net_info *info,
                                        const char *name) {
  for (size_t i = 0; i < info->n_links; i++)
    if (strcmp(info->links[i].name, name) == 0)
      return &info->links[i];
  return NULL;
}

void vc_net_info_resolve(struct vc_net_info *info) {
  for (size_t i = 0; i < info->n_routes; i++) {
    struct vc_net_link *l = vc_net_link_by_index(info, info->routes[i].oif);
    snprintf(info->routes[i].dev, VC_NET_NAME_MAX, "%s", l ? l->name : "");
  }
  for (size_t i = 0; i < info->n_neighs; i++) {
    struct vc_net_link *l = vc_net_link_by_index(info, info->neighs[i].ifindex);
    snprintf(info->neighs[i].dev, VC_NET_NAME_MAX, "%s", l ? l->name : "");
  }
}

void vc_ip_prefix_format(const struct vc_ip_prefix *p, char *out) {
  char addr[INET6_ADDRSTRLEN];
  if (inet_ntop(p->family, p->addr, addr, sizeof(addr)) == NULL)
    snprintf(addr, sizeof(addr), "?");
  snprintf(out, VC_IP_PREFIX_STR_MAX, "%s/%u", addr, p->len);
}

int vc_ip_prefix_parse(const char *text, struct vc_ip_prefix *p,
                       vc_error **err) {
  char addr[INET6_ADDRSTRLEN];
  const char *slash = strchr(text, '/');
  size_t alen = slash ? (size_t)(slash - text) : strlen(text);
  if (alen == 0 || alen >= sizeof(addr))
    return vc_error_set(err, 0, "IP address \"%s\": bad length", text);
  memcpy(addr, text, alen);
  addr[alen] = '\0';
  memset(p, 0, sizeof(*p));
  p->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(p->family, addr, p->addr) != 1)
    return vc_error_set(err, 0, "IP address \"%s\" is not valid", text);
  unsigned max = (unsigned)vc_ip_len(p->family) * 8;
  p->len = (uint8_t)max;
  if (slash != NULL) {
    char *end = NULL;
    unsigned long len = strtoul(slash + 1, &end, 10);
    if (slash[1] == '\0' || *end != '\0' || len > max)
      return vc_error_set(err, 0, "IP address \"%s\": bad prefix length", text);
    p->len = (uint8_t)len;
  }
  return 0;
}

void vc_mac_format(const uint8_t mac[6], char *out) {
  snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
           mac[3], mac[4], mac[5]);
}

int vc_mac_parse(const char *text, uint8_t mac[6], vc_error **err) {
  unsigned b[6];
  char tail;
  if (strlen(text) != 17 ||
      sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
             &b[4], &b[5], &tail) != 6)
    return vc_error_set(err, 0, "MAC address \"%s\" is not valid", text);
  for (int i = 0; i < 6; i++)
    mac[i] = (uint8_t)b[i];
  return 0;
}
