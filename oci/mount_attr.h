/* Recursive mount options (rro, rnosuid, rnoatime, ...) as runc 1.1 reads
 * them from mounts[].options: after the mount, each sets or clears a
 * mount_setattr(2) attribute on the mount and every mount below it. */
#ifndef VC_OCI_MOUNT_ATTR_H
#define VC_OCI_MOUNT_ATTR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>

/* mount_setattr(2) (Linux 5.12) for C libraries older than glibc 2.36. */
#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#define MOUNT_ATTR_SIZE_VER0 32
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_RELATIME 0x00000000
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

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
