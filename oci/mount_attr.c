/* Recursive mount options: see mount_attr.h. */
#include "oci/mount_attr.h"

#include <string.h>

static const struct {
  const char *name;
  bool clear;
  uint64_t attr;
} recursive_flags[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

/* The atime setting is a value inside MOUNT_ATTR__ATIME, not a bit. */
static const struct {
  const char *name;
  uint64_t mode;
} recursive_atime[] = {
    {"rrelatime", MOUNT_ATTR_RELATIME},
    {"ratime", MOUNT_ATTR_RELATIME},
    {"rnostrictatime", MOUNT_ATTR_RELATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME},
    {"rnorelatime", MOUNT_ATTR_STRICTATIME},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

bool oci_recursive_option(const char *option, struct oci_recursive_attr *attr) {
  for (size_t i = 0; i < N_ELEMS(recursive_flags); i++) {
    if (strcmp(option, recursive_flags[i].name) != 0)
      continue;
    uint64_t bit = recursive_flags[i].attr;
    if (recursive_flags[i].clear) {
      attr->clear |= bit;
      attr->set &= ~bit;
    } else {
      attr->set |= bit;
      attr->clear &= ~bit;
    }
    attr->any = true;
    return true;
  }
  for (size_t i = 0; i < N_ELEMS(recursive_atime); i++) {
    if (strcmp(option, recursive_atime[i].name) != 0)
      continue;
    attr->set = (attr->set & ~(uint64_t)MOUNT_ATTR__ATIME) | recursive_atime[i].mode;
    attr->clear |= MOUNT_ATTR__ATIME;
    attr->any = true;
    return true;
  }
  return false;
}
