#include "lib/host/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/base/util.h"

static int send_fd(const char *socket_path, int fd, const char *name,
                   vc_error **err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path))
    return vc_error_set(err, ENAMETOOLONG, "console socket `%s`", socket_path);
  strcpy(addr.sun_path, socket_path);
  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return vc_error_set(err, errno, "console socket: socket");
  if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return vc_error_set(err, errno, "connect to console socket `%s`",
                        socket_path);
  ssize_t n = vc_send_fd(sock, name, strlen(name), fd);
  if (n < 0)
    return vc_error_set(err, errno, "send the pty over console socket `%s`",
                        socket_path);
  return 0;
}

int vc_console_socket_pty(const char *socket_path, int *slave, vc_error **err) {
  cleanup_close int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return vc_error_set(err, errno, "open a pty");
  char name[64];
  if (grantpt(master) < 0 || unlockpt(master) < 0 ||
      ptsname_r(master, name, sizeof(name)) != 0)
    return vc_error_set(err, errno, "unlock the pty");
  int fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open %s", name);
  struct termios saved;
  if (vc_tty_make_raw(fd, &saved, err) < 0 ||
      send_fd(socket_path, master, name, err) < 0) {
    close(fd);
    return -1;
  }
  *slave = fd;
  return 0;
}

int vc_tty_make_raw(int fd, struct termios *saved, vc_error **err) {
  if (!isatty(fd))
    return 0;
  if (tcgetattr(fd, saved) < 0)
    return vc_error_set(err, errno, "tcgetattr");
  struct termios raw = *saved;
  cfmakeraw(&raw);
  /* Output processing stays off too: the guest's pty already did it. */
  if (tcsetattr(fd, TCSANOW, &raw) < 0)
    return vc_error_set(err, errno, "make the terminal raw");
  return 1;
}

void vc_tty_restore(int fd, const struct termios *saved) {
  tcsetattr(fd, TCSANOW, saved);
}

bool vc_tty_size(int fd, unsigned *rows, unsigned *cols) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return false;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return true;
}
