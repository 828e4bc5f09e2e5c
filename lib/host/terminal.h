/* The host side of a container process's terminal.  The real terminal is a
 * pty in the guest; on the host, either the engine gets a pty of ours over
 * --console-socket (whose slave a shim relays, in raw mode so that only the
 * guest's line discipline applies), or a foreground run/exec relays its own
 * terminal, also made raw for the duration. */
#ifndef VC_TERMINAL_H
#define VC_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "lib/base/error.h"

/* Opens a pty pair, makes the slave raw, sends the master over the unix
 * socket at socket_path (SCM_RIGHTS, with the pty's name as the message, as
 * runc does) and returns the slave (close-on-exec) in *slave. */
int vc_console_socket_pty(const char *socket_path, int *slave, vc_error **err);

/* Makes fd raw if it is a terminal: 1 (and *saved filled) if it was made
 * raw, 0 if fd is not a terminal, -1 on error. */
int vc_tty_make_raw(int fd, struct termios *saved, vc_error **err);
void vc_tty_restore(int fd, const struct termios *saved);

/* The window size of the terminal fd; false if fd has none (or 0x0). */
bool vc_tty_size(int fd, unsigned *rows, unsigned *cols);

/* How a process's terminal reaches the host (process.terminal true): a pty
 * of ours sent over --console-socket, whose slave a shim relays, or, in the
 * foreground, our own stdin made raw.  vc_term_check checks the
 * combinations as runc does (detach: the caller returns before the process
 * ends). */
struct vc_term {
  bool terminal;
  int slave; /* the console-socket pty's slave, or -1 */
  bool raw;  /* our stdin was made raw: restore it */
  struct termios saved;
};
#define VC_TERM_INIT {false, -1, false, {0}}
int vc_term_check(bool terminal, const char *console_socket, bool detach,
                  vc_error **err);
int vc_term_open(struct vc_term *t, bool terminal, const char *console_socket,
                 bool detach, vc_error **err);
/* Foreground only: makes the console-socket slave this process's stdio. */
int vc_term_use_slave_as_stdio(struct vc_term *t, vc_error **err);
void vc_term_close(struct vc_term *t);

#endif
