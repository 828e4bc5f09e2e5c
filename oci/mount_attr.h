/* Recursive mount options (rro, rnosuid, rnoatime, ...) as runc 1.1 reads
 * them from mounts[].options: after the mount, each sets or clears a
 * mount_setattr(2) attribute on the mount and every mount below it. */
#ifndef VC_OCI_MOUNT_ATTR_H
#define VC_OCI_MOUNT_ATTR_H

#include <stdbool.h>
#include <stdint.h>

/* MOUNT_ATTR_* bits for mount_setattr(2)'s attr_set and attr_clr. */
struct oci_recursive_attr {
  uint64_t set, clear;
  bool any; /* a recursive option was given (rrelatime sets no bit) */
};

/* When option is a recursive option, folds it into attr (a later option
 * overrides an earlier one) and returns true; false for anything else.
 * The atime options pick one atime mode, so they also clear
 * MOUNT_ATTR__ATIME as the kernel requires: rrelatime and ratime give
 * relatime (ratime is "not noatime", which the kernel makes relatime);
 * rnoatime noatime; rstrictatime and rnorelatime strictatime (the one mode
 * that is neither relatime nor noatime); rnostrictatime relatime. */
bool oci_recursive_option(const char *option, struct oci_recursive_attr *attr);

#endif
