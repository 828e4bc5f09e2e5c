/* runc's ENOSYS prefix for a seccomp filter: syscalls numbered above the
 * last one the profile names get ENOSYS; everything else goes on to the
 * filter proper.  The prefix is run by a small classic-BPF interpreter. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>

#include "oci/seccomp.h"
#include "test.h"

#define FILTER (-1) /* fell through to the filter proper */

static int64_t run(const struct sock_filter *p, size_t n, uint32_t arch,
                   uint32_t nr) {
  struct seccomp_data data = {.nr = (int)nr, .arch = arch};
  uint32_t a = 0;
  for (size_t pc = 0; pc < n; pc++) {
    const struct sock_filter *i = &p[pc];
    switch (i->code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (i->k == offsetof(struct seccomp_data, nr))
        a = (uint32_t)data.nr;
      else if (i->k == offsetof(struct seccomp_data, arch))
        a = data.arch;
      else
        return -2;
      break;
    case BPF_JMP | BPF_JEQ | BPF_K:
      pc += a == i->k ? i->jt : i->jf;
      break;
    case BPF_JMP | BPF_JGT | BPF_K:
      pc += a > i->k ? i->jt : i->jf;
      break;
    case BPF_JMP | BPF_JGE | BPF_K:
      pc += a >= i->k ? i->jt : i->jf;
      break;
    case BPF_RET | BPF_K:
      return i->k;
    default:
      return -2;
    }
  }
  return FILTER;
}

static struct oci_seccomp *parse(const char *json) {
  struct oci_seccomp *s = NULL;
  vc_error *err = NULL;
  CHECK(oci_seccomp_parse(json, &s, &err) == 0);
  vc_error_free(&err);
  return s;
}

TEST(above_the_last_known_syscall_is_enosys) {
  /* clone is 56 on x86_64 and 120 on i386. */
  struct oci_seccomp *s = parse(
      "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": "
      "[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], "
      "\"syscalls\": [{\"names\": [\"read\", \"clone\"], \"action\": "
      "\"SCMP_ACT_ALLOW\"}]}");
  struct sock_filter *p = NULL;
  size_t n = 0;
  oci_seccomp_enosys_stub(s, &p, &n);
  CHECK(n > 0);
  const int64_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
  CHECK(run(p, n, AUDIT_ARCH_X86_64, 1000) == enosys);
  CHECK(run(p, n, AUDIT_ARCH_X86_64, 57) == enosys);
  CHECK(run(p, n, AUDIT_ARCH_X86_64, 56) == FILTER);
  CHECK(run(p, n, AUDIT_ARCH_X86_64, 0) == FILTER);
  /* x32 calls (bit 30) are left to the filter. */
  CHECK(run(p, n, AUDIT_ARCH_X86_64, 0x40000000u + 500) == FILTER);
  CHECK(run(p, n, AUDIT_ARCH_I386, 121) == enosys);
  CHECK(run(p, n, AUDIT_ARCH_I386, 120) == FILTER);
  /* An architecture outside the profile: the filter decides. */
  CHECK(run(p, n, AUDIT_ARCH_AARCH64, 1000) == FILTER);
  free(p);
  oci_seccomp_free(s);
}

TEST(permissive_default_needs_no_prefix) {
  struct oci_seccomp *s = parse(
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
      "[\"mkdir\"], \"action\": \"SCMP_ACT_KILL\"}]}");
  struct sock_filter *p = NULL;
  size_t n = 1;
  oci_seccomp_enosys_stub(s, &p, &n);
  CHECK(n == 0 && p == NULL);
  oci_seccomp_free(s);
  /* Nor does a profile without any syscall. */
  s = parse("{\"defaultAction\": \"SCMP_ACT_ERRNO\"}");
  n = 1;
  oci_seccomp_enosys_stub(s, &p, &n);
  CHECK(n == 0 && p == NULL);
  oci_seccomp_free(s);
}

int main(void) {
  RUN(above_the_last_known_syscall_is_enosys);
  RUN(permissive_default_needs_no_prefix);
  return TEST_SUMMARY();
}
