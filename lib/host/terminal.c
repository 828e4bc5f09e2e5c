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

int vc_term_check(bool terminal, const char *console_socket, bool detach,
                  vc_error **err) {
  if (!terminal && console_socket != NULL)
    return vc_error_set(err, 0,
                        "cannot use console socket if vcrun will not allocate tty");
  if (terminal && detach && console_socket == NULL)
    return vc_error_set(err, 0, "cannot allocate tty if vcrun will detach "
                                "without setting console socket");
  return 0;
}

int vc_term_open(struct vc_term *t, bool terminal, const char *console_socket,
                 bool detach, vc_error **err) {
  *t = (struct vc_term)VC_TERM_INIT;
  t->terminal = terminal;
  if (vc_term_check(terminal, console_socket, detach, err) < 0)
    return -1;
  if (!terminal)
    return 0;
  if (console_socket != NULL)
    return vc_console_socket_pty(console_socket, &t->slave, err);
  int r = vc_tty_make_raw(0, &t->saved, err);
  t->raw = r == 1;
  return r < 0 ? -1 : 0;
}

int vc_term_use_slave_as_stdio(struct vc_term *t, vc_error **err) {
  if (t->slave < 0)
    return 0;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(t->slave, fd) < 0)
      return vc_error_set(err, errno, "dup2 the console pty");
  close(t->slave);
  t->slave = -1;
  return 0;
}

void vc_term_close(struct vc_term *t) {
  if (t->raw)
    vc_tty_restore(0, &t->saved);
  t->raw = false;
  if (t->slave >= 0)
    close(t->slave);
  t->slave = -1;
}
