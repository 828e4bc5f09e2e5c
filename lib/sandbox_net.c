/* A sandbox's pod network.  See lib/sandbox_net.h. */
#include "lib/sandbox_net.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/net_msg.h"
#include "lib/base/util.h"
#include "lib/sandbox.h"

enum vc_sandbox_net_mode vc_sandbox_net_mode(const char *netns,
                                             const char *model,
                                             bool can_hotplug,
                                             bool has_create_hooks) {
  if (netns == NULL || model == NULL || strcmp(model, "none") == 0)
    return VC_SANDBOX_NET_NONE;
  if (!has_create_hooks || !can_hotplug)
    return VC_SANDBOX_NET_COLD;
  return VC_SANDBOX_NET_HOT;
}

static struct vc_sandbox_net *net_new(enum vc_net_model model) {
  struct vc_sandbox_net *net = xcalloc(1, sizeof(*net));
  net->model = model;
  net->plan = xcalloc(1, sizeof(*net->plan));
  for (size_t i = 0; i < VC_NET_MAX_LINKS; i++)
    net->att[i].fd = -1;
  return net;
}

int vc_sandbox_net_scan(struct vc_sandbox *sb, enum vc_net_model model,
                        vc_error **err) {
  struct vc_net_info *scan = xcalloc(1, sizeof(*scan));
  struct vc_sandbox_net *net = net_new(model);
  int r = vc_netns_scan(sb->netns, scan, err);
  if (r == 0)
    r = vc_net_plan(scan, net->plan, err);
  free(scan);
  if (r < 0) {
    vc_sandbox_net_free(net);
    return vc_error_wrap(err, "network namespace `%s`", sb->netns);
  }
  vc_sandbox_net_free(sb->net);
  sb->net = net;
  return 0;
}

/* What vc_net_attach will record, known before it makes anything: so a
 * kill -9 in the middle leaves a record that delete --force can undo. */
static void intent(struct vc_net_attachment *a, enum vc_net_model model,
                   const struct vc_net_link *link, unsigned n) {
  memset(a, 0, sizeof(*a));
  a->fd = -1;
  a->model = model;
  snprintf(a->link, sizeof(a->link), "%s", link->name);
  snprintf(a->dev, sizeof(a->dev), model == VC_NET_MODEL_MACVTAP ? "mvt%u_vc"
                                                                 : "tap%u_vc", n);
  memcpy(a->guest_mac, link->mac, 6);
  memcpy(a->link_mac, link->mac, 6);
  a->link_noarp = (link->flags & IFF_NOARP) != 0;
  a->mtu = link->mtu;
}

int vc_sandbox_net_attach(struct vc_sandbox *sb,
                          int (*persist)(void *arg, vc_error **err), void *arg,
                          vc_error **err) {
  struct vc_sandbox_net *net = sb->net;
  long long start = vc_now_ms();
  for (size_t i = 0; i < net->plan->n_links; i++) {
    const struct vc_net_link *link = &net->plan->links[i];
    intent(&net->att[i], net->model, link, (unsigned)i);
    net->n_att = i + 1;
    struct vc_net_attachment made;
    if ((persist != NULL && persist(arg, err) < 0) ||
        vc_net_attach(sb->netns, net->model, link, (unsigned)i, &made, err) < 0) {
      net->n_att = i; /* attach left nothing of this one */
      vc_error *e = NULL;
      vc_sandbox_net_detach(sb, &e);
      vc_error_free(&e);
      if (persist != NULL)
        persist(arg, NULL);
      return -1;
    }
    net->att[i] = made;
  }
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: network attach (%zu links, %s) %lld ms\n",
            net->n_att, vc_net_model_name(net->model), vc_now_ms() - start);
  return persist != NULL ? persist(arg, err) : 0;
}

void vc_sandbox_net_cold(struct vc_sandbox *sb) {
  struct vc_sandbox_net *net = sb->net;
  for (size_t i = 0; i < net->n_att; i++) {
    snprintf(net->cold_ids[i], sizeof(net->cold_ids[i]), "nic%zu", i);
    vc_mac_format(net->att[i].guest_mac, net->cold_macs[i]);
    net->cold[i] = (struct vc_vm_device){
        .kind = VC_VM_DEVICE_NET,
        .id = net->cold_ids[i],
        .fds = &net->att[i].fd,
        .n_fds = 1,
        .mac = net->cold_macs[i],
        .mtu = net->att[i].mtu,
    };
  }
  sb->vm.cold_nics = net->cold;
  sb->vm.n_cold_nics = net->n_att;
}

int vc_sandbox_net_hotplug(struct vc_sandbox *sb, vc_error **err) {
  struct vc_sandbox_net *net = sb->net;
  long long start = vc_now_ms();
  for (size_t i = 0; i < net->n_att; i++) {
    char id[24], mac[18];
    snprintf(id, sizeof(id), "nic%zu", i);
    vc_mac_format(net->att[i].guest_mac, mac);
    struct vc_vm_device dev = {.kind = VC_VM_DEVICE_NET, .id = id,
                               .fds = &net->att[i].fd, .n_fds = 1, .mac = mac,
                               .mtu = net->att[i].mtu};
    if (sb->vm.ops->hotplug(&sb->vm, &dev, err) < 0)
      return vc_error_wrap(err, "hot-plug the NIC for %s", net->att[i].link);
  }
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: NIC hot-plug (%zu) %lld ms\n", net->n_att,
            vc_now_ms() - start);
  return 0;
}

void vc_sandbox_net_close_fds(struct vc_sandbox *sb) {
  if (sb->net == NULL)
    return;
  for (size_t i = 0; i < sb->net->n_att; i++) {
    if (sb->net->att[i].fd >= 0)
      close(sb->net->att[i].fd);
    sb->net->att[i].fd = -1;
  }
  sb->vm.cold_nics = NULL;
  sb->vm.n_cold_nics = 0;
}

int vc_sandbox_net_configure(struct vc_sandbox *sb, vc_error **err) {
  struct vc_msg_update_network msg = {0};
  vc_net_msg_from_plan(sb->net->plan, &msg);
  long long start = vc_now_ms();
  int r = vc_sandbox_call(sb, VC_AGENT_UPDATE_NETWORK, &msg, NULL, err);
  vc_proto_msg_free(vc_agent_methods[VC_AGENT_UPDATE_NETWORK].request, &msg);
  if (sb->debug)
    fprintf(stderr, "vcrun: debug: UpdateNetwork (%zu NICs) %lld ms\n",
            sb->net->plan->n_links, vc_now_ms() - start);
  if (r < 0)
    return vc_error_wrap(err, "configure the pod network in the guest");
  return 0;
}

int vc_sandbox_net_detach(struct vc_sandbox *sb, vc_error **err) {
  struct vc_sandbox_net *net = sb->net;
  if (net == NULL)
    return 0;
  int ret = 0;
  vc_sandbox_net_close_fds(sb);
  for (size_t i = net->n_att; i-- > 0;) {
    vc_error *e = NULL;
    if (vc_net_detach(sb->netns, &net->att[i], &e) < 0) {
      if (ret == 0 && err != NULL && *err == NULL) {
        *err = e;
        e = NULL;
      }
      ret = -1;
    }
    vc_error_free(&e);
  }
  net->n_att = 0;
  return ret;
}

/* ---- state.json ---------------------------------------------------------- */

static void mac_value(struct vc_jb *b, const uint8_t mac[6]) {
  char text[18];
  vc_mac_format(mac, text);
  vc_jb_str(b, text);
}

static void addresses_value(struct vc_jb *b, const struct vc_net_link *l) {
  vc_jb_open(b, '[');
  for (size_t j = 0; j < l->n_addrs; j++) {
    char text[VC_IP_PREFIX_STR_MAX];
    vc_ip_prefix_format(&l->addrs[j], text);
    vc_jb_str(b, text);
  }
  vc_jb_close(b, ']');
}

/* A mirrored link as state.json and `vcrun state` show it. */
static void interface_members(struct vc_jb *b, const struct vc_net_link *l) {
  vc_jb_key(b, "name");
  vc_jb_str(b, l->name);
  vc_jb_key(b, "mac");
  mac_value(b, l->mac);
  vc_jb_key(b, "mtu");
  vc_jb_uint(b, l->mtu);
  vc_jb_key(b, "addresses");
  addresses_value(b, l);
}

void vc_sandbox_net_save_json(const struct vc_sandbox_net *net, struct vc_jb *b) {
  vc_jb_key(b, "network");
  vc_jb_open(b, '{');
  vc_jb_key(b, "model");
  vc_jb_str(b, vc_net_model_name(net->model));
  vc_jb_key(b, "attachments");
  vc_jb_open(b, '[');
  for (size_t i = 0; i < net->n_att; i++) {
    const struct vc_net_attachment *a = &net->att[i];
    vc_jb_open(b, '{');
    vc_jb_key(b, "model");
    vc_jb_str(b, vc_net_model_name(a->model));
    vc_jb_key(b, "link");
    vc_jb_str(b, a->link);
    vc_jb_key(b, "device");
    vc_jb_str(b, a->dev);
    vc_jb_key(b, "guest_mac");
    mac_value(b, a->guest_mac);
    vc_jb_key(b, "mtu");
    vc_jb_uint(b, a->mtu);
    vc_jb_key(b, "link_mac");
    mac_value(b, a->link_mac);
    vc_jb_key(b, "link_noarp");
    vc_jb_bool(b, a->link_noarp);
    vc_jb_close(b, '}');
  }
  vc_jb_close(b, ']');
  vc_jb_key(b, "interfaces");
  vc_jb_open(b, '[');
  for (size_t i = 0; i < net->plan->n_links; i++) {
    const struct vc_net_link *l = &net->plan->links[i];
    vc_jb_open(b, '{');
    interface_members(b, l);
    vc_jb_close(b, '}');
  }
  vc_jb_close(b, ']');
  vc_jb_close(b, '}');
}

/* A name from state.json into a fixed buffer: present, fits, no '/'. */
static int load_name(yajl_val obj, const char *key, char out[VC_NET_NAME_MAX]) {
  const char *s = vc_json_get_str(obj, key);
  if (s == NULL || s[0] == '\0' || strlen(s) >= VC_NET_NAME_MAX ||
      strchr(s, '/') != NULL)
    return -1;
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

static int load_mac(yajl_val obj, const char *key, uint8_t mac[6]) {
  const char *s = vc_json_get_str(obj, key);
  return s != NULL && vc_mac_parse(s, mac, NULL) == 0 ? 0 : -1;
}

static int load_attachment(yajl_val v, struct vc_net_attachment *a) {
  const char *model = vc_json_get_str(v, "model");
  int m = model ? vc_net_model_parse(model) : -1;
  yajl_val noarp = vc_json_get(v, "link_noarp");
  memset(a, 0, sizeof(*a));
  a->fd = -1;
  if (m < 0 || load_name(v, "link", a->link) < 0 ||
      load_name(v, "device", a->dev) < 0 ||
      load_mac(v, "guest_mac", a->guest_mac) < 0 ||
      load_mac(v, "link_mac", a->link_mac) < 0)
    return -1;
  a->model = (enum vc_net_model)m;
  a->mtu = (unsigned)vc_json_get_int(v, "mtu");
  a->link_noarp = YAJL_IS_TRUE(noarp);
  return 0;
}

static int load_interface(yajl_val v, struct vc_net_link *l) {
  if (load_name(v, "name", l->name) < 0 || load_mac(v, "mac", l->mac) < 0)
    return -1;
  l->has_mac = true;
  l->mtu = (unsigned)vc_json_get_int(v, "mtu");
  yajl_val addrs = vc_json_get_array(v, "addresses");
  for (size_t j = 0; addrs != NULL && j < addrs->u.array.len; j++) {
    const char *s = YAJL_GET_STRING(addrs->u.array.values[j]);
    if (s == NULL || l->n_addrs == VC_NET_MAX_ADDRS ||
        vc_ip_prefix_parse(s, &l->addrs[l->n_addrs], NULL) < 0)
      return -1;
    l->n_addrs++;
  }
  return 0;
}

int vc_sandbox_net_load_json(struct vc_sandbox *sb, yajl_val state,
                             const char *where, vc_error **err) {
  yajl_val v = vc_json_get_object(state, "network");
  if (v == NULL)
    return 0;
  const char *model = vc_json_get_str(v, "model");
  int m = model ? vc_net_model_parse(model) : -1;
  if (m < 0)
    return vc_error_set(err, 0, "%s: network.model missing or unknown", where);
  struct vc_sandbox_net *net = net_new((enum vc_net_model)m);
  yajl_val att = vc_json_get_array(v, "attachments");
  yajl_val ifs = vc_json_get_array(v, "interfaces");
  size_t n_att = att ? att->u.array.len : 0, n_ifs = ifs ? ifs->u.array.len : 0;
  int ret = 0;
  if (n_att > VC_NET_MAX_LINKS || n_ifs > VC_NET_MAX_LINKS)
    ret = vc_error_set(err, 0, "%s: network: more than %d links", where,
                       VC_NET_MAX_LINKS);
  for (size_t i = 0; ret == 0 && i < n_att; i++)
    if (load_attachment(att->u.array.values[i], &net->att[i]) < 0)
      ret = vc_error_set(err, 0, "%s: network.attachments[%zu] malformed",
                         where, i);
  for (size_t i = 0; ret == 0 && i < n_ifs; i++)
    if (load_interface(ifs->u.array.values[i], &net->plan->links[i]) < 0)
      ret = vc_error_set(err, 0, "%s: network.interfaces[%zu] malformed",
                         where, i);
  if (ret < 0) {
    vc_sandbox_net_free(net);
    return -1;
  }
  net->n_att = n_att;
  net->plan->n_links = n_ifs;
  vc_sandbox_net_free(sb->net);
  sb->net = net;
  return 0;
}

void vc_sandbox_net_state_json(const struct vc_sandbox_net *net,
                               struct vc_jb *b) {
  vc_jb_open(b, '{');
  vc_jb_key(b, "model");
  vc_jb_str(b, vc_net_model_name(net->model));
  vc_jb_key(b, "interfaces");
  vc_jb_open(b, '[');
  for (size_t i = 0; i < net->plan->n_links; i++) {
    const struct vc_net_link *l = &net->plan->links[i];
    vc_jb_open(b, '{');
    interface_members(b, l);
    /* The engine's link it mirrors and what vcrun made next to it. */
    for (size_t k = 0; k < net->n_att; k++) {
      if (strcmp(net->att[k].link, l->name) != 0)
        continue;
      vc_jb_key(b, "host_link");
      vc_jb_str(b, net->att[k].link);
      vc_jb_key(b, "host_device");
      vc_jb_str(b, net->att[k].dev);
    }
    vc_jb_close(b, '}');
  }
  vc_jb_close(b, ']');
  vc_jb_close(b, '}');
}

void vc_sandbox_net_free(struct vc_sandbox_net *net) {
  if (net == NULL)
    return;
  for (size_t i = 0; i < VC_NET_MAX_LINKS; i++)
    if (net->att[i].fd >= 0)
      close(net->att[i].fd);
  free(net->plan);
  free(net);
}
