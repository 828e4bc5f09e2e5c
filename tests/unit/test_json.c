/* lib/json.c: copying an object's members while leaving some out. */
#include <stdlib.h>

#include "lib/base/json.h"
#include "test.h"

/* Writes {<members of text except skip>, "added": 1} and returns it. */
static char *copy_except(const char *text, const char *const *skip) {
  yajl_val tree = NULL;
  vc_error *err = NULL;
  if (vc_json_parse(text, &tree, &err) < 0) {
    vc_error_free(&err);
    return NULL;
  }
  struct vc_json_gen j;
  vc_json_gen_init(&j, NULL);
  vc_json_gen_map_open(&j);
  vc_json_gen_members(&j, tree, skip);
  vc_json_gen_key(&j, "added");
  vc_json_gen_int(&j, 1);
  vc_json_gen_map_close(&j);
  char *out = NULL;
  if (vc_json_gen_finish(&j, &out, &err) < 0)
    vc_error_free(&err);
  yajl_tree_free(tree);
  return out;
}

TEST(members_all_when_nothing_skipped) {
  char *out = copy_except("{\"a\": [1, {\"b\": null}], \"n\": 18446744073709551615}",
                          NULL);
  CHECK_STR(out, "{\"a\":[1,{\"b\":null}],\"n\":18446744073709551615,\"added\":1}");
  free(out);
}

TEST(members_skip_every_occurrence) {
  static const char *const skip[] = {"args", "consoleSize", NULL};
  char *out = copy_except("{\"args\": [\"x\"], \"cwd\": \"/\", \"args\": 2, "
                          "\"consoleSize\": {\"height\": 1}, \"t\": true}",
                          skip);
  CHECK_STR(out, "{\"cwd\":\"/\",\"t\":true,\"added\":1}");
  free(out);
}

TEST(members_of_a_non_object_write_nothing) {
  char *out = copy_except("[1, 2]", NULL);
  CHECK_STR(out, "{\"added\":1}");
  free(out);
}

int main(void) {
  RUN(members_all_when_nothing_skipped);
  RUN(members_skip_every_occurrence);
  RUN(members_of_a_non_object_write_nothing);
  return TEST_SUMMARY();
}
