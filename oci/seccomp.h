/* linux.seccomp (config-linux.md) resolved against libseccomp: actions,
 * errno values, architectures, flags, syscall names and argument
 * comparisons all become the numbers libseccomp takes.  The host resolves a
 * spec to refuse bad names before a VM boots; the guest agent resolves it
 * again and builds its filter from the result. */
#ifndef VC_OCI_SECCOMP_H
#define VC_OCI_SECCOMP_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

/* Most conditions one linux.seccomp.syscalls entry may carry. */
#define OCI_SECCOMP_MAX_ARGS 16

struct oci_seccomp_rule {
  uint32_t action;  /* with errnoRet folded in (EPERM when absent) */
  int *syscalls;    /* numbers on the native architecture, one per name */
  char **names;     /* the names, for other architectures' numbers */
  size_t n_syscalls;
  struct scmp_arg_cmp args[OCI_SECCOMP_MAX_ARGS];
  size_t n_args;
  /* Two conditions test one argument: libseccomp cannot AND them, so (as
   * runc does) each becomes a rule of its own. */
  bool same_arg;
};

struct oci_seccomp {
  uint32_t default_action;
  uint32_t *arches; /* SCMP_ARCH_* tokens */
  size_t n_arches;
  enum scmp_filter_attr *flags; /* attributes to set to 1 */
  size_t n_flags;
  struct oci_seccomp_rule *rules; /* linux.seccomp.syscalls, in order */
  size_t n_rules;
};

/* Resolves json (linux.seccomp as compact JSON).  Errors name the field
 * from "linux.seccomp" down, e.g. linux.seccomp.syscalls[2].names[0]:
 * unknown syscall "nosuch"; callers prefix the file.  SCMP_ACT_NOTIFY is
 * refused: no seccomp agent outside the VM can receive notifications. */
int oci_seccomp_parse(const char *json, struct oci_seccomp **out,
                      vc_error **err);
void oci_seccomp_free(struct oci_seccomp *s);

/* runc's answer for syscalls newer than the profile: a classic BPF prefix
 * for the filter that returns ENOSYS for a syscall numbered above the
 * highest one the profile names on its architecture, so that libc falls
 * back as on an older kernel (clone3 to clone) instead of getting the
 * default action's EPERM.  It covers the native architecture and those of
 * linux.seccomp.architectures (not x32, whose calls share x86_64's audit
 * architecture: they go on to the filter, as do architectures the profile
 * names no syscall for).  A permissive default (SCMP_ACT_ALLOW, _LOG)
 * needs none: *len is then 0.  The prefix ends by falling through to the
 * instruction after it, where the filter proper must follow. */
void oci_seccomp_enosys_stub(const struct oci_seccomp *s,
                             struct sock_filter **out, size_t *len);

/* libseccomp's token for an architecture as runc names it
 * ("SCMP_ARCH_X86_64"); 0 if the name is unknown or this libseccomp
 * cannot build filters for it. */
uint32_t oci_seccomp_arch_token(const char *name);

/* The names oci_seccomp_parse accepts, for `vcrun features`: the i-th of a
 * kind, NULL past the last.  Architectures are listed whether or not
 * this libseccomp supports them (see oci_seccomp_arch_token). */
enum oci_seccomp_names {
  OCI_SECCOMP_ACTIONS,
  OCI_SECCOMP_OPERATORS,
  OCI_SECCOMP_FLAGS,
  OCI_SECCOMP_ARCHES
};
const char *oci_seccomp_name(enum oci_seccomp_names kind, size_t i);

#endif
