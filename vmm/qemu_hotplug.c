/* Hot-plug of the QEMU backend's vhost-user devices (vsock, virtio-fs) into
 * a running q35 VM: the device daemon must already listen on dev->socket;
 * chardev-add connects QEMU to it, device_add puts the device on a free
 * pcie-root-port.  For a VM restored from a saved template, which cannot
 * carry vhost-user devices across the migration (QEMU 7.2 marks them
 * unmigratable). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/base/json.h"
#include "lib/base/json_build.h"
#include "lib/base/util.h"
#include "vmm/qemu.h"
#include "vmm/qemu_net.h"
#include "vmm/qmp.h"

#define HOTPLUG_TIMEOUT_MS 10000
/* PCIe hot-unplug waits for the guest (its attention button: ~5 s). */
#define UNPLUG_TIMEOUT_MS 15000

static const char *vhost_user_driver(enum vc_vm_device_kind kind) {
  return kind == VC_VM_DEVICE_VSOCK ? "vhost-user-vsock-pci" : "vhost-user-fs-pci";
}

/* Device ids become QEMU ids ("<id>" and its chardev "<id>-chr"): letters,
 * digits, '-' and '_', starting with a letter, as QEMU wants them. */
static int check_device(const struct vc_vm *vm, const struct vc_vm_device *dev,
                        bool plug, vc_error **err) {
  const char *kind = vc_vm_device_kind_name(dev->kind);
  if (strcmp(vm->cfg->machine_type, "q35") != 0)
    return vc_vm_not_supported("qemu", plug ? "hotplug" : "unplug",
                               "only q35 has root ports to hot-plug into", err);
  const char *id = dev->id;
  if (id == NULL || id[0] == '\0' || strlen(id) > 32 ||
      !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')) ||
      strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
          strlen(id))
    return vc_error_set(err, EINVAL, "%s device id `%s`: want a letter, then "
                        "letters, digits, '-' or '_' (32 at most)", kind,
                        id ? id : "");
  if (!plug)
    return 0;
  if (dev->socket == NULL || dev->socket[0] != '/')
    return vc_error_set(err, EINVAL, "%s device `%s`: no absolute vhost-user "
                        "socket path", kind, id);
  if (dev->kind == VC_VM_DEVICE_FS && (dev->tag == NULL || dev->tag[0] == '\0' ||
                                       strlen(dev->tag) > 36))
    return vc_error_set(err, EINVAL, "fs device `%s`: a mount tag of 1 to 36 "
                        "bytes is needed", id);
  return 0;
}

/* True once a socket bound to path listens (its line in /proc/net/unix
 * has __SO_ACCEPTCON): a daemon's socket file appears at bind, a moment
 * before listen, and chardev-add in between is refused. */
static bool listening(const char *path) {
  FILE *f = fopen("/proc/net/unix", "re");
  if (f == NULL)
    return true; /* cannot tell: let chardev-add say */
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    unsigned long flags = 0;
    char sock_path[256];
    line[strcspn(line, "\n")] = '\0';
    if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %255s", &flags, sock_path) == 2 &&
        strcmp(sock_path, path) == 0 && (flags & 0x10000) != 0)
      found = true;
  }
  fclose(f);
  return found;
}

static void wait_listening(const char *path, int timeout_ms) {
  long long deadline = vc_now_ms() + timeout_ms;
  while (!listening(path) && vc_now_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static char *chardev_add_json(const struct vc_vm_device *dev) {
  struct vc_jb b = {0};
  cleanup_free char *chr = xasprintf("%s-chr", dev->id);
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "execute");
  vc_jb_str(&b, "chardev-add");
  vc_jb_key(&b, "arguments");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "id");
  vc_jb_str(&b, chr);
  vc_jb_key(&b, "backend");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "type");
  vc_jb_str(&b, "socket");
  vc_jb_key(&b, "data");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "addr");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "type");
  vc_jb_str(&b, "unix");
  vc_jb_key(&b, "data");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "path");
  vc_jb_str(&b, dev->socket);
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  vc_jb_key(&b, "server");
  vc_jb_bool(&b, false);
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

static char *device_add_json(const struct vc_vm_device *dev, const char *port) {
  struct vc_jb b = {0};
  cleanup_free char *chr = xasprintf("%s-chr", dev->id);
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "execute");
  vc_jb_str(&b, "device_add");
  vc_jb_key(&b, "arguments");
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "driver");
  vc_jb_str(&b, vhost_user_driver(dev->kind));
  vc_jb_key(&b, "id");
  vc_jb_str(&b, dev->id);
  vc_jb_key(&b, "chardev");
  vc_jb_str(&b, chr);
  vc_jb_key(&b, "bus");
  vc_jb_str(&b, port);
  if (dev->kind == VC_VM_DEVICE_FS) {
    vc_jb_key(&b, "tag");
    vc_jb_str(&b, dev->tag);
  }
  vc_jb_close(&b, '}');
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}

static char *id_command(const char *command, const char *key, const char *id) {
  cleanup_free char *quoted = vc_json_quote(id);
  return xasprintf("{\"execute\":\"%s\",\"arguments\":{\"%s\":%s}}", command,
                   key, quoted);
}

int vc_qemu_vhost_user_hotplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                               vc_error **err) {
  if (check_device(vm, dev, true, err) < 0)
    return -1;
  struct vc_qmp *q = NULL;
  if (vm->qmp_socket == NULL ||
      vc_qmp_open(vm->qmp_socket, HOTPLUG_TIMEOUT_MS, &q, err) < 0)
    return vc_error_wrap(err, "hot-plug %s `%s`",
                         vc_vm_device_kind_name(dev->kind), dev->id);
  cleanup_free char *port = NULL;
  cleanup_free char *what = xasprintf("%s `%s`", vhost_user_driver(dev->kind), dev->id);
  cleanup_free char *chardev = chardev_add_json(dev);
  int r = vc_qemu_free_root_port(q, what, &port, err);
  if (r == 0) {
    if (vc_file_exists(dev->socket))
      wait_listening(dev->socket, 2000);
    r = vc_qmp_command(q, chardev, -1, NULL, err);
  }
  if (r == 0) {
    cleanup_free char *device = device_add_json(dev, port);
    if ((r = vc_qmp_command(q, device, -1, NULL, err)) < 0) {
      /* Undo the chardev: the device never took it. */
      cleanup_free char *chr = xasprintf("%s-chr", dev->id);
      cleanup_free char *remove = id_command("chardev-remove", "id", chr);
      vc_error *ignored = NULL;
      vc_qmp_command(q, remove, -1, NULL, &ignored);
      vc_error_free(&ignored);
    }
  }
  vc_qmp_close(q);
  if (r < 0)
    return vc_error_wrap(err, "hot-plug %s", what);
  return 0;
}

int vc_qemu_vhost_user_unplug(struct vc_vm *vm, const struct vc_vm_device *dev,
                              vc_error **err) {
  if (check_device(vm, dev, false, err) < 0)
    return -1;
  struct vc_qmp *q = NULL;
  if (vm->qmp_socket == NULL ||
      vc_qmp_open(vm->qmp_socket, UNPLUG_TIMEOUT_MS, &q, err) < 0)
    return vc_error_wrap(err, "unplug %s `%s`", vc_vm_device_kind_name(dev->kind),
                         dev->id ? dev->id : "");
  cleanup_free char *chr = xasprintf("%s-chr", dev->id);
  cleanup_free char *del = id_command("device_del", "id", dev->id);
  cleanup_free char *remove = id_command("chardev-remove", "id", chr);
  int r = vc_qmp_command(q, del, -1, NULL, err);
  if (r == 0)
    r = vc_qmp_wait_event(q, "DEVICE_DELETED", dev->id, err);
  if (r == 0)
    r = vc_qmp_command(q, remove, -1, NULL, err);
  vc_qmp_close(q);
  if (r < 0)
    return vc_error_wrap(err, "unplug %s `%s`", vc_vm_device_kind_name(dev->kind),
                         dev->id);
  return 0;
}
