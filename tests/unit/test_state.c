/* Persisted state: version 3 round-trips, version 2 directories (written by
 * the previous vcrun) still load, with their creation time migrated, and
 * unknown versions are refused naming both. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/container.h"
#include "lib/state.h"
#include "test.h"

static char *make_root(void) {
  char *root = xstrdup("/tmp/vc-state-test.XXXXXX");
  if (mkdtemp(root) == NULL)
    abort();
  return root;
}

static void write_state(const char *root, const char *id, const char *json) {
  char *dir = xasprintf("%s/%s", root, id);
  char *path = xasprintf("%s/state.json", dir);
  vc_error *err = NULL;
  if (mkdir(dir, 0700) < 0 ||
      vc_write_file_atomic(path, json, strlen(json), 0600, &err) < 0)
    abort();
  free(dir);
  free(path);
}

/* A sandbox container's state.json as vcrun 0.1 (state version 2) wrote it. */
static const char v2_owner[] =
    "{\"version\":2,\"sandbox\":{\"id\":\"box\",\"created\":\"2026-01-01T00:00:00Z\"},"
    "\"hypervisor\":{\"type\":\"qemu\",\"pid\":0,\"qmp_socket\":\"/x/qmp.sock\"},"
    "\"agent\":{\"transport\":\"hybrid-vsock\",\"guest_cid\":3,\"hybrid_socket\":\"/x/vsock.sock\"},"
    "\"devices\":[{\"type\":\"vhost-user-fs\",\"daemon_pid\":11,\"socket\":\"/x/virtiofs.sock\"},"
    "{\"type\":\"vhost-user-vsock\",\"daemon_pid\":12,\"socket\":\"/x/vhost-vsock.sock\"}],"
    "\"containers\":{\"box\":{\"bundle\":\"/b\",\"rootfs\":\"/b/rootfs\",\"cgroup_path\":\"/box\","
    "\"process\":{\"pid\":99}}}}";

TEST(version_2_loads_and_migrates) {
  char *root = make_root();
  write_state(root, "box", v2_owner);
  struct vc_config cfg = {0};
  cfg.runtime.state_root = root;
  struct vc_container c = VC_CONTAINER_INIT;
  vc_error *err = NULL;
  CHECK(vc_state_load(&cfg, "box", &c, &err) == 0);
  CHECK(err == NULL);
  CHECK_STR(c.created, "2026-01-01T00:00:00Z");
  CHECK_STR(c.bundle, "/b");
  CHECK(c.shim_pid == 99);
  CHECK(vc_container_owns_sandbox(&c));
  CHECK(c.sandbox.vm.virtiofsd_pid == 11 && c.sandbox.vm.vsock_backend_pid == 12);
  CHECK_STR(c.sandbox.hybrid_socket, "/x/vsock.sock");
  /* Shared under its id, as before share names were per create. */
  CHECK_STR(c.share_name, "box");
  /* Saved again, it is version 3 with the time in the container. */
  CHECK(vc_state_save(&c, &err) == 0);
  char *path = xasprintf("%s/box/state.json", root), *text = NULL;
  CHECK(vc_read_file(path, &text, NULL, &err) == 0);
  CHECK(text != NULL && strstr(text, "\"version\":3") != NULL);
  CHECK(text != NULL && strstr(text, "\"created\":\"2026-01-01T00:00:00Z\",") != NULL);
  vc_container_free(&c);
  struct vc_container again = VC_CONTAINER_INIT;
  CHECK(vc_state_load(&cfg, "box", &again, &err) == 0);
  CHECK_STR(again.created, "2026-01-01T00:00:00Z");
  CHECK_STR(again.share_name, "box");
  vc_container_free(&again);
  free(text);
  free(path);
  vc_rmdir_r(root, NULL);
  free(root);
}

TEST(member_of_a_gone_sandbox_loads_without_a_vm) {
  char *root = make_root();
  write_state(root, "m",
              "{\"version\":3,\"sandbox\":{\"id\":\"gone\",\"vm_pid\":7},"
              "\"containers\":{\"m\":{\"bundle\":\"/b\",\"created\":\"t\","
              "\"process\":{\"pid\":5}}}}");
  struct vc_config cfg = {0};
  cfg.runtime.state_root = root;
  struct vc_container c = VC_CONTAINER_INIT;
  vc_error *err = NULL;
  CHECK(vc_state_load(&cfg, "m", &c, &err) == 0);
  CHECK(!vc_container_owns_sandbox(&c));
  CHECK_STR(c.sandbox_id, "gone");
  CHECK_STR(c.share_name, "m");
  CHECK(c.vm_pid == 7 && c.sandbox.vm.ops == NULL);
  CHECK_STR(vc_container_status(&c), "stopped");
  vc_container_free(&c);
  vc_rmdir_r(root, NULL);
  free(root);
}

TEST(unknown_ids_and_versions) {
  char *root = make_root();
  struct vc_config cfg = {0};
  cfg.runtime.state_root = root;
  struct vc_container c = VC_CONTAINER_INIT;
  vc_error *err = NULL;
  CHECK(vc_state_load(&cfg, "nope", &c, &err) < 0);
  CHECK(err != NULL && err->errnum == ENOENT);
  CHECK(err != NULL && strcmp(err->msg, "container `nope` does not exist") == 0);
  vc_error_free(&err);
  vc_container_free(&c);
  write_state(root, "new", "{\"version\":4,\"sandbox\":{\"id\":\"new\"},\"containers\":{}}");
  CHECK(vc_state_load(&cfg, "new", &c, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "state version 4 is not supported") != NULL);
  vc_error_free(&err);
  vc_container_free(&c);
  write_state(root, "cut", "{\"version\":3,\"sandbox\":");
  CHECK(vc_state_load(&cfg, "cut", &c, &err) < 0 && err != NULL && err->errnum != ENOENT);
  vc_error_free(&err);
  vc_container_free(&c);
  vc_rmdir_r(root, NULL);
  free(root);
}

TEST(share_name_round_trips) {
  char *root = make_root();
  write_state(root, "m",
              "{\"version\":3,\"sandbox\":{\"id\":\"gone\",\"vm_pid\":7},"
              "\"containers\":{\"m\":{\"bundle\":\"/b\",\"share\":\"m-Ab3\","
              "\"created\":\"t\",\"process\":{\"pid\":5}}}}");
  struct vc_config cfg = {0};
  cfg.runtime.state_root = root;
  struct vc_container c = VC_CONTAINER_INIT;
  vc_error *err = NULL;
  CHECK(vc_state_load(&cfg, "m", &c, &err) == 0);
  CHECK_STR(c.share_name, "m-Ab3");
  CHECK(vc_state_save(&c, &err) == 0);
  vc_container_free(&c);
  struct vc_container again = VC_CONTAINER_INIT;
  CHECK(vc_state_load(&cfg, "m", &again, &err) == 0);
  CHECK_STR(again.share_name, "m-Ab3");
  vc_container_free(&again);
  vc_rmdir_r(root, NULL);
  free(root);
}

/* An id is a directory name: 255 bytes at most. */
TEST(id_length) {
  char id[VC_ID_MAX + 2];
  memset(id, 'a', sizeof(id) - 1);
  id[sizeof(id) - 1] = '\0';
  CHECK(!vc_id_valid(id));
  id[VC_ID_MAX] = '\0';
  CHECK(vc_id_valid(id));
  CHECK(!vc_id_valid("a/b") && !vc_id_valid("..") && !vc_id_valid(""));
}

int main(void) {
  RUN(version_2_loads_and_migrates);
  RUN(share_name_round_trips);
  RUN(id_length);
  RUN(member_of_a_gone_sandbox_loads_without_a_vm);
  RUN(unknown_ids_and_versions);
  return TEST_SUMMARY();
}
