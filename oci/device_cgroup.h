/* linux.resources.devices as cgroup v2 enforces them.  v2 has no
 * devices.allow/deny files: the rules are folded the way cgroup v1's
 * devices controller applies them, in order (an "a" rule resets to
 * allow-all or deny-all, any other rule adds or takes out an exception),
 * after them runc's default device rules, and the result becomes an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE, which the agent attaches to
 * the container's cgroup (as runc and crun do on v2).  Pure code: building
 * and checking the program needs no kernel. */
#ifndef VC_OCI_DEVICE_CGROUP_H
#define VC_OCI_DEVICE_CGROUP_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"

/* Access bits, as the kernel hands them to the program (BPF_DEVCG_ACC_*). */
#define OCI_DEV_MKNOD 1u
#define OCI_DEV_READ 2u
#define OCI_DEV_WRITE 4u
#define OCI_DEV_RWM 7u
/* A major or minor that matches every number. */
#define OCI_DEV_ANY (-1)

struct oci_dev_rule {
  char type;            /* 'a' (all), 'c' or 'b' */
  int64_t major, minor; /* 0..UINT32_MAX, or OCI_DEV_ANY */
  unsigned access;      /* OCI_DEV_* bits */
  bool allow;
};

/* A folded rule set: the default verdict and its exceptions, each with
 * the opposite verdict (so their order no longer matters). */
struct oci_dev_filter {
  bool default_allow;
  struct oci_dev_rule *exceptions;
  size_t n_exceptions;
};

/* Folds rules (linux.resources.devices, a JSON array; NULL: none) over
 * deny-all, then runc's default rules (null, zero, full, random, urandom,
 * tty, ptmx, /dev/pts/ and mknod of any node; a default whose path
 * spec_devices, linux.devices, names again is left out, as runc does).
 * Errors name linux.resources.devices[N] and its field. */
int oci_dev_filter_build(yajl_val rules, yajl_val spec_devices,
                         struct oci_dev_filter *out, vc_error **err);

/* Applies one rule to f as cgroup v1 would.  As runc's emulation, taking
 * access out of part of a wildcard exception (which v1 silently ignores)
 * is an error; field names the rule in it. */
int oci_dev_filter_apply(struct oci_dev_filter *f, const struct oci_dev_rule *r,
                         const char *field, vc_error **err);

void oci_dev_filter_free(struct oci_dev_filter *f);

/* The eBPF program for f: *n_insns instructions in *out (free it).  It
 * returns 1 (allow) or 0 (deny) for a bpf_cgroup_dev_ctx: an exception
 * matches when the type and numbers match and it grants every requested
 * access bit. */
void oci_dev_filter_program(const struct oci_dev_filter *f,
                            struct bpf_insn **out, size_t *n_insns);

#endif
