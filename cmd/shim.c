/* vcrun shim (internal): the host process standing for one container
 * process (lib/shim.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "lib/shim.h"

int cmd_shim(struct vc_cli *cli, int argc, char **argv, vc_error **err) {
  const char *ready = NULL, *exec_id = NULL, *process_file = NULL, *dir = NULL;
  bool tty = false;
  const struct vc_opt opts[] = {
      {"ready-fd", 0, true, &ready, NULL, NULL},
      {"exec-id", 0, true, &exec_id, NULL, NULL},
      {"process", 0, true, &process_file, NULL, NULL},
      {"state-dir", 0, true, &dir, NULL, NULL}, /* names the shim in ps */
      {"tty", 0, false, NULL, &tty, NULL},
      {NULL, 0, false, NULL, NULL, NULL},
  };
  int first = vc_parse_opts("shim", argc, argv, opts, err);
  if (first < 0)
    return -1;
  if (argc - first != 1)
    return vc_error_set(err, 0, "shim: expects the container id");
  if (tty) {
    /* stdio is the console pty's slave: as its session leader we get
     * SIGWINCH when the engine resizes the master, and SIGHUP when it
     * closes it (forwarded to the process, as a hang-up would be). */
    if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
      return vc_error_set(err, errno, "shim: take the console pty");
  }
  const struct vc_context *ctx = vc_cli_context(cli, err);
  if (ctx == NULL)
    return -1;
  return vc_shim_main(ctx, argv[first], exec_id, process_file,
                      ready ? atoi(ready) : -1, tty ? 0 : -1, err);
}
