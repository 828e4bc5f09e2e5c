/* Process security attributes of a container process, in the guest:
 * capabilities (libcap), no_new_privs, rlimits, oom_score_adj, seccomp
 * (libseccomp), and warnings for the LSM fields the guest cannot honour.
 *
 * Everything that can fail on bad input is checked by
 * agent_security_prepare, before the child reports ready, so a bad spec
 * fails at create; agent_security_apply then only changes the process. */
#ifndef VC_AGENT_SECURITY_H
#define VC_AGENT_SECURITY_H

#include "lib/base/error.h"
#include "oci/spec.h"

struct agent_security;

/* Resolves the capability sets of p and builds the seccomp filter from
 * seccomp_json (NULL: none).  Warnings go to stderr, so call it while
 * stderr is still the guest console. */
int agent_security_prepare(const struct oci_process *p, const char *seccomp_json,
                           struct agent_security **out, vc_error **err);
void agent_security_free(struct agent_security *s);

/* oomScoreAdj and rlimits: done before the ready signal, as runc does,
 * while the process still has every capability. */
int agent_process_limits(const struct oci_process *p, vc_error **err);

/* After the start signal, in runc's order: the bounding set, the user
 * (agent_set_user) with capabilities kept across the uid change, the
 * effective/permitted/inheritable and ambient sets, no_new_privs, and the
 * seccomp filter (right before execve; before the capability drop when
 * no_new_privs is off, since loading it then needs CAP_SYS_ADMIN). */
int agent_security_apply(struct agent_security *s, const struct oci_user *u,
                         vc_error **err);

/* devices.c: linux.sysctl, written through /proc/sys by a process already
 * in the container's namespaces (so namespaced keys land there; the rest
 * reach the guest kernel, which serves this container alone). */
int agent_sysctl_apply(const struct oci_spec *spec, vc_error **err);
/* linux.devices, created below root (the container's root path as seen by
 * the caller; "" after pivot_root).  dev_is_tmpfs: the spec mounted /dev,
 * so nodes land in the container's own tmpfs, not in the shared rootfs. */
int agent_devices_create(const char *root, const char *devices_json,
                         bool dev_is_tmpfs, vc_error **err);

#endif
