/* Recursive mount options (rro, rnosuid, ...) as mount_setattr(2)
 * attributes, and the lexical path cleaning the agent compares bind
 * sources with. */
#include <stdlib.h>
#include <sys/mount.h>

#include "oci/mount_attr.h"
#include "test.h"
#include "lib/base/util.h"

/* The attributes a list of options gives, from nothing. */
static struct oci_recursive_attr fold(const char *const *options, size_t n) {
  struct oci_recursive_attr attr = {0};
  for (size_t i = 0; i < n; i++)
    CHECK(oci_recursive_option(options[i], &attr));
  return attr;
}

#define FOLD(...)                                                          \
  fold((const char *const[]){__VA_ARGS__},                                 \
       sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

TEST(flags_set_and_clear) {
  struct oci_recursive_attr a = FOLD("rro", "rnosuid", "rnodev", "rnoexec");
  CHECK(a.any);
  CHECK(a.set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                  MOUNT_ATTR_NOEXEC));
  CHECK(a.clear == 0);
  a = FOLD("rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow");
  CHECK(a.set == 0);
  CHECK(a.clear == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                    MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
                    MOUNT_ATTR_NOSYMFOLLOW));
}

TEST(later_option_wins) {
  struct oci_recursive_attr a = FOLD("rro", "rrw");
  CHECK(a.set == 0 && a.clear == MOUNT_ATTR_RDONLY);
  a = FOLD("rrw", "rro");
  CHECK(a.set == MOUNT_ATTR_RDONLY && a.clear == 0);
  a = FOLD("rnoatime", "rstrictatime");
  CHECK(a.set == MOUNT_ATTR_STRICTATIME && a.clear == MOUNT_ATTR__ATIME);
}

TEST(atime_modes_clear_the_whole_field) {
  struct oci_recursive_attr a = FOLD("rrelatime");
  CHECK(a.any && a.set == MOUNT_ATTR_RELATIME && a.clear == MOUNT_ATTR__ATIME);
  a = FOLD("rnoatime");
  CHECK(a.set == MOUNT_ATTR_NOATIME && a.clear == MOUNT_ATTR__ATIME);
  a = FOLD("ratime");
  CHECK(a.set == MOUNT_ATTR_RELATIME && a.clear == MOUNT_ATTR__ATIME);
  a = FOLD("rnorelatime");
  CHECK(a.set == MOUNT_ATTR_STRICTATIME && a.clear == MOUNT_ATTR__ATIME);
  a = FOLD("rnodiratime", "rnoatime");
  CHECK(a.set == (MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOATIME));
}

TEST(other_options_are_not_recursive) {
  struct oci_recursive_attr a = {0};
  const char *others[] = {"ro", "rbind", "rprivate", "rshared", "rbogus",
                          "size=1m", "r", ""};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
    CHECK(!oci_recursive_option(others[i], &a));
  CHECK(!a.any && a.set == 0 && a.clear == 0);
}

static void expect_clean(const char *path, const char *want) {
  char *got = vc_path_clean(path);
  CHECK_STR_OR_NULL(got, want);
  free(got);
}

TEST(path_clean) {
  expect_clean("/a/b", "/a/b");
  expect_clean("//a/./b//", "/a/b");
  expect_clean("a/b/", "/a/b");
  expect_clean("/", "");
  expect_clean("/./.", "");
  expect_clean("/a/../b", NULL);
  expect_clean("/a/..b/.c", "/a/..b/.c");
}

int main(void) {
  RUN(flags_set_and_clear);
  RUN(later_option_wins);
  RUN(atime_modes_clear_the_whole_field);
  RUN(other_options_are_not_recursive);
  RUN(path_clean);
  return TEST_SUMMARY();
}
