/* virtio-net NICs for QEMU, cold (command line) and hot (QMP).  See
 * vmm/qemu_net.h. */
#include "vmm/qemu_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "lib/base/netinfo.h"
#include "lib/base/util.h"
#include "vmm/qemu.h"
#include "vmm/qmp.h"

char *vc_qemu_root_port_arg(unsigned i) {
  /* Each port its own chassis, so their slot numbers never clash. */
  return xasprintf("pcie-root-port,id=rp%u,bus=pcie.0,chassis=%u", i, i + 1);
}

int vc_qemu_open_vhost_net(void) {
  return open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
}

static void append(char ***argv, char *owned) {
  size_t n = 0;
  while ((*argv)[n] != NULL)
    n++;
  *argv = xrealloc(*argv, (n + 2) * sizeof(char *));
  (*argv)[n] = owned;
  (*argv)[n + 1] = NULL;
}

int vc_qemu_nic_append_args(const struct vc_vm *vm, const struct vc_qemu_nic *nic,
                            char ***argv, vc_error **err) {
  if (nic->tap_fd < 0)
    return vc_error_set(err, EBADF, "NIC %u: no tap fd", nic->index);
  bool microvm = strcmp(vm->cfg->machine_type, "microvm") == 0;
  char mac[18];
  vc_mac_format(nic->mac, mac);
  cleanup_free char *vhost = nic->vhost_fd >= 0
                                 ? xasprintf("vhost=on,vhostfd=%d", nic->vhost_fd)
                                 : xstrdup("vhost=off");
  append(argv, xstrdup("-netdev"));
  append(argv, xasprintf("tap,id=net%u,fd=%d,%s", nic->index, nic->tap_fd, vhost));
  append(argv, xstrdup("-device"));
  append(argv, xasprintf("%s,netdev=net%u,id=nic%u,mac=%s",
                         microvm ? "virtio-net-device" : "virtio-net-pci",
                         nic->index, nic->index, mac));
  return 0;
}

int vc_qemu_free_root_port(struct vc_qmp *q, const char *what, char **port,
                           vc_error **err) {
  cleanup_free char *reply = NULL;
  if (vc_qmp_command(q, "{\"execute\":\"query-pci\"}", -1, &reply, err) < 0)
    return -1;
  yajl_val v = yajl_tree_parse(reply, NULL, 0);
  const char *ret_path[] = {"return", NULL};
  yajl_val buses = v ? yajl_tree_get(v, ret_path, yajl_t_array) : NULL;
  for (size_t b = 0; buses != NULL && b < buses->u.array.len && *port == NULL; b++) {
    const char *devices_path[] = {"devices", NULL};
    yajl_val devs = yajl_tree_get(buses->u.array.values[b], devices_path, yajl_t_array);
    for (size_t d = 0; devs != NULL && d < devs->u.array.len; d++) {
      yajl_val dev = devs->u.array.values[d];
      const char *id_path[] = {"qdev_id", NULL};
      const char *behind_path[] = {"pci_bridge", "devices", NULL};
      const char *id = YAJL_GET_STRING(yajl_tree_get(dev, id_path, yajl_t_string));
      yajl_val behind = yajl_tree_get(dev, behind_path, yajl_t_array);
      if (id != NULL && strncmp(id, "rp", 2) == 0 &&
          (behind == NULL || behind->u.array.len == 0)) {
        *port = xstrdup(id);
        break;
      }
    }
  }
  yajl_tree_free(v);
  if (*port == NULL)
    return vc_error_set(err, ENOSPC, "no free pcie-root-port for %s "
                        "(raise pcie_root_ports in [hypervisor.qemu])", what);
  return 0;
}

/* Runs cmd, ignoring its failure: the undo steps of a failed hot-plug. */
static void best_effort(struct vc_qmp *q, const char *cmd) {
  vc_error *ignored = NULL;
  vc_qmp_command(q, cmd, -1, NULL, &ignored);
  vc_error_free(&ignored);
}

int vc_qemu_hotplug_nic(const char *qmp_socket, const struct vc_qemu_nic *nic,
                        int timeout_ms, char **port_out, vc_error **err) {
  if (nic->tap_fd < 0)
    return vc_error_set(err, EBADF, "NIC %u: no tap fd", nic->index);
  struct vc_qmp *q = NULL;
  if (vc_qmp_open(qmp_socket, timeout_ms, &q, err) < 0)
    return vc_error_wrap(err, "hot-plug NIC %u", nic->index);
  unsigned i = nic->index;
  char mac[18];
  vc_mac_format(nic->mac, mac);
  cleanup_free char *port = NULL;
  cleanup_free char *getfd = xasprintf(
      "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"vcnet%u\"}}", i);
  cleanup_free char *getvhost = xasprintf(
      "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"vcvhost%u\"}}", i);
  cleanup_free char *vhostfd =
      nic->vhost_fd >= 0 ? xasprintf(",\"vhostfd\":\"vcvhost%u\"", i) : xstrdup("");
  cleanup_free char *netdev = xasprintf(
      "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"tap\",\"id\":"
      "\"net%u\",\"fd\":\"vcnet%u\",\"vhost\":%s%s}}",
      i, i, nic->vhost_fd >= 0 ? "true" : "false", vhostfd);
  int stage = 0; /* 1: tap fd given, 2: vhost fd given, 3: netdev added */
  int r = vc_qemu_free_root_port(q, "a NIC", &port, err);
  if (r == 0 && (r = vc_qmp_command(q, getfd, nic->tap_fd, NULL, err)) == 0)
    stage = 1;
  if (r == 0 && nic->vhost_fd >= 0 &&
      (r = vc_qmp_command(q, getvhost, nic->vhost_fd, NULL, err)) == 0)
    stage = 2;
  if (r == 0 && (r = vc_qmp_command(q, netdev, -1, NULL, err)) == 0)
    stage = 3;
  if (r == 0) {
    cleanup_free char *device = xasprintf(
        "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\","
        "\"id\":\"nic%u\",\"netdev\":\"net%u\",\"mac\":\"%s\",\"bus\":\"%s\"}}",
        i, i, mac, port);
    r = vc_qmp_command(q, device, -1, NULL, err);
  }
  if (r < 0) {
    /* netdev_add consumed the named fds; before it, they are still ours. */
    if (stage >= 3) {
      cleanup_free char *del = xasprintf(
          "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net%u\"}}", i);
      best_effort(q, del);
    } else {
      cleanup_free char *c1 = xasprintf(
          "{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"vcnet%u\"}}", i);
      cleanup_free char *c2 = xasprintf(
          "{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"vcvhost%u\"}}", i);
      if (stage >= 1)
        best_effort(q, c1);
      if (stage >= 2)
        best_effort(q, c2);
    }
    vc_qmp_close(q);
    return vc_error_wrap(err, "hot-plug NIC %u (%s)", i, mac);
  }
  vc_qmp_close(q);
  if (port_out != NULL)
    *port_out = vc_steal(&port);
  return 0;
}

int vc_qemu_unplug_nic(const char *qmp_socket, unsigned index, int timeout_ms,
                       vc_error **err) {
  struct vc_qmp *q = NULL;
  if (vc_qmp_open(qmp_socket, timeout_ms, &q, err) < 0)
    return vc_error_wrap(err, "unplug NIC %u", index);
  cleanup_free char *id = xasprintf("nic%u", index);
  cleanup_free char *device_del = xasprintf(
      "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"%s\"}}", id);
  cleanup_free char *netdev_del = xasprintf(
      "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"net%u\"}}", index);
  int r = vc_qmp_command(q, device_del, -1, NULL, err);
  if (r == 0)
    r = vc_qmp_wait_event(q, "DEVICE_DELETED", id, err);
  if (r == 0)
    r = vc_qmp_command(q, netdev_del, -1, NULL, err);
  vc_qmp_close(q);
  if (r < 0)
    return vc_error_wrap(err, "unplug NIC %u", index);
  return 0;
}

/* ---- the hypervisor ops (vmm/hypervisor.h) --------------------------- */

/* A net device's id is "nic<N>": N names its QEMU objects. */
static int nic_index(const struct vc_vm_device *dev, unsigned *index,
                     vc_error **err) {
  char *end = NULL;
  unsigned long n = 0;
  if (dev->id != NULL && strncmp(dev->id, "nic", 3) == 0 && dev->id[3] != '\0')
    n = strtoul(dev->id + 3, &end, 10);
  if (end == NULL || *end != '\0' || n > 255)
    return vc_error_set(err, 0, "net device id `%s`: want nic<N>, N <= 255",
                        dev->id ? dev->id : "");
  *index = (unsigned)n;
  return 0;
}

/* A net device of the generic ops as the NIC this file plugs. */
static int device_nic(const struct vc_vm_device *dev, struct vc_qemu_nic *nic,
                      vc_error **err) {
  *nic = (struct vc_qemu_nic){.tap_fd = -1, .vhost_fd = -1};
  if (dev->kind != VC_VM_DEVICE_NET)
    return vc_error_set(err, 0, "%s: not a net device", dev->id ? dev->id : "");
  if (nic_index(dev, &nic->index, err) < 0)
    return -1;
  if (dev->n_fds != 1)
    return vc_error_set(err, 0, "%s: one tap fd wanted, %zu given", dev->id,
                        dev->n_fds);
  nic->tap_fd = dev->fds[0];
  unsigned m[6];
  if (dev->mac == NULL ||
      sscanf(dev->mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3],
             &m[4], &m[5]) != 6)
    return vc_error_set(err, 0, "%s: MAC `%s` is not aa:bb:cc:dd:ee:ff",
                        dev->id, dev->mac ? dev->mac : "");
  for (int i = 0; i < 6; i++)
    nic->mac[i] = (uint8_t)m[i];
  return 0;
}

int vc_qemu_net_cold_args(const struct vc_vm *vm, char ***argv, vc_error **err) {
  for (size_t i = 0; i < vm->n_cold_nics; i++) {
    struct vc_qemu_nic nic;
    if (device_nic(&vm->cold_nics[i], &nic, err) < 0 ||
        vc_qemu_nic_append_args(vm, &nic, argv, err) < 0)
      return -1;
  }
  return 0;
}

int vc_qemu_net_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                        vc_error **err) {
  struct vc_qemu_nic nic;
  if (device_nic(dev, &nic, err) < 0)
    return -1;
  if (strcmp(vm->cfg->machine_type, "microvm") == 0)
    return vc_vm_not_supported("qemu", "hotplug net", "microvm has no hot-plug",
                               err);
  return vc_qemu_hotplug_nic(vm->qmp_socket, &nic, 10000, NULL, err);
}

int vc_qemu_net_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                       vc_error **err) {
  unsigned index;
  if (nic_index(dev, &index, err) < 0)
    return -1;
  return vc_qemu_unplug_nic(vm->qmp_socket, index, 15000, err);
}
