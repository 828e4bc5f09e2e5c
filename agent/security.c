/* Capabilities, no_new_privs, rlimits, oom_score_adj and seccomp for a
 * container process, applied the way runc's init applies them. */
#include "agent/security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/agent.h"
#include "oci/capability.h"
#include "oci/seccomp.h"
#include "lib/base/util.h"


struct agent_security {
  uint64_t caps[OCI_CAPS_SETS]; /* bit n: capability n */
  bool no_new_privs;
  /* The seccomp filter as loaded: runc's ENOSYS prefix, then libseccomp's
   * program.  NULL without linux.seccomp. */
  struct sock_filter *filter;
  size_t filter_len;
  unsigned filter_flags; /* SECCOMP_FILTER_FLAG_* of linux.seccomp.flags */
};

static uint64_t cap_bit(cap_value_t v) { return (uint64_t)1 << v; }

/* ---- capabilities ------------------------------------------------------ */

static int resolve_caps(const struct oci_capabilities *oc,
                        struct agent_security *s, vc_error **err) {
  /* The host checked the names; resolving them again guards the agent. */
  if (oci_capabilities_resolve(oc, s->caps, err) < 0)
    return -1;
  int kernel_caps = cap_max_bits();
  for (int set = 0; set < OCI_CAPS_SETS; set++) {
    for (int v = kernel_caps; v < OCI_CAPABILITY_COUNT; v++) {
      if (!(s->caps[set] & cap_bit(v)))
        continue;
      /* As runc: a capability this kernel lacks is skipped. */
      agent_log("process.capabilities.%s: %s is not supported by the guest "
                "kernel; ignored", oci_capability_set_name(set),
                oci_capability_name(v));
      s->caps[set] &= ~cap_bit(v);
    }
  }
  /* The kernel would refuse these sets at start; say so at create. */
  if (oci_capabilities_check_subsets(s->caps, err) < 0)
    return -1;
  /* runc ignores ambient capabilities the kernel refuses to raise (those
   * not in both permitted and inheritable); runc's own default spec has
   * some.  Same here, with a note on the console. */
  uint64_t raisable = s->caps[OCI_CAPS_PERMITTED] & s->caps[OCI_CAPS_INHERITABLE];
  uint64_t stray = s->caps[OCI_CAPS_AMBIENT] & ~raisable;
  for (cap_value_t v = 0; stray != 0 && v < 64; v++) {
    if (!(stray & cap_bit(v)))
      continue;
    agent_log("process.capabilities.ambient: %s skipped: not in both "
              "permitted and inheritable", oci_capability_name(v));
  }
  s->caps[OCI_CAPS_AMBIENT] &= raisable;
  return 0;
}

static int set_caps(const struct agent_security *s, vc_error **err) {
  static const struct {
    int set;
    cap_flag_t flag;
  } flags[] = {{OCI_CAPS_EFFECTIVE, CAP_EFFECTIVE},
               {OCI_CAPS_PERMITTED, CAP_PERMITTED},
               {OCI_CAPS_INHERITABLE, CAP_INHERITABLE}};
  cap_t caps = cap_init();
  if (caps == NULL)
    return vc_error_set(err, errno, "process.capabilities: cap_init");
  for (size_t i = 0; i < N_ELEMS(flags); i++) {
    for (cap_value_t v = 0; v < 64; v++) {
      if (!(s->caps[flags[i].set] & cap_bit(v)))
        continue;
      if (cap_set_flag(caps, flags[i].flag, 1, &v, CAP_SET) < 0) {
        cap_free(caps);
        return vc_error_set(err, errno, "process.capabilities: cap_set_flag");
      }
    }
  }
  int r = cap_set_proc(caps);
  int e = errno;
  cap_free(caps);
  if (r < 0)
    return vc_error_set(err, e, "process.capabilities: set capabilities");
  if (cap_reset_ambient() < 0)
    return vc_error_set(err, errno, "process.capabilities.ambient: reset");
  for (cap_value_t v = 0; v < 64; v++)
    if ((s->caps[OCI_CAPS_AMBIENT] & cap_bit(v)) && cap_set_ambient(v, CAP_SET) < 0)
      return vc_error_set(err, errno, "process.capabilities.ambient: raise %d",
                          (int)v);
  return 0;
}

/* ---- seccomp ----------------------------------------------------------- */

/* One resolved linux.seccomp.syscalls entry as libseccomp rules. */
static int seccomp_add_rule(scmp_filter_ctx ctx,
                            const struct oci_seccomp_rule *r, size_t idx,
                            uint32_t default_action, vc_error **err) {
  /* libseccomp refuses rules that repeat the default; runc skips them. */
  if (r->action == default_action)
    return 0;
  for (size_t i = 0; i < r->n_syscalls; i++) {
    int rc = 0;
    if (!r->same_arg)
      rc = seccomp_rule_add_array(ctx, r->action, r->syscalls[i],
                                  (unsigned)r->n_args, r->args);
    for (size_t j = 0; r->same_arg && rc == 0 && j < r->n_args; j++)
      rc = seccomp_rule_add_array(ctx, r->action, r->syscalls[i], 1,
                                  &r->args[j]);
    if (rc < 0)
      return vc_error_set(err, -rc, "linux.seccomp.syscalls[%zu].names[%zu]: "
                          "add rule", idx, i);
  }
  return 0;
}

/* linux.seccomp.flags as seccomp(2) takes them. */
static unsigned filter_flag(enum scmp_filter_attr attr) {
  switch (attr) {
  case SCMP_FLTATR_CTL_TSYNC:
    return SECCOMP_FILTER_FLAG_TSYNC;
  case SCMP_FLTATR_CTL_LOG:
    return SECCOMP_FILTER_FLAG_LOG;
  case SCMP_FLTATR_CTL_SSB:
    return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  default:
    return 0;
  }
}

/* libseccomp's program for ctx, behind runc's ENOSYS prefix for sc, into
 * s->filter. */
static int seccomp_program(scmp_filter_ctx ctx, const struct oci_seccomp *sc,
                           struct agent_security *s, vc_error **err) {
  cleanup_close int fd = memfd_create("seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "linux.seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0)
    return vc_error_set(err, -r, "linux.seccomp: export the filter");
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0)
    return vc_error_set(err, 0, "linux.seccomp: exported filter has %lld bytes",
                        (long long)size);
  struct sock_filter *stub = NULL;
  size_t stub_len = 0;
  oci_seccomp_enosys_stub(sc, &stub, &stub_len);
  size_t len = stub_len + (size_t)size / sizeof(struct sock_filter);
  if (len > BPF_MAXINSNS) {
    free(stub);
    return vc_error_set(err, 0, "linux.seccomp: the filter has %zu "
                        "instructions, more than the kernel's %d", len,
                        BPF_MAXINSNS);
  }
  s->filter = xcalloc(len, sizeof(*s->filter));
  s->filter_len = len;
  if (stub_len > 0)
    memcpy(s->filter, stub, stub_len * sizeof(*stub));
  free(stub);
  if (pread(fd, s->filter + stub_len, (size_t)size, 0) != (ssize_t)size)
    return vc_error_set(err, errno, "linux.seccomp: read the exported filter");
  return 0;
}

static int seccomp_build(const char *json, struct agent_security *s,
                         vc_error **err) {
  struct oci_seccomp *sc = NULL;
  /* The host resolved the same names before the VM booted; resolving them
   * here again guards the agent alone. */
  if (oci_seccomp_parse(json, &sc, err) < 0)
    return -1;
  int rc = -1;
  scmp_filter_ctx ctx = seccomp_init(sc->default_action);
  if (ctx == NULL) {
    vc_error_set(err, 0, "linux.seccomp: seccomp_init failed");
    goto out;
  }
  for (size_t i = 0; i < sc->n_arches; i++) {
    int r = seccomp_arch_add(ctx, sc->arches[i]);
    if (r < 0 && r != -EEXIST) {
      vc_error_set(err, -r, "linux.seccomp.architectures[%zu]: add", i);
      goto out;
    }
  }
  /* Loaded by seccomp(2) here, not by libseccomp: the flags go there. */
  for (size_t i = 0; i < sc->n_flags; i++)
    s->filter_flags |= filter_flag(sc->flags[i]);
  for (size_t i = 0; i < sc->n_rules; i++)
    if (seccomp_add_rule(ctx, &sc->rules[i], i, sc->default_action, err) < 0)
      goto out;
  rc = seccomp_program(ctx, sc, s, err);
out:
  if (ctx != NULL)
    seccomp_release(ctx);
  oci_seccomp_free(sc);
  return rc;
}

/* Without no_new_privs this needs CAP_SYS_ADMIN; no_new_privs itself is
 * process.noNewPrivileges' business, not the filter's. */
static int seccomp_load_filter(struct agent_security *s, vc_error **err) {
  struct sock_fprog prog = {.len = (unsigned short)s->filter_len,
                            .filter = s->filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->filter_flags, &prog) < 0)
    return vc_error_set(err, errno, "linux.seccomp: load the filter");
  free(s->filter);
  s->filter = NULL;
  return 0;
}

/* ---- public ------------------------------------------------------------ */

int agent_security_prepare(const struct oci_process *p, const char *seccomp_json,
                           struct agent_security **out, vc_error **err) {
  struct agent_security *s = xcalloc(1, sizeof(*s));
  s->no_new_privs = p->no_new_privileges;
  /* Without process.capabilities every set stays empty, as in runc. */
  if (p->capabilities != NULL && resolve_caps(p->capabilities, s, err) < 0)
    goto fail;
  if (seccomp_json != NULL && seccomp_build(seccomp_json, s, err) < 0)
    goto fail;
  if (p->apparmor_profile != NULL && p->apparmor_profile[0] != '\0')
    agent_log("process.apparmorProfile \"%s\" ignored: the guest kernel has "
              "no AppArmor", p->apparmor_profile);
  if (p->selinux_label != NULL && p->selinux_label[0] != '\0')
    agent_log("process.selinuxLabel \"%s\" ignored: the guest kernel has no "
              "SELinux", p->selinux_label);
  *out = s;
  return 0;
fail:
  agent_security_free(s);
  return -1;
}

void agent_security_free(struct agent_security *s) {
  if (s == NULL)
    return;
  free(s->filter);
  free(s);
}

static const struct {
  const char *name;
  int resource;
} rlimit_resources[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int agent_process_limits(const struct oci_process *p, vc_error **err) {
  if (p->has_oom_score_adj) {
    cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    char buf[16];
    int len = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
    if (fd < 0 || write(fd, buf, (size_t)len) != len)
      return vc_error_set(err, errno, "process.oomScoreAdj: write %d", p->oom_score_adj);
  }
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct oci_rlimit *r = &p->rlimits[i];
    size_t k;
    for (k = 0; k < N_ELEMS(rlimit_resources); k++)
      if (strcmp(r->type, rlimit_resources[k].name) == 0)
        break;
    if (k == N_ELEMS(rlimit_resources))
      return vc_error_set(err, 0, "process.rlimits[%zu].type: unknown rlimit \"%s\"",
                          i, r->type);
    /* UINT64_MAX is RLIM_INFINITY, as in runc's specs. */
    struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};
    if (setrlimit(rlimit_resources[k].resource, &rl) < 0)
      return vc_error_set(err, errno, "process.rlimits[%zu]: set %s to %llu/%llu",
                          i, r->type, (unsigned long long)r->soft,
                          (unsigned long long)r->hard);
  }
  return 0;
}

int agent_security_apply(struct agent_security *s, const struct oci_user *u,
                         vc_error **err) {
  int kernel_caps = cap_max_bits();
  for (cap_value_t v = 0; v < kernel_caps && v < 64; v++)
    if (!(s->caps[OCI_CAPS_BOUNDING] & cap_bit(v)) && cap_drop_bound(v) < 0)
      return vc_error_set(err, errno, "process.capabilities.bounding: drop %d",
                          (int)v);
  /* Loading a filter without no_new_privs needs CAP_SYS_ADMIN, which the
   * user change below may drop; the filter then has to allow the few
   * syscalls that follow, as with runc. */
  if (s->filter != NULL && !s->no_new_privs && seccomp_load_filter(s, err) < 0)
    return -1;
  /* Keep the permitted set across setuid; set_caps then trims it. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return vc_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
  agent_set_user(u);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return vc_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
  if (set_caps(s, err) < 0)
    return -1;
  if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return vc_error_set(err, errno, "process.noNewPrivileges");
  /* Last, so that as few syscalls as possible run under the filter. */
  if (s->filter != NULL && seccomp_load_filter(s, err) < 0)
    return -1;
  return 0;
}
