#include "oci/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
  const char *name;
  uint32_t action;
} seccomp_actions[] = {
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

/* The action `key` of obj, with errno_key's value folded into ERRNO and
 * TRACE (EPERM by default, as in runc); field names obj in errors. */
static int parse_action(yajl_val obj, const char *key, const char *errno_key,
                        const char *field, uint32_t *out, vc_error **err) {
  const char *name = vc_json_get_str(obj, key);
  if (name == NULL)
    return vc_error_set(err, 0, "%s.%s: must be a string", field, key);
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

static int parse_arg(yajl_val a, const char *field, struct scmp_arg_cmp *out,
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

static int parse_rule(yajl_val e, size_t idx, struct oci_seccomp_rule *r,
                      vc_error **err) {
  cleanup_free char *field = xasprintf("linux.seccomp.syscalls[%zu]", idx);
  if (!YAJL_IS_OBJECT(e))
    return vc_error_set(err, 0, "%s: must be an object", field);
  if (parse_action(e, "action", "errnoRet", field, &r->action, err) < 0)
    return -1;
  yajl_val names = vc_json_get_array(e, "names");
  if (names == NULL)
    return vc_error_set(err, 0, "%s.names: must be an array of strings", field);
  yajl_val args = vc_json_get(e, "args");
  if (args != NULL && !YAJL_IS_NULL(args) && !YAJL_IS_ARRAY(args))
    return vc_error_set(err, 0, "%s.args: must be an array", field);
  size_t n_args = YAJL_IS_ARRAY(args) ? args->u.array.len : 0;
  if (n_args > OCI_SECCOMP_MAX_ARGS)
    return vc_error_set(err, 0, "%s.args: at most %d conditions", field,
                        OCI_SECCOMP_MAX_ARGS);
  for (size_t i = 0; i < n_args; i++) {
    cleanup_free char *af = xasprintf("%s.args[%zu]", field, i);
    if (parse_arg(args->u.array.values[i], af, &r->args[i], err) < 0)
      return -1;
    r->n_args = i + 1;
    for (size_t j = 0; j < i; j++)
      r->same_arg |= r->args[j].arg == r->args[i].arg;
  }
  r->syscalls = xcalloc(names->u.array.len + 1, sizeof(*r->syscalls));
  r->names = xcalloc(names->u.array.len + 1, sizeof(*r->names));
  for (size_t i = 0; i < names->u.array.len; i++) {
    yajl_val nv = names->u.array.values[i];
    if (!YAJL_IS_STRING(nv))
      return vc_error_set(err, 0, "%s.names[%zu]: must be a string", field, i);
    /* The native architecture's table: the guest runs the host's. */
    int nr = seccomp_syscall_resolve_name(nv->u.string);
    if (nr == __NR_SCMP_ERROR)
      return vc_error_set(err, 0, "%s.names[%zu]: unknown syscall \"%s\"",
                          field, i, nv->u.string);
    r->names[r->n_syscalls] = xstrdup(nv->u.string);
    r->syscalls[r->n_syscalls++] = nr;
  }
  return 0;
}

/* runc's names; libseccomp knows each in lower case without the prefix. */
static const char *const seccomp_arches[] = {
    "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
};

/* The highest number any rule's syscall has on arch; -1 for none. */
static int last_syscall(const struct oci_seccomp *s, uint32_t arch) {
  int last = -1;
  for (size_t i = 0; i < s->n_rules; i++)
    for (size_t j = 0; j < s->rules[i].n_syscalls; j++) {
      /* Negative: not on this architecture (or a pseudo-syscall). */
      int nr = seccomp_syscall_resolve_name_arch(arch, s->rules[i].names[j]);
      if (nr > last)
        last = nr;
    }
  return last;
}

static struct sock_filter stmt(uint16_t code, uint32_t k) {
  return (struct sock_filter){.code = code, .k = k};
}

static struct sock_filter jump(uint16_t code, uint32_t k, size_t at,
                               size_t if_true, size_t if_false) {
  return (struct sock_filter){.code = code, .jt = (uint8_t)(if_true - at - 1),
                              .jf = (uint8_t)(if_false - at - 1), .k = k};
}

void oci_seccomp_enosys_stub(const struct oci_seccomp *s,
                             struct sock_filter **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (s->default_action == SCMP_ACT_ALLOW || s->default_action == SCMP_ACT_LOG)
    return;
  /* Architectures of the filter with their last known syscall. */
  uint32_t arch[N_ELEMS(seccomp_arches) + 1];
  int last[N_ELEMS(seccomp_arches) + 1];
  size_t n_arch = 0;
  for (size_t i = 0; i <= s->n_arches; i++) {
    uint32_t a = i == 0 ? seccomp_arch_native() : s->arches[i - 1];
    bool seen = a == SCMP_ARCH_X32;
    for (size_t k = 0; k < n_arch; k++)
      seen |= arch[k] == a;
    int nr = seen ? -1 : last_syscall(s, a);
    if (nr < 0 || n_arch == N_ELEMS(arch))
      continue;
    arch[n_arch] = a;
    last[n_arch++] = nr;
  }
  if (n_arch == 0)
    return;
  /* Per architecture: "arch is A?", then load nr, (x86_64: x32's calls
   * pass on), "nr > last?", return ENOSYS.  Total length first, so that
   * every jump knows where the filter proper starts. */
  size_t total = 1;
  for (size_t k = 0; k < n_arch; k++)
    total += 4 + (arch[k] == SCMP_ARCH_X86_64);
  struct sock_filter *p = xcalloc(total, sizeof(*p));
  size_t n = 0;
  const size_t filter = total;
  p[n++] = stmt(BPF_LD | BPF_W | BPF_ABS,
                offsetof(struct seccomp_data, arch));
  for (size_t k = 0; k < n_arch; k++) {
    size_t next = n + 4 + (arch[k] == SCMP_ARCH_X86_64);
    /* The arch values libseccomp uses are the kernel's AUDIT_ARCH_*. */
    p[n] = jump(BPF_JMP | BPF_JEQ | BPF_K, arch[k], n, n + 1, next);
    n++;
    p[n++] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    if (arch[k] == SCMP_ARCH_X86_64) {
      p[n] = jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, n, filter, n + 1);
      n++;
    }
    p[n] = jump(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)last[k], n, n + 1, filter);
    n++;
    p[n++] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  }
  *out = p;
  *len = n;
}

uint32_t oci_seccomp_arch_token(const char *name) {
  size_t i;
  for (i = 0; i < N_ELEMS(seccomp_arches); i++)
    if (strcmp(name, seccomp_arches[i]) == 0)
      break;
  if (i == N_ELEMS(seccomp_arches))
    return 0;
  char lower[32];
  size_t plen = strlen("SCMP_ARCH_"), k;
  for (k = 0; name[plen + k] != '\0' && k + 1 < sizeof(lower); k++)
    lower[k] = (char)tolower((unsigned char)name[plen + k]);
  lower[k] = '\0';
  return seccomp_arch_resolve_name(lower);
}

const char *oci_seccomp_name(enum oci_seccomp_names kind, size_t i) {
  switch (kind) {
  case OCI_SECCOMP_ACTIONS:
    return i < N_ELEMS(seccomp_actions) ? seccomp_actions[i].name : NULL;
  case OCI_SECCOMP_OPERATORS:
    return i < N_ELEMS(seccomp_ops) ? seccomp_ops[i].name : NULL;
  case OCI_SECCOMP_FLAGS:
    return i < N_ELEMS(seccomp_flags) ? seccomp_flags[i].name : NULL;
  case OCI_SECCOMP_ARCHES:
    return i < N_ELEMS(seccomp_arches) ? seccomp_arches[i] : NULL;
  }
  return NULL;
}

/* An optional array of strings at root.key; NULL if absent. */
static int name_list(yajl_val root, const char *key, yajl_val *out,
                     vc_error **err) {
  yajl_val v = vc_json_get(root, key);
  *out = NULL;
  if (v == NULL || YAJL_IS_NULL(v))
    return 0;
  if (!YAJL_IS_ARRAY(v))
    return vc_error_set(err, 0, "linux.seccomp.%s: must be an array", key);
  *out = v;
  return 0;
}

static int parse_root(yajl_val root, struct oci_seccomp *s, vc_error **err) {
  if (!YAJL_IS_OBJECT(root))
    return vc_error_set(err, 0, "linux.seccomp: must be an object");
  if (parse_action(root, "defaultAction", "defaultErrnoRet", "linux.seccomp",
                   &s->default_action, err) < 0)
    return -1;
  yajl_val archs, flags;
  if (name_list(root, "architectures", &archs, err) < 0 ||
      name_list(root, "flags", &flags, err) < 0)
    return -1;
  size_t n = archs != NULL ? archs->u.array.len : 0;
  s->arches = xcalloc(n + 1, sizeof(*s->arches));
  for (size_t i = 0; i < n; i++) {
    yajl_val a = archs->u.array.values[i];
    const char *name = YAJL_IS_STRING(a) ? a->u.string : "";
    uint32_t token = oci_seccomp_arch_token(name);
    if (token == 0)
      return vc_error_set(err, 0, "linux.seccomp.architectures[%zu]: unknown "
                          "architecture \"%s\"", i, name);
    s->arches[s->n_arches++] = token;
  }
  n = flags != NULL ? flags->u.array.len : 0;
  s->flags = xcalloc(n + 1, sizeof(*s->flags));
  for (size_t i = 0; i < n; i++) {
    yajl_val f = flags->u.array.values[i];
    const char *name = YAJL_IS_STRING(f) ? f->u.string : "";
    size_t k;
    for (k = 0; k < N_ELEMS(seccomp_flags); k++)
      if (strcmp(name, seccomp_flags[k].name) == 0)
        break;
    if (k == N_ELEMS(seccomp_flags))
      return vc_error_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag "
                          "\"%s\"", i, name);
    s->flags[s->n_flags++] = seccomp_flags[k].attr;
  }
  yajl_val calls = vc_json_get(root, "syscalls");
  if (calls == NULL || YAJL_IS_NULL(calls))
    return 0;
  if (!YAJL_IS_ARRAY(calls))
    return vc_error_set(err, 0, "linux.seccomp.syscalls: must be an array");
  s->rules = xcalloc(calls->u.array.len + 1, sizeof(*s->rules));
  for (size_t i = 0; i < calls->u.array.len; i++) {
    /* Counted first, so that oci_seccomp_free frees a half-made rule. */
    s->n_rules = i + 1;
    if (parse_rule(calls->u.array.values[i], i, &s->rules[i], err) < 0)
      return -1;
  }
  return 0;
}

int oci_seccomp_parse(const char *json, struct oci_seccomp **out,
                      vc_error **err) {
  yajl_val root = NULL;
  if (vc_json_parse(json, &root, err) < 0)
    return vc_error_wrap(err, "linux.seccomp");
  struct oci_seccomp *s = xcalloc(1, sizeof(*s));
  int rc = parse_root(root, s, err);
  yajl_tree_free(root);
  if (rc < 0) {
    oci_seccomp_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

void oci_seccomp_free(struct oci_seccomp *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_rules; i++) {
    for (size_t j = 0; j < s->rules[i].n_syscalls; j++)
      free(s->rules[i].names[j]);
    free(s->rules[i].names);
    free(s->rules[i].syscalls);
  }
  free(s->rules);
  free(s->arches);
  free(s->flags);
  free(s);
}
