/* Host cgroups (lib/host/cgroup.h, lib/placement.h): paths in each
 * hierarchy, the VM's limits, and the file work against temporary
 * directories that mimic a v1 controller and a v2 hierarchy. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/util.h"
#include "lib/host/cgroup.h"
#include "lib/placement.h"
#include "oci/spec.h"
#include "test.h"

static const char *const self_hybrid =
    "9:name=systemd:/\n"
    "4:memory:/process_api/abc\n"
    "1:cpu,cpuacct:/\n"
    "0::/user.slice\n";

static void hybrid(struct vc_cgroup_hierarchies *h) {
  memset(h, 0, sizeof(*h));
  vc_cgroup_hierarchies_add(h, "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct", false);
  vc_cgroup_hierarchies_add(h, "/sys/fs/cgroup/memory", "memory", false);
  vc_cgroup_hierarchies_add(h, "/sys/fs/cgroup/systemd", "name=systemd", false);
  vc_cgroup_hierarchies_add(h, "/sys/fs/cgroup/unified", "", true);
  h->layout = VC_CGROUP_HYBRID;
}

TEST(absolute_paths_hang_from_each_root) {
  struct vc_cgroup_hierarchies h;
  hybrid(&h);
  struct vc_host_cgroup cg;
  vc_error *err = NULL;
  CHECK(vc_host_cgroup_resolve(&h, "/kubepods/pod1//c1/", self_hybrid, &cg,
                               &err) == 0);
  CHECK(cg.n_dirs == 4);
  if (cg.n_dirs == 4) {
    CHECK_STR(cg.dirs[0], "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1");
    CHECK_STR(cg.dirs[1], "/sys/fs/cgroup/memory/kubepods/pod1/c1");
    CHECK_STR(cg.dirs[2], "/sys/fs/cgroup/systemd/kubepods/pod1/c1");
    CHECK_STR(cg.dirs[3], "/sys/fs/cgroup/unified/kubepods/pod1/c1");
  }
  vc_host_cgroup_free(&cg);
  vc_cgroup_hierarchies_free(&h);
}

TEST(relative_paths_hang_from_our_own_cgroup) {
  struct vc_cgroup_hierarchies h;
  hybrid(&h);
  struct vc_host_cgroup cg, own;
  vc_error *err = NULL;
  CHECK(vc_host_cgroup_resolve(&h, "c1", self_hybrid, &cg, &err) == 0);
  CHECK(cg.n_dirs == 4);
  if (cg.n_dirs == 4) {
    CHECK_STR(cg.dirs[0], "/sys/fs/cgroup/cpu,cpuacct/c1");
    CHECK_STR(cg.dirs[1], "/sys/fs/cgroup/memory/process_api/abc/c1");
    CHECK_STR(cg.dirs[2], "/sys/fs/cgroup/systemd/c1");
    CHECK_STR(cg.dirs[3], "/sys/fs/cgroup/unified/user.slice/c1");
  }
  vc_host_cgroup_free(&cg);
  CHECK(vc_host_cgroup_own(&h, self_hybrid, &own, &err) == 0);
  CHECK(own.n_dirs == 4);
  if (own.n_dirs == 4) {
    CHECK_STR(own.dirs[0], "/sys/fs/cgroup/cpu,cpuacct");
    CHECK_STR(own.dirs[1], "/sys/fs/cgroup/memory/process_api/abc");
    CHECK_STR(own.dirs[3], "/sys/fs/cgroup/unified/user.slice");
  }
  vc_host_cgroup_free(&own);
  /* A hierarchy /proc/self/cgroup does not list: an error naming it. */
  CHECK(vc_host_cgroup_resolve(&h, "c1", "0::/\n", &cg, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "cpu,cpuacct") != NULL);
  CHECK(cg.n_dirs == 0);
  vc_error_free(&err);
  vc_cgroup_hierarchies_free(&h);
}

TEST(bad_paths) {
  struct vc_cgroup_hierarchies h;
  hybrid(&h);
  struct vc_host_cgroup cg;
  vc_error *err = NULL;
  CHECK(vc_host_cgroup_resolve(&h, "/a/../../etc", self_hybrid, &cg, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "..") != NULL);
  vc_error_free(&err);
  CHECK(vc_host_cgroup_resolve(&h, "/", self_hybrid, &cg, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "root") != NULL);
  vc_error_free(&err);
  vc_cgroup_hierarchies_free(&h);
}

TEST(shares_to_weight_as_runc) {
  CHECK(vc_cgroup_shares_to_weight(0) == 0);
  CHECK(vc_cgroup_shares_to_weight(2) == 1);
  CHECK(vc_cgroup_shares_to_weight(512) == 20);
  CHECK(vc_cgroup_shares_to_weight(1024) == 39);
  CHECK(vc_cgroup_shares_to_weight(262144) == 10000);
}

static struct oci_spec *spec_of(const char *linux_json, const char *annotations) {
  char *text = xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                         "\"annotations\":%s,\"linux\":%s}",
                         annotations, linux_json);
  struct oci_spec *spec = NULL;
  vc_error *err = NULL;
  if (oci_spec_parse(text, "config.json", &spec, &err) < 0)
    fprintf(stderr, "  %s\n", err->msg);
  vc_error_free(&err);
  free(text);
  return spec;
}

TEST(vm_limits_from_the_spec_and_the_pod) {
  struct vc_cgroup_limits l;
  vc_error *err = NULL;
  struct oci_spec *spec = spec_of(
      "{\"resources\":{\"memory\":{\"limit\":67108864},"
      "\"cpu\":{\"quota\":50000,\"period\":100000,\"shares\":512}}}", "{}");
  CHECK(spec != NULL);
  CHECK(vc_placement_vm_limits(spec, 384, &l, &err) == 0);
  CHECK(l.memory_bytes == 67108864ULL + 384ULL * 1024 * 1024);
  CHECK(l.cpu_quota_us == 50000 && l.cpu_period_us == 100000);
  CHECK(l.cpu_shares == 512);
  oci_spec_free(spec);
  /* No limit: none, whatever the overhead. */
  spec = spec_of("{\"resources\":{\"memory\":{\"limit\":-1}}}", "{}");
  CHECK(vc_placement_vm_limits(spec, 384, &l, &err) == 0);
  CHECK(l.memory_bytes == 0 && l.cpu_quota_us == 0 && l.cpu_shares == 0);
  oci_spec_free(spec);
  /* containerd's pod totals win over the pause container's own. */
  spec = spec_of("{}", "{\"io.kubernetes.cri.sandbox-memory\":\"268435456\","
                       "\"io.kubernetes.cri.sandbox-cpu-quota\":\"200000\","
                       "\"io.kubernetes.cri.sandbox-cpu-period\":\"100000\","
                       "\"io.kubernetes.cri.sandbox-cpu-shares\":\"2048\"}");
  CHECK(vc_placement_vm_limits(spec, 0, &l, &err) == 0);
  CHECK(l.memory_bytes == 268435456ULL);
  CHECK(l.cpu_quota_us == 200000 && l.cpu_period_us == 100000);
  CHECK(l.cpu_shares == 2048);
  oci_spec_free(spec);
  spec = spec_of("{}", "{\"io.kubernetes.cri.sandbox-memory\":\"lots\"}");
  CHECK(vc_placement_vm_limits(spec, 0, &l, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "sandbox-memory") != NULL);
  vc_error_free(&err);
  oci_spec_free(spec);
}

static void put(const char *dir, const char *file, const char *text) {
  char *path = xasprintf("%s/%s", dir, file);
  vc_error *err = NULL;
  CHECK(vc_write_file_atomic(path, text, strlen(text), 0644, &err) == 0);
  vc_error_free(&err);
  free(path);
}

static char *get(const char *dir, const char *file) {
  char *path = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  vc_error *err = NULL;
  if (vc_read_file(path, &text, NULL, &err) < 0)
    text = xstrdup("(missing)");
  vc_error_free(&err);
  free(path);
  return text;
}

/* A v2 hierarchy in a temporary directory: the root and the parent offer
 * controllers, the leaf (made by the "kernel", that is, beforehand) has the
 * control files. */
TEST(v2_layout_in_a_temporary_directory) {
  char root[] = "/tmp/vc-cg2-XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  char *pod = xasprintf("%s/pod", root), *leaf = xasprintf("%s/pod/c1", root);
  mkdir(pod, 0755);
  mkdir(leaf, 0755);
  const char *const files[] = {"cgroup.controllers", "cgroup.subtree_control"};
  put(root, files[0], "cpu memory pids\n");
  put(root, files[1], "");
  put(pod, files[0], "cpu memory\n");
  put(pod, files[1], "");
  const char *const leaf_files[] = {"cgroup.controllers", "cgroup.procs",
                                    "memory.max", "cpu.max", "cpu.weight"};
  for (size_t i = 0; i < N_ELEMS(leaf_files); i++)
    put(leaf, leaf_files[i], "");

  struct vc_cgroup_hierarchies h = {0};
  vc_cgroup_hierarchies_add(&h, root, "", true);
  h.layout = VC_CGROUP_UNIFIED;
  struct vc_host_cgroup cg;
  vc_error *err = NULL;
  CHECK(vc_host_cgroup_resolve(&h, "/pod/c1", "0::/\n", &cg, &err) == 0);
  CHECK(cg.n_dirs == 1 && strcmp(cg.dirs[0], leaf) == 0);
  CHECK(vc_host_cgroup_create(&cg, &err) == 0);
  CHECK(cg.n_made == 0); /* all there already */
  char *t = get(root, "cgroup.subtree_control");
  CHECK_STR(t, "+cpu +memory +pids");
  free(t);
  t = get(pod, "cgroup.subtree_control");
  CHECK_STR(t, "+cpu +memory");
  free(t);
  CHECK(vc_host_cgroup_enter(&cg, 4242, &err) == 0);
  t = get(leaf, "cgroup.procs");
  CHECK_STR(t, "4242");
  free(t);
  struct vc_cgroup_limits l = {.memory_bytes = 1 << 30, .cpu_quota_us = 50000,
                               .cpu_shares = 512};
  CHECK(vc_host_cgroup_set_limits(&cg, &l, &err) == 0);
  t = get(leaf, "memory.max");
  CHECK_STR(t, "1073741824");
  free(t);
  t = get(leaf, "cpu.max");
  CHECK_STR(t, "50000 100000");
  free(t);
  t = get(leaf, "cpu.weight");
  CHECK_STR(t, "20");
  free(t);
  if (err != NULL)
    fprintf(stderr, "  %s\n", err->msg);
  vc_error_free(&err);
  /* No v1 file was made beside them. */
  char *v1 = xasprintf("%s/memory.limit_in_bytes", leaf);
  CHECK(access(v1, F_OK) < 0);
  free(v1);
  vc_host_cgroup_free(&cg);
  vc_cgroup_hierarchies_free(&h);
  vc_rmdir_r(root, NULL);
  free(pod);
  free(leaf);
}

/* A v1 controller: the parents made are recorded and removed, deepest
 * first, after the cgroup; a limit its controller lacks is an error. */
TEST(v1_made_parents_and_missing_controllers) {
  char root[] = "/tmp/vc-cg1-XXXXXX";
  CHECK(mkdtemp(root) != NULL);
  char *mount = xasprintf("%s/memory", root);
  mkdir(mount, 0755);
  struct vc_cgroup_hierarchies h = {0};
  vc_cgroup_hierarchies_add(&h, mount, "memory", false);
  struct vc_host_cgroup cg;
  vc_error *err = NULL;
  CHECK(vc_host_cgroup_resolve(&h, "/a/b/c1", "4:memory:/\n", &cg, &err) == 0);
  CHECK(vc_host_cgroup_create(&cg, &err) == 0);
  CHECK(cg.n_made == 2);
  if (cg.n_made == 2) {
    char *a = xasprintf("%s/a", mount), *ab = xasprintf("%s/a/b", mount);
    CHECK_STR(cg.made[0], a);
    CHECK_STR(cg.made[1], ab);
    free(a);
    free(ab);
  }
  /* Not a real cgroup: no cgroup.procs to write, and the error says where. */
  CHECK(vc_host_cgroup_enter(&cg, 1, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "c1/cgroup.procs") != NULL);
  vc_error_free(&err);
  struct vc_cgroup_limits cpu = {.cpu_shares = 512};
  CHECK(vc_host_cgroup_set_limits(&cg, &cpu, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "cpu controller") != NULL);
  vc_error_free(&err);
  put(cg.dirs[0], "memory.limit_in_bytes", "");
  struct vc_cgroup_limits mem = {.memory_bytes = 4096};
  CHECK(vc_host_cgroup_set_limits(&cg, &mem, &err) == 0);
  char *t = get(cg.dirs[0], "memory.limit_in_bytes");
  CHECK_STR(t, "4096");
  free(t);
  /* A real cgroup directory has no files of its own to unlink. */
  char *f = xasprintf("%s/memory.limit_in_bytes", cg.dirs[0]);
  unlink(f);
  free(f);
  CHECK(vc_host_cgroup_remove(&cg, 0, &err) == 0);
  char *a = xasprintf("%s/a", mount);
  CHECK(access(a, F_OK) < 0);
  free(a);
  /* Removing again is fine. */
  CHECK(vc_host_cgroup_remove(&cg, 0, &err) == 0);
  vc_host_cgroup_free(&cg);
  vc_cgroup_hierarchies_free(&h);
  vc_rmdir_r(root, NULL);
  free(mount);
}

int main(void) {
  RUN(absolute_paths_hang_from_each_root);
  RUN(relative_paths_hang_from_our_own_cgroup);
  RUN(bad_paths);
  RUN(shares_to_weight_as_runc);
  RUN(vm_limits_from_the_spec_and_the_pod);
  RUN(v2_layout_in_a_temporary_directory);
  RUN(v1_made_parents_and_missing_controllers);
  return TEST_SUMMARY();
}
