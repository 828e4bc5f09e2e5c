/* linux.cgroupsPath -> the guest cgroup, as runc's cgroupfs and systemd
 * drivers name it. */
#include <stdlib.h>

#include "oci/cgroups_path.h"
#include "test.h"
#include "lib/base/util.h"

static void expect(const char *cg, bool systemd, const char *want) {
  char *got = NULL;
  vc_error *err = NULL;
  int rc = oci_cgroups_path("c1", cg, systemd, &got, &err);
  CHECK(rc == 0);
  if (rc == 0)
    CHECK_STR(got, want);
  else
    fprintf(stderr, "  %s: %s\n", cg ? cg : "(null)", err->msg);
  free(got);
  vc_error_free(&err);
}

static void expect_error(const char *cg, bool systemd, const char *want) {
  char *got = NULL;
  vc_error *err = NULL;
  CHECK(oci_cgroups_path("c1", cg, systemd, &got, &err) < 0);
  CHECK(got == NULL);
  CHECK(err != NULL && strstr(err->msg, want) != NULL);
  if (err != NULL && strstr(err->msg, want) == NULL)
    fprintf(stderr, "  got: %s\n", err->msg);
  vc_error_free(&err);
}

TEST(cgroupfs_paths) {
  expect(NULL, false, "/c1");
  expect("", false, "/c1");
  expect("/default/c1", false, "/default/c1");
  expect("relative/x", false, "/relative/x");
  expect("//a/./b//", false, "/a/b");
  expect_error("/a/../../etc", false, "must not contain \"..\"");
  expect_error("/", false, "names the cgroup root");
}

TEST(systemd_paths) {
  expect(NULL, true, "/system.slice/vcrun-c1.scope");
  expect("machine.slice:libpod:abc", true, "/machine.slice/libpod-abc.scope");
  expect(":cri:abc", true, "/system.slice/cri-abc.scope");
  expect("user-1000.slice:p:n", true, "/user.slice/user-1000.slice/p-n.scope");
  expect("a-b-c.slice:p:n", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
  expect("-.slice:p:n", true, "/p-n.scope");
  expect("system.slice:p:my.slice", true, "/system.slice/my.slice");
  expect_error("/plain/path", true, "slice:prefix:name");
  expect_error("a:b:c:d", true, "slice:prefix:name");
  expect_error("noslice:p:n", true, "invalid slice name");
  expect_error("a--b.slice:p:n", true, "invalid slice name");
  expect_error("system.slice:p:", true, "invalid unit name");
  expect_error("system.slice:p:../x", true, "invalid unit name");
}

int main(void) {
  RUN(cgroupfs_paths);
  RUN(systemd_paths);
  return TEST_SUMMARY();
}
