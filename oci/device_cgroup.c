#include "oci/device_cgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/json.h"
#include "lib/base/util.h"

/* runc's AllowedDevices, appended after the spec's rules.  path is what a
 * linux.devices entry must name to replace the default. */
static const struct {
  const char *path;
  struct oci_dev_rule rule;
} default_rules[] = {
    {NULL, {'c', OCI_DEV_ANY, OCI_DEV_ANY, OCI_DEV_MKNOD, true}},
    {NULL, {'b', OCI_DEV_ANY, OCI_DEV_ANY, OCI_DEV_MKNOD, true}},
    {"/dev/null", {'c', 1, 3, OCI_DEV_RWM, true}},
    {"/dev/random", {'c', 1, 8, OCI_DEV_RWM, true}},
    {"/dev/full", {'c', 1, 7, OCI_DEV_RWM, true}},
    {"/dev/tty", {'c', 5, 0, OCI_DEV_RWM, true}},
    {"/dev/zero", {'c', 1, 5, OCI_DEV_RWM, true}},
    {"/dev/urandom", {'c', 1, 9, OCI_DEV_RWM, true}},
    {NULL, {'c', 136, OCI_DEV_ANY, OCI_DEV_RWM, true}}, /* /dev/pts/N */
    {NULL, {'c', 5, 2, OCI_DEV_RWM, true}},             /* /dev/ptmx */
};

static bool same_node(const struct oci_dev_rule *a, char type, int64_t major,
                      int64_t minor) {
  return a->type == type && a->major == major && a->minor == minor;
}

static struct oci_dev_rule *find(struct oci_dev_filter *f, char type,
                                 int64_t major, int64_t minor) {
  for (size_t i = 0; i < f->n_exceptions; i++)
    if (same_node(&f->exceptions[i], type, major, minor))
      return &f->exceptions[i];
  return NULL;
}

static void access_text(unsigned access, char buf[4]) {
  size_t n = 0;
  if (access & OCI_DEV_READ)
    buf[n++] = 'r';
  if (access & OCI_DEV_WRITE)
    buf[n++] = 'w';
  if (access & OCI_DEV_MKNOD)
    buf[n++] = 'm';
  buf[n] = '\0';
}

/* Takes r's access out of the exception for exactly r's node. */
static int remove_exception(struct oci_dev_filter *f,
                            const struct oci_dev_rule *r, const char *field,
                            vc_error **err) {
  const int64_t wider[3][2] = {{OCI_DEV_ANY, r->minor},
                               {r->major, OCI_DEV_ANY},
                               {OCI_DEV_ANY, OCI_DEV_ANY}};
  for (size_t i = 0; i < 3; i++) {
    if (wider[i][0] == r->major && wider[i][1] == r->minor)
      continue;
    const struct oci_dev_rule *w = find(f, r->type, wider[i][0], wider[i][1]);
    if (w != NULL && (w->access & r->access) != 0) {
      char access[4];
      access_text(w->access & r->access, access);
      return vc_error_set(err, 0, "%s: cannot take \"%s\" out of an earlier "
                          "wildcard rule for the same type (cgroup v1 would "
                          "ignore it)", field, access);
    }
  }
  struct oci_dev_rule *e = find(f, r->type, r->major, r->minor);
  if (e == NULL)
    return 0;
  e->access &= ~r->access;
  if (e->access == 0) {
    *e = f->exceptions[f->n_exceptions - 1];
    f->n_exceptions--;
  }
  return 0;
}

int oci_dev_filter_apply(struct oci_dev_filter *f, const struct oci_dev_rule *r,
                         const char *field, vc_error **err) {
  /* As cgroup v1 (and runc's emulation of it): any "a" rule starts over. */
  if (r->type == 'a') {
    free(f->exceptions);
    *f = (struct oci_dev_filter){.default_allow = r->allow};
    return 0;
  }
  if (r->allow == f->default_allow)
    return remove_exception(f, r, field, err);
  struct oci_dev_rule *e = find(f, r->type, r->major, r->minor);
  if (e != NULL) {
    e->access |= r->access;
    return 0;
  }
  f->exceptions = xrealloc(f->exceptions,
                           (f->n_exceptions + 1) * sizeof(*f->exceptions));
  f->exceptions[f->n_exceptions++] = *r;
  return 0;
}

void oci_dev_filter_free(struct oci_dev_filter *f) {
  free(f->exceptions);
  *f = (struct oci_dev_filter){0};
}

/* major or minor: absent or null is any, as -1 is. */
static int parse_number(yajl_val d, const char *key, const char *field,
                        int64_t *out, vc_error **err) {
  yajl_val v = vc_json_get(d, key);
  *out = OCI_DEV_ANY;
  if (v == NULL || YAJL_IS_NULL(v))
    return 0;
  if (vc_json_to_i64(v, -1, UINT32_MAX, out) != VC_JSON_NUM_OK)
    return vc_error_set(err, 0, "%s.%s: must be -1 (any) or from 0 to %u",
                        field, key, UINT32_MAX);
  return 0;
}

static int parse_rule(yajl_val d, const char *field, struct oci_dev_rule *r,
                      vc_error **err) {
  if (!YAJL_IS_OBJECT(d))
    return vc_error_set(err, 0, "%s: must be an object", field);
  yajl_val allow = vc_json_get(d, "allow");
  if (allow == NULL || !(YAJL_IS_TRUE(allow) || YAJL_IS_FALSE(allow)))
    return vc_error_set(err, 0, "%s.allow: must be true or false", field);
  r->allow = YAJL_IS_TRUE(allow);
  yajl_val type = vc_json_get(d, "type");
  const char *t = "a";
  if (type != NULL && !YAJL_IS_NULL(type)) {
    t = YAJL_IS_STRING(type) ? type->u.string : "";
    if (strcmp(t, "a") != 0 && strcmp(t, "c") != 0 && strcmp(t, "b") != 0)
      return vc_error_set(err, 0, "%s.type: must be \"a\", \"c\" or \"b\"",
                          field);
  }
  r->type = t[0];
  if (parse_number(d, "major", field, &r->major, err) < 0 ||
      parse_number(d, "minor", field, &r->minor, err) < 0)
    return -1;
  const char *access = vc_json_get_str(d, "access");
  /* runc refuses an empty access; so do we, rather than guess. */
  if (access == NULL || access[0] == '\0')
    return vc_error_set(err, 0, "%s.access: must be a non-empty combination "
                        "of r, w and m", field);
  r->access = 0;
  for (const char *c = access; *c; c++) {
    unsigned bit = *c == 'r' ? OCI_DEV_READ : *c == 'w' ? OCI_DEV_WRITE
                 : *c == 'm' ? OCI_DEV_MKNOD : 0;
    if (bit == 0)
      return vc_error_set(err, 0, "%s.access: `%s` is not a combination of r, "
                          "w and m", field, access);
    r->access |= bit;
  }
  return 0;
}

static bool named_by_spec(yajl_val spec_devices, const char *path) {
  for (size_t i = 0; YAJL_IS_ARRAY(spec_devices) && i < spec_devices->u.array.len;
       i++) {
    const char *p = vc_json_get_str(spec_devices->u.array.values[i], "path");
    if (p != NULL && strcmp(p, path) == 0)
      return true;
  }
  return false;
}

int oci_dev_filter_build(yajl_val rules, yajl_val spec_devices,
                         struct oci_dev_filter *out, vc_error **err) {
  struct oci_dev_filter f = {.default_allow = false};
  if (rules != NULL && !YAJL_IS_NULL(rules) && !YAJL_IS_ARRAY(rules))
    return vc_error_set(err, 0, "linux.resources.devices: must be an array");
  for (size_t i = 0; YAJL_IS_ARRAY(rules) && i < rules->u.array.len; i++) {
    char field[64];
    snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
    struct oci_dev_rule r;
    if (parse_rule(rules->u.array.values[i], field, &r, err) < 0 ||
        oci_dev_filter_apply(&f, &r, field, err) < 0) {
      oci_dev_filter_free(&f);
      return -1;
    }
  }
  for (size_t i = 0; i < N_ELEMS(default_rules); i++) {
    if (default_rules[i].path != NULL &&
        named_by_spec(spec_devices, default_rules[i].path))
      continue;
    /* Only where a spec rule denied part of a wildcard, as in runc. */
    if (oci_dev_filter_apply(&f, &default_rules[i].rule,
                             "linux.resources.devices (with the default rules "
                             "after it)", err) < 0) {
      oci_dev_filter_free(&f);
      return -1;
    }
  }
  *out = f;
  return 0;
}

/* ---- the eBPF program --------------------------------------------------- */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
                            int16_t off, int32_t imm) {
  return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src,
                           .off = off, .imm = imm};
}

/* Registers the prologue fills from struct bpf_cgroup_dev_ctx. */
enum { R_RET = 0, R_CTX = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5 };

/* A conditional jump to next (the first instruction of the next block)
 * when the test fails. */
static void emit_skip(struct bpf_insn *p, size_t *n, size_t next, uint8_t code,
                      uint8_t dst, uint8_t src, int32_t imm) {
  p[*n] = insn(code, dst, src, (int16_t)(next - *n - 1), imm);
  (*n)++;
}

static size_t block_len(const struct oci_dev_rule *r) {
  return (r->type != 'a') + 3 * (r->access != OCI_DEV_RWM) +
         (r->major != OCI_DEV_ANY) + (r->minor != OCI_DEV_ANY) + 2;
}

void oci_dev_filter_program(const struct oci_dev_filter *f,
                            struct bpf_insn **out, size_t *n_insns) {
  size_t total = 6 + 2;
  for (size_t i = 0; i < f->n_exceptions; i++)
    total += block_len(&f->exceptions[i]);
  struct bpf_insn *p = xcalloc(total, sizeof(*p));
  size_t n = 0;
  /* access_type holds the device type in its low 16 bits and the access
   * bits above them; major and minor follow it. */
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, R_TYPE, R_CTX, 0, 0);
  p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, R_ACCESS, R_CTX, 0, 0);
  p[n++] = insn(BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, R_MAJOR, R_CTX, 4, 0);
  p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, R_MINOR, R_CTX, 8, 0);
  for (size_t i = 0; i < f->n_exceptions; i++) {
    const struct oci_dev_rule *r = &f->exceptions[i];
    size_t next = n + block_len(r);
    /* Each test skips to the next block on a mismatch; 32-bit compares,
     * so numbers above INT32_MAX compare as the kernel's u32. */
    if (r->type != 'a')
      emit_skip(p, &n, next, BPF_JMP32 | BPF_JNE | BPF_K, R_TYPE, 0,
                r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
    if (r->access != OCI_DEV_RWM) {
      /* Every requested bit must be granted: (access & granted) == access.
       * The context pointer is no longer needed, so r1 is scratch. */
      p[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, R_CTX, R_ACCESS, 0, 0);
      p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, R_CTX, 0, 0, (int32_t)r->access);
      emit_skip(p, &n, next, BPF_JMP32 | BPF_JNE | BPF_X, R_CTX, R_ACCESS, 0);
    }
    if (r->major != OCI_DEV_ANY)
      emit_skip(p, &n, next, BPF_JMP32 | BPF_JNE | BPF_K, R_MAJOR, 0,
                (int32_t)(uint32_t)r->major);
    if (r->minor != OCI_DEV_ANY)
      emit_skip(p, &n, next, BPF_JMP32 | BPF_JNE | BPF_K, R_MINOR, 0,
                (int32_t)(uint32_t)r->minor);
    p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, r->allow);
    p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, f->default_allow);
  p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *out = p;
  *n_insns = n;
}
