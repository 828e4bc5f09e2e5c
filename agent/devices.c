/* linux.sysctl and linux.devices in the container child. */
#include "agent/security.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

int agent_sysctl_apply(const struct oci_spec *spec, vc_error **err) {
  for (size_t i = 0; i < spec->n_sysctl; i++) {
    const char *key = spec->sysctl[i].key, *value = spec->sysctl[i].value;
    /* Dots become slashes; a key must not walk out of /proc/sys. */
    bool ok = key[0] != '.' && strchr(key, '/') == NULL &&
              strstr(key, "..") == NULL && key[strlen(key) - 1] != '.';
    if (!ok)
      return vc_error_set(err, 0, "linux.sysctl[\"%s\"]: not a sysctl name", key);
    cleanup_free char *path = xasprintf("/proc/sys/%s", key);
    for (char *s = path + strlen("/proc/sys/"); *s; s++)
      if (*s == '.')
        *s = '/';
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
      return vc_error_set(err, 0, "linux.sysctl[\"%s\"]: no such sysctl in the "
                          "guest kernel", key);
    size_t len = strlen(value);
    if (fd < 0 || write(fd, value, len) != (ssize_t)len)
      return vc_error_set(err, errno, "linux.sysctl[\"%s\"]: write \"%s\"", key,
                          value);
  }
  return 0;
}

/* A member as an unsigned number (0 when absent); -1 on a bad value. */
static int dev_u32(yajl_val d, const char *key, const char *field,
                   uint32_t *out, vc_error **err) {
  yajl_val v = vc_json_get(d, key);
  uint64_t n = 0;
  if (v != NULL && !YAJL_IS_NULL(v) &&
      vc_json_to_u64(v, UINT32_MAX, &n) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.%s: must be an integer from 0 to %u", field,
                        key, UINT32_MAX);
  *out = (uint32_t)n;
  return 0;
}

static int create_device(const char *root, yajl_val d, const char *field,
                         bool dev_is_tmpfs, vc_error **err) {
  if (!YAJL_IS_OBJECT(d))
    return vc_error_set(err, 0, "%s: must be an object", field);
  const char *path = vc_json_get_str(d, "path");
  if (path == NULL || strncmp(path, "/dev/", 5) != 0 || path[5] == '\0' ||
      strstr(path, "/../") != NULL || strcmp(path + strlen(path) - 3, "/..") == 0)
    return vc_error_set(err, 0, "%s.path: must be a path below /dev", field);
  /* Without a /dev of its own, nodes would land in the shared rootfs on
   * the host, through virtio-fs. */
  if (!dev_is_tmpfs)
    return vc_error_set(err, 0, "%s: devices need a /dev mount in the spec "
                        "(the rootfs is shared with the host)", field);
  const char *type = vc_json_get_str(d, "type");
  mode_t kind;
  if (type != NULL && (strcmp(type, "c") == 0 || strcmp(type, "u") == 0))
    kind = S_IFCHR;
  else if (type != NULL && strcmp(type, "b") == 0)
    kind = S_IFBLK;
  else if (type != NULL && strcmp(type, "p") == 0)
    kind = S_IFIFO;
  else
    return vc_error_set(err, 0, "%s.type: must be \"c\", \"b\", \"u\" or \"p\"",
                        field);
  uint32_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
  if (dev_u32(d, "major", field, &major, err) < 0 ||
      dev_u32(d, "minor", field, &minor, err) < 0 ||
      dev_u32(d, "uid", field, &uid, err) < 0 ||
      dev_u32(d, "gid", field, &gid, err) < 0)
    return -1;
  /* fileMode defaults to 0666 and keeps only permission bits, as in runc. */
  yajl_val fm = vc_json_get(d, "fileMode");
  if (fm != NULL && !YAJL_IS_NULL(fm) && dev_u32(d, "fileMode", field, &mode, err) < 0)
    return -1;
  mode &= 07777;
  if (kind != S_IFIFO && (vc_json_get(d, "major") == NULL ||
                          vc_json_get(d, "minor") == NULL))
    return vc_error_set(err, 0, "%s: major and minor are required for type %s",
                        field, type);
  cleanup_free char *full = xasprintf("%s%s", root, path);
  cleanup_free char *parent = xstrdup(full);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    if (vc_mkdir_p(parent, 0755, NULL) < 0)
      return vc_error_set(err, errno, "%s: create the parents of %s", field, path);
  }
  if (mknod(full, kind | mode, makedev(major, minor)) < 0) {
    /* As runc: a node that is already there (a default device) stays. */
    if (errno == EEXIST)
      return 0;
    return vc_error_set(err, errno, "%s: create %s", field, path);
  }
  /* mknod honours the umask; the spec's mode is exact. */
  if (chmod(full, mode) < 0 || chown(full, uid, gid) < 0)
    return vc_error_set(err, errno, "%s: set mode and owner of %s", field, path);
  return 0;
}

int agent_devices_create(const char *root, const char *devices_json,
                         bool dev_is_tmpfs, vc_error **err) {
  if (devices_json == NULL)
    return 0;
  yajl_val list = NULL;
  if (vc_json_parse(devices_json, &list, err) < 0)
    return vc_error_wrap(err, "linux.devices");
  int rc = 0;
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    cleanup_free char *field = xasprintf("linux.devices[%zu]", i);
    rc = create_device(root, list->u.array.values[i], field, dev_is_tmpfs, err);
    if (rc < 0)
      break;
  }
  yajl_tree_free(list);
  return rc;
}
