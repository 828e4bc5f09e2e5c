/* linux.resources.devices folded as cgroup v1 would, and the eBPF device
 * program built from them, run here by a small interpreter of the few
 * instructions the builder emits. */
#include <stdlib.h>

#include "lib/base/json.h"
#include "lib/base/util.h"
#include "oci/device_cgroup.h"
#include "test.h"

/* Runs prog on one access like the kernel's bpf_cgroup_dev_ctx; -1 on an
 * instruction the interpreter does not know (a builder bug). */
static int run(const struct bpf_insn *prog, size_t n, char type,
               unsigned access, uint32_t major, uint32_t minor) {
  uint32_t ctx[3] = {
      (access << 16) | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
      major, minor};
  uint64_t reg[11] = {0};
  for (size_t pc = 0; pc < n; pc++) {
    const struct bpf_insn *i = &prog[pc];
    uint64_t *dst = &reg[i->dst_reg];
    uint32_t src32 = (uint32_t)reg[i->src_reg];
    switch (i->code) {
    case BPF_LDX | BPF_MEM | BPF_W:
      if (i->src_reg != 1 || i->off % 4 != 0 || i->off / 4 > 2)
        return -1;
      *dst = ctx[i->off / 4];
      break;
    case BPF_ALU | BPF_AND | BPF_K:
      *dst = (uint32_t)*dst & (uint32_t)i->imm;
      break;
    case BPF_ALU | BPF_RSH | BPF_K:
      *dst = (uint32_t)*dst >> i->imm;
      break;
    case BPF_ALU | BPF_MOV | BPF_X:
      *dst = src32;
      break;
    case BPF_ALU64 | BPF_MOV | BPF_K:
      *dst = (uint64_t)(int64_t)i->imm;
      break;
    case BPF_JMP32 | BPF_JNE | BPF_K:
      if ((uint32_t)*dst != (uint32_t)i->imm)
        pc += (size_t)i->off;
      break;
    case BPF_JMP32 | BPF_JNE | BPF_X:
      if ((uint32_t)*dst != src32)
        pc += (size_t)i->off;
      break;
    case BPF_JMP | BPF_EXIT:
      return (int)reg[0];
    default:
      return -1;
    }
  }
  return -1; /* fell off the end */
}

struct built {
  struct bpf_insn *prog;
  size_t n;
};

/* The program for rules (a JSON array) and linux.devices (NULL: none). */
static struct built build(const char *rules, const char *spec_devices) {
  yajl_val r = NULL, d = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(rules, &r, &err) == 0);
  if (spec_devices != NULL)
    CHECK(vc_json_parse(spec_devices, &d, &err) == 0);
  struct oci_dev_filter f;
  struct built b = {0};
  if (oci_dev_filter_build(r, d, &f, &err) == 0) {
    oci_dev_filter_program(&f, &b.prog, &b.n);
    oci_dev_filter_free(&f);
  } else {
    fprintf(stderr, "  build: %s\n", err->msg);
    vc_error_free(&err);
  }
  yajl_tree_free(r);
  yajl_tree_free(d);
  return b;
}

#define R OCI_DEV_READ
#define W OCI_DEV_WRITE
#define M OCI_DEV_MKNOD

TEST(no_rules_allow_only_the_defaults) {
  struct built b = build("[]", NULL);
  CHECK(run(b.prog, b.n, 'c', R | W, 1, 3) == 1);   /* /dev/null */
  CHECK(run(b.prog, b.n, 'c', W, 1, 9) == 1);       /* /dev/urandom */
  CHECK(run(b.prog, b.n, 'c', R | W, 5, 2) == 1);   /* /dev/ptmx */
  CHECK(run(b.prog, b.n, 'c', R | W, 136, 7) == 1); /* /dev/pts/7 */
  CHECK(run(b.prog, b.n, 'c', W, 1, 11) == 0);      /* /dev/kmsg */
  CHECK(run(b.prog, b.n, 'b', R, 8, 0) == 0);
  /* mknod of any node, as runc allows. */
  CHECK(run(b.prog, b.n, 'c', M, 1, 11) == 1);
  CHECK(run(b.prog, b.n, 'b', M, 8, 0) == 1);
  free(b.prog);
}

TEST(deny_all_then_allow_one_with_partial_access) {
  struct built b = build(
      "[{\"allow\": false, \"access\": \"rwm\"},"
      " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]",
      NULL);
  CHECK(run(b.prog, b.n, 'c', R, 1, 11) == 1);
  CHECK(run(b.prog, b.n, 'c', W, 1, 11) == 0);
  CHECK(run(b.prog, b.n, 'c', R | W, 1, 11) == 0); /* every bit must be granted */
  CHECK(run(b.prog, b.n, 'b', R, 1, 11) == 0);    /* type matters */
  free(b.prog);
}

TEST(allow_all_then_deny_one) {
  struct built b = build(
      "[{\"allow\": true, \"access\": \"rwm\"},"
      " {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]",
      NULL);
  CHECK(run(b.prog, b.n, 'c', W, 1, 11) == 0);
  CHECK(run(b.prog, b.n, 'c', R, 1, 11) == 1);
  CHECK(run(b.prog, b.n, 'b', R | W, 8, 1) == 1);
  free(b.prog);
}

TEST(later_rules_take_access_back_and_a_resets) {
  /* An allow, then a deny of part of it: only "r" stays. */
  struct built b = build(
      "[{\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"rw\"},"
      " {\"allow\": false, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": \"w\"}]",
      NULL);
  CHECK(run(b.prog, b.n, 'c', R, 10, 229) == 1);
  CHECK(run(b.prog, b.n, 'c', W, 10, 229) == 0);
  free(b.prog);
  /* A later "a" deny drops the allow before it; defaults still follow. */
  b = build("[{\"allow\": true, \"type\": \"c\", \"major\": 10, \"access\": \"rwm\"},"
            " {\"allow\": false, \"access\": \"rwm\"}]",
            NULL);
  CHECK(run(b.prog, b.n, 'c', R, 10, 229) == 0);
  CHECK(run(b.prog, b.n, 'c', R, 1, 3) == 1);
  free(b.prog);
}

TEST(wildcards_and_large_numbers) {
  struct built b = build(
      "[{\"allow\": true, \"type\": \"b\", \"major\": 4294967295, \"access\": \"rw\"},"
      " {\"allow\": true, \"type\": \"c\", \"minor\": 42, \"access\": \"rw\"}]",
      NULL);
  CHECK(run(b.prog, b.n, 'b', R, 4294967295u, 9) == 1);
  CHECK(run(b.prog, b.n, 'b', R, 2147483647u, 9) == 0);
  CHECK(run(b.prog, b.n, 'c', W, 77, 42) == 1);
  CHECK(run(b.prog, b.n, 'c', W, 77, 43) == 0);
  free(b.prog);
}

TEST(linux_devices_path_replaces_a_default) {
  /* As runc: a linux.devices entry at /dev/null drops the default rule. */
  struct built b = build("[]", "[{\"path\": \"/dev/null\", \"type\": \"c\", "
                               "\"major\": 1, \"minor\": 3}]");
  CHECK(run(b.prog, b.n, 'c', R, 1, 3) == 0);
  CHECK(run(b.prog, b.n, 'c', R, 1, 5) == 1);
  free(b.prog);
}

/* The error a rules array gives, or NULL. */
static char *build_error(const char *rules) {
  yajl_val r = NULL;
  vc_error *err = NULL;
  CHECK(vc_json_parse(rules, &r, &err) == 0);
  struct oci_dev_filter f;
  char *msg = NULL;
  if (oci_dev_filter_build(r, NULL, &f, &err) == 0)
    oci_dev_filter_free(&f);
  else
    msg = xstrdup(err->msg);
  vc_error_free(&err);
  yajl_tree_free(r);
  return msg;
}

TEST(bad_rules_name_the_field) {
  char *e = build_error("[{\"allow\": true, \"access\": \"\"}]");
  CHECK_STR(e, "linux.resources.devices[0].access: must be a non-empty "
               "combination of r, w and m");
  free(e);
  e = build_error("[{\"allow\": true, \"access\": \"r\"}, {\"allow\": true, "
                  "\"type\": \"x\", \"access\": \"r\"}]");
  CHECK_STR(e, "linux.resources.devices[1].type: must be \"a\", \"c\" or \"b\"");
  free(e);
  e = build_error("[{\"access\": \"r\"}]");
  CHECK_STR(e, "linux.resources.devices[0].allow: must be true or false");
  free(e);
  e = build_error("[{\"allow\": true, \"access\": \"rx\"}]");
  CHECK_STR(e, "linux.resources.devices[0].access: `rx` is not a combination "
               "of r, w and m");
  free(e);
  /* A hole in a wildcard exception, which cgroup v1 would ignore. */
  e = build_error("[{\"allow\": false, \"access\": \"rwm\"},"
                  " {\"allow\": true, \"type\": \"c\", \"major\": 10, \"access\": \"rw\"},"
                  " {\"allow\": false, \"type\": \"c\", \"major\": 10, \"minor\": 1, \"access\": \"w\"}]");
  CHECK_STR(e, "linux.resources.devices[2]: cannot take \"w\" out of an "
               "earlier wildcard rule for the same type (cgroup v1 would "
               "ignore it)");
  free(e);
  e = build_error("[{\"allow\": true, \"major\": -2, \"access\": \"r\"}]");
  CHECK_STR(e, "linux.resources.devices[0].major: must be -1 (any) or from 0 "
               "to 4294967295");
  free(e);
}

int main(void) {
  RUN(no_rules_allow_only_the_defaults);
  RUN(deny_all_then_allow_one_with_partial_access);
  RUN(allow_all_then_deny_one);
  RUN(later_rules_take_access_back_and_a_resets);
  RUN(wildcards_and_large_numbers);
  RUN(linux_devices_path_replaces_a_default);
  RUN(bad_rules_name_the_field);
  return TEST_SUMMARY();
}
