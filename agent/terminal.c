/* A container process's terminal, made as runc makes it: the pty is opened
 * inside the container, on the container's own devpts (so ttyname and
 * /dev/pts agree), the slave becomes the controlling terminal and stdio,
 * and the master goes back to the agent over the sync socket, which relays
 * it to the host. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "lib/base/util.h"

void agent_child_terminal(const struct oci_process *p, int sync_fd) {
  if (!p->terminal)
    return;
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    child_fail("terminal: open /dev/ptmx in the container: %s", strerror(errno));
  char name[64];
  if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
    child_fail("terminal: unlock the pty: %s", strerror(errno));
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0)
    child_fail("terminal: open %s: %s", name, strerror(errno));
  if (p->console_height > 0 && p->console_width > 0) {
    struct winsize ws = {.ws_row = (unsigned short)p->console_height,
                         .ws_col = (unsigned short)p->console_width};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      child_fail("terminal: process.consoleSize: %s", strerror(errno));
  }
  /* The caller did setsid(): the slave becomes our controlling terminal,
   * so ^C in it signals the process and job control works. */
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    child_fail("terminal: make %s the controlling terminal: %s", name,
               strerror(errno));
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      child_fail("terminal: dup2: %s", strerror(errno));
  if (slave > 2)
    close(slave);
  if (vc_send_fd(sync_fd, "T", 1, master) != 1)
    child_fail("terminal: pass the pty to the agent: %s", strerror(errno));
  close(master);
}
