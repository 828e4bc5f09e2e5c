/* Capabilities, no_new_privs, rlimits, oom_score_adj and seccomp for a
 * container process, applied the way runc's init applies them. */
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent.h"
#include "json.h"
#include "util.h"


enum { SET_BOUNDING, SET_EFFECTIVE, SET_INHERITABLE, SET_PERMITTED,
       SET_AMBIENT, N_SETS };

struct agent_security {
  uint64_t caps[N_SETS]; /* bit n: capability n */
  bool no_new_privs;
  scmp_filter_ctx filter; /* NULL without linux.seccomp */
};

static uint64_t cap_bit(cap_value_t v) { return (uint64_t)1 << v; }

/* ---- capabilities ------------------------------------------------------ */

static int resolve_caps(const struct oci_capabilities *oc,
                        struct agent_security *s, vc_error **err) {
  static const char *const set_names[N_SETS] = {
      "bounding", "effective", "inheritable", "permitted", "ambient"};
  char **const lists[N_SETS] = {oc->bounding, oc->effective, oc->inheritable,
                                oc->permitted, oc->ambient};
  const size_t counts[N_SETS] = {oc->n_bounding, oc->n_effective,
                                 oc->n_inheritable, oc->n_permitted,
                                 oc->n_ambient};
  int kernel_caps = cap_max_bits();
  for (int set = 0; set < N_SETS; set++) {
    for (size_t i = 0; i < counts[set]; i++) {
      cap_value_t v;
      /* oci_spec_parse checked the names; this guards the agent alone. */
      if (cap_from_name(lists[set][i], &v) < 0 || v < 0 || v >= 64)
        return vc_error_set(err, 0,
                            "process.capabilities.%s[%zu]: unknown capability \"%s\"",
                            set_names[set], i, lists[set][i]);
      if (v >= kernel_caps) {
        /* As runc: a capability this kernel lacks is skipped. */
        agent_log("process.capabilities.%s[%zu]: %s is not supported by the "
                  "guest kernel; ignored", set_names[set], i, lists[set][i]);
        continue;
      }
      s->caps[set] |= cap_bit(v);
    }
  }
  /* The kernel would refuse these sets at start; say so at create. */
  uint64_t stray = s->caps[SET_EFFECTIVE] & ~s->caps[SET_PERMITTED];
  if (stray != 0)
    return vc_error_set(err, 0, "process.capabilities.effective: %s is not in "
                        "process.capabilities.permitted",
                        cap_to_name(__builtin_ctzll(stray)));
  stray = s->caps[SET_INHERITABLE] & ~s->caps[SET_BOUNDING];
  if (stray != 0)
    return vc_error_set(err, 0, "process.capabilities.inheritable: %s is not "
                        "in process.capabilities.bounding",
                        cap_to_name(__builtin_ctzll(stray)));
  /* runc ignores ambient capabilities the kernel refuses to raise (those
   * not in both permitted and inheritable); runc's own default spec has
   * some.  Same here, with a note on the console. */
  uint64_t raisable = s->caps[SET_PERMITTED] & s->caps[SET_INHERITABLE];
  stray = s->caps[SET_AMBIENT] & ~raisable;
  for (cap_value_t v = 0; stray != 0 && v < 64; v++) {
    if (!(stray & cap_bit(v)))
      continue;
    char *name = cap_to_name(v);
    agent_log("process.capabilities.ambient: %s skipped: not in both "
              "permitted and inheritable", name ? name : "?");
    cap_free(name);
  }
  s->caps[SET_AMBIENT] &= raisable;
  return 0;
}

static int set_caps(const struct agent_security *s, vc_error **err) {
  static const struct {
    int set;
    cap_flag_t flag;
  } flags[] = {{SET_EFFECTIVE, CAP_EFFECTIVE},
               {SET_PERMITTED, CAP_PERMITTED},
               {SET_INHERITABLE, CAP_INHERITABLE}};
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
    if ((s->caps[SET_AMBIENT] & cap_bit(v)) && cap_set_ambient(v, CAP_SET) < 0)
      return vc_error_set(err, errno, "process.capabilities.ambient: raise %d",
                          (int)v);
  return 0;
}

/* ---- seccomp ----------------------------------------------------------- */

struct action_name {
  const char *name;
  uint32_t action;
};

static const struct action_name seccomp_actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct {
  const char *name;
  enum scmp_compare op;
} seccomp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
  const char *name;
  enum scmp_filter_attr attr;
} seccomp_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
};

/* The action `key` of obj (with errnoRet for ERRNO and TRACE, EPERM by
 * default as in runc); field names obj in errors. */
static int seccomp_action(yajl_val obj, const char *key, const char *errno_key,
                          const char *field, uint32_t *out, vc_error **err) {
  yajl_val v = vc_json_get(obj, key);
  if (v == NULL || !YAJL_IS_STRING(v))
    return vc_error_set(err, 0, "%s.%s: must be a string", field, key);
  const char *name = v->u.string;
  if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
    return vc_error_set(err, 0, "%s.%s: SCMP_ACT_NOTIFY is not supported "
                        "(no seccomp agent can reach the guest)", field, key);
  size_t i;
  for (i = 0; i < N_ELEMS(seccomp_actions); i++)
    if (strcmp(name, seccomp_actions[i].name) == 0)
      break;
  if (i == N_ELEMS(seccomp_actions))
    return vc_error_set(err, 0, "%s.%s: unknown action \"%s\"", field, key, name);
  uint32_t act = seccomp_actions[i].action;
  if (act == SCMP_ACT_ERRNO(0) || act == SCMP_ACT_TRACE(0)) {
    uint64_t ret = EPERM;
    yajl_val e = vc_json_get(obj, errno_key);
    if (e != NULL && !YAJL_IS_NULL(e) &&
        vc_json_to_u64(e, UINT16_MAX, &ret) != VC_JSON_NUM_OK)
      return vc_error_set(err, 0, "%s.%s: must be an integer from 0 to 65535",
                          field, errno_key);
    act = act == SCMP_ACT_ERRNO(0) ? SCMP_ACT_ERRNO(ret) : SCMP_ACT_TRACE(ret);
  }
  *out = act;
  return 0;
}

static int seccomp_arg(yajl_val a, const char *field, struct scmp_arg_cmp *out,
                       vc_error **err) {
  if (!YAJL_IS_OBJECT(a))
    return vc_error_set(err, 0, "%s: must be an object", field);
  uint64_t index, value = 0, value2 = 0;
  if (vc_json_to_u64(vc_json_get(a, "index"), 5, &index) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.index: must be an integer from 0 to 5", field);
  yajl_val v = vc_json_get(a, "value");
  if (v != NULL && vc_json_to_u64(v, UINT64_MAX, &value) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.value: must be a non-negative integer", field);
  v = vc_json_get(a, "valueTwo");
  if (v != NULL && vc_json_to_u64(v, UINT64_MAX, &value2) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.valueTwo: must be a non-negative integer",
                        field);
  const char *op = vc_json_get_str(a, "op");
  if (op == NULL)
    return vc_error_set(err, 0, "%s.op: must be a string", field);
  size_t i;
  for (i = 0; i < N_ELEMS(seccomp_ops); i++)
    if (strcmp(op, seccomp_ops[i].name) == 0)
      break;
  if (i == N_ELEMS(seccomp_ops))
    return vc_error_set(err, 0, "%s.op: unknown operator \"%s\"", field, op);
  *out = (struct scmp_arg_cmp){.arg = (unsigned)index, .op = seccomp_ops[i].op,
                               .datum_a = value, .datum_b = value2};
  return 0;
}

/* One linux.seccomp.syscalls entry.  As in runc, conditions on distinct
 * arguments form one rule (all must match), while several conditions on
 * the same argument become one rule each (any may match), since
 * libseccomp cannot AND two comparisons of one argument. */
static int seccomp_syscalls_entry(scmp_filter_ctx ctx, yajl_val e, size_t idx,
                                  uint32_t default_action, vc_error **err) {
  cleanup_free char *field = xasprintf("linux.seccomp.syscalls[%zu]", idx);
  if (!YAJL_IS_OBJECT(e))
    return vc_error_set(err, 0, "%s: must be an object", field);
  uint32_t act;
  if (seccomp_action(e, "action", "errnoRet", field, &act, err) < 0)
    return -1;
  yajl_val names = vc_json_get(e, "names");
  if (names == NULL || !YAJL_IS_ARRAY(names))
    return vc_error_set(err, 0, "%s.names: must be an array of strings", field);
  yajl_val args = vc_json_get(e, "args");
  if (args != NULL && !YAJL_IS_NULL(args) && !YAJL_IS_ARRAY(args))
    return vc_error_set(err, 0, "%s.args: must be an array", field);
  size_t n_args = YAJL_IS_ARRAY(args) ? args->u.array.len : 0;
  struct scmp_arg_cmp cmps[16];
  if (n_args > N_ELEMS(cmps))
    return vc_error_set(err, 0, "%s.args: at most %zu conditions", field,
                        N_ELEMS(cmps));
  bool same_arg = false;
  for (size_t i = 0; i < n_args; i++) {
    cleanup_free char *af = xasprintf("%s.args[%zu]", field, i);
    if (seccomp_arg(args->u.array.values[i], af, &cmps[i], err) < 0)
      return -1;
    for (size_t j = 0; j < i; j++)
      same_arg |= cmps[j].arg == cmps[i].arg;
  }
  for (size_t i = 0; i < names->u.array.len; i++) {
    yajl_val nv = names->u.array.values[i];
    if (!YAJL_IS_STRING(nv))
      return vc_error_set(err, 0, "%s.names[%zu]: must be a string", field, i);
    int nr = seccomp_syscall_resolve_name(nv->u.string);
    if (nr == __NR_SCMP_ERROR)
      return vc_error_set(err, 0, "%s.names[%zu]: unknown syscall \"%s\"",
                          field, i, nv->u.string);
    /* libseccomp refuses rules that repeat the default; runc skips them. */
    if (act == default_action)
      continue;
    int r = 0;
    if (!same_arg)
      r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n_args, cmps);
    for (size_t j = 0; same_arg && r == 0 && j < n_args; j++)
      r = seccomp_rule_add_array(ctx, act, nr, 1, &cmps[j]);
    if (r < 0)
      return vc_error_set(err, -r, "%s: add rule for \"%s\"", field,
                          nv->u.string);
  }
  return 0;
}

static int seccomp_build(const char *json, scmp_filter_ctx *out,
                         vc_error **err) {
  yajl_val root = NULL;
  if (vc_json_parse(json, &root, err) < 0)
    return vc_error_wrap(err, "linux.seccomp");
  scmp_filter_ctx ctx = NULL;
  int rc = -1;
  const char *lf = "linux.seccomp";
  uint32_t def;
  if (seccomp_action(root, "defaultAction", "defaultErrnoRet", lf, &def, err) < 0)
    goto out;
  ctx = seccomp_init(def);
  if (ctx == NULL) {
    vc_error_set(err, 0, "linux.seccomp: seccomp_init failed");
    goto out;
  }
  /* no_new_privs is process.noNewPrivileges' business, not the filter's. */
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
    vc_error_set(err, 0, "linux.seccomp: cannot leave no_new_privs alone");
    goto out;
  }
  yajl_val archs = vc_json_get(root, "architectures");
  for (size_t i = 0; YAJL_IS_ARRAY(archs) && i < archs->u.array.len; i++) {
    yajl_val a = archs->u.array.values[i];
    const char *name = YAJL_IS_STRING(a) ? a->u.string : "";
    char lower[64];
    uint32_t token = 0;
    if (strncmp(name, "SCMP_ARCH_", 10) == 0 && strlen(name + 10) < sizeof(lower)) {
      size_t k;
      for (k = 0; name[10 + k]; k++)
        lower[k] = (char)(name[10 + k] >= 'A' && name[10 + k] <= 'Z'
                              ? name[10 + k] - 'A' + 'a' : name[10 + k]);
      lower[k] = '\0';
      token = seccomp_arch_resolve_name(lower);
    }
    if (token == 0) {
      vc_error_set(err, 0, "linux.seccomp.architectures[%zu]: unknown "
                   "architecture \"%s\"", i, name);
      goto out;
    }
    int r = seccomp_arch_add(ctx, token);
    if (r < 0 && r != -EEXIST) {
      vc_error_set(err, -r, "linux.seccomp.architectures[%zu]: add \"%s\"", i,
                   name);
      goto out;
    }
  }
  yajl_val flags = vc_json_get(root, "flags");
  for (size_t i = 0; YAJL_IS_ARRAY(flags) && i < flags->u.array.len; i++) {
    yajl_val f = flags->u.array.values[i];
    const char *name = YAJL_IS_STRING(f) ? f->u.string : "";
    size_t k;
    for (k = 0; k < N_ELEMS(seccomp_flags); k++)
      if (strcmp(name, seccomp_flags[k].name) == 0)
        break;
    if (k == N_ELEMS(seccomp_flags)) {
      vc_error_set(err, 0, "linux.seccomp.flags[%zu]: \"%s\" is not supported",
                   i, name);
      goto out;
    }
    int r = seccomp_attr_set(ctx, seccomp_flags[k].attr, 1);
    if (r < 0) {
      vc_error_set(err, -r, "linux.seccomp.flags[%zu]: %s", i, name);
      goto out;
    }
  }
  yajl_val calls = vc_json_get(root, "syscalls");
  if (calls != NULL && !YAJL_IS_NULL(calls) && !YAJL_IS_ARRAY(calls)) {
    vc_error_set(err, 0, "linux.seccomp.syscalls: must be an array");
    goto out;
  }
  for (size_t i = 0; YAJL_IS_ARRAY(calls) && i < calls->u.array.len; i++)
    if (seccomp_syscalls_entry(ctx, calls->u.array.values[i], i, def, err) < 0)
      goto out;
  *out = vc_steal(&ctx);
  rc = 0;
out:
  if (ctx != NULL)
    seccomp_release(ctx);
  yajl_tree_free(root);
  return rc;
}

static int seccomp_load_filter(struct agent_security *s, vc_error **err) {
  int r = seccomp_load(s->filter);
  if (r < 0)
    return vc_error_set(err, -r, "linux.seccomp: load the filter");
  seccomp_release(s->filter);
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
  if (seccomp_json != NULL && seccomp_build(seccomp_json, &s->filter, err) < 0)
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
  if (s->filter != NULL)
    seccomp_release(s->filter);
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
    if (!(s->caps[SET_BOUNDING] & cap_bit(v)) && cap_drop_bound(v) < 0)
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
