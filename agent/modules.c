/* Kernel modules of the guest image, loaded from the lists
 * scripts/build-guest.sh writes into /lib/modules. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/base/util.h"

int agent_load_modules(const char *order_file, vc_error **err) {
  cleanup_free char *list = xasprintf("/lib/modules/%s", order_file);
  FILE *f = fopen(list, "re");
  if (f == NULL)
    return vc_error_set(err, errno, "%s", list);
  char line[256];
  int r = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0')
      continue;
    cleanup_free char *path = xasprintf("/lib/modules/%s", line);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
      r = vc_error_set(err, errno, "load module %s", line);
  }
  fclose(f);
  return r;
}
