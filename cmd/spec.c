/* vcrun spec: writes runc's default config.json into the bundle. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "oci/spec.h"
#include "lib/base/util.h"

int cmd_spec(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *bundle = ".";
  bool rootless = false;
  const struct vc_opt opts[] = {
      {"bundle", 'b', true, &bundle, NULL, NULL},
      {"rootless", 0, false, NULL, &rootless, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("spec", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (first != argc)
    return vc_error_set(err, 0, "spec: takes no arguments");
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  if (access(path, F_OK) == 0)
    return vc_error_set(err, 0, "File %s exists. Remove it first", path);
  cleanup_free char *json = NULL;
  if (oci_spec_default_json(rootless, &json, err) < 0)
    return -1;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return vc_error_set(err, errno, "create `%s`", path);
  bool ok = vc_write_all(fd, json, strlen(json)) >= 0 &&
            vc_write_all(fd, "\n", 1) >= 0;
  int saved = errno;
  close(fd);
  if (!ok) {
    unlink(path);
    return vc_error_set(err, saved, "write `%s`", path);
  }
  return 0;
}
