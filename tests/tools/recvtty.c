/* recvtty: the engine's side of --console-socket, for tests.  Listens on a
 * unix socket, takes one pty master sent with SCM_RIGHTS, and copies the
 * terminal's output to stdout until the terminal hangs up.
 *
 *   recvtty [--size RxC] [--input TEXT] [--resize-on MARK RxC] SOCKET
 *
 * --size sets the window size as soon as the master arrives, --input types
 * TEXT into the terminal, --resize-on changes the size once MARK appeared
 * in the output.  The socket is removed on exit. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *socket_path;

static void die(const char *what) {
  fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
  if (socket_path != NULL)
    unlink(socket_path);
  exit(1);
}

static void set_size(int fd, const char *spec) {
  unsigned rows, cols;
  if (sscanf(spec, "%ux%u", &rows, &cols) != 2) {
    fprintf(stderr, "recvtty: bad size `%s` (want ROWSxCOLS)\n", spec);
    exit(2);
  }
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
    die("TIOCSWINSZ");
}

static int receive_master(int listener) {
  int conn = accept(listener, NULL, NULL);
  if (conn < 0)
    die("accept");
  char name[256];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct iovec iov = {name, sizeof(name) - 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
                     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
  ssize_t n = recvmsg(conn, &m, 0);
  if (n < 0)
    die("recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (c == NULL || c->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "recvtty: no fd in the message\n");
    exit(1);
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  close(conn);
  return fd;
}

int main(int argc, char **argv) {
  const char *size = NULL, *input = NULL, *mark = NULL, *mark_size = NULL;
  int i = 1;
  for (; i < argc - 1; i++) {
    if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
      size = argv[++i];
    else if (strcmp(argv[i], "--input") == 0 && i + 1 < argc)
      input = argv[++i];
    else if (strcmp(argv[i], "--resize-on") == 0 && i + 2 < argc) {
      mark = argv[++i];
      mark_size = argv[++i];
    } else
      break;
  }
  if (i != argc - 1) {
    fprintf(stderr, "usage: recvtty [--size RxC] [--input TEXT] [--resize-on MARK RxC] SOCKET\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(argv[i]) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "recvtty: socket path too long\n");
    return 2;
  }
  strcpy(addr.sun_path, argv[i]);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    die("bind");
  socket_path = argv[i];
  if (listen(listener, 1) < 0)
    die("listen");
  int master = receive_master(listener);
  close(listener);
  unlink(socket_path);
  if (size != NULL)
    set_size(master, size);
  if (input != NULL && write(master, input, strlen(input)) < 0)
    die("write input");
  /* The tail of the output, to spot a mark split over two reads. */
  char seen[1024];
  size_t seen_len = 0;
  for (;;) {
    char buf[4096];
    ssize_t n = read(master, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* EIO: the last slave is closed */
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      die("write stdout");
    fflush(stdout);
    if (mark == NULL)
      continue;
    if (seen_len > 256) {
      memmove(seen, seen + seen_len - 256, 256);
      seen_len = 256;
    }
    size_t add = (size_t)n < sizeof(seen) - seen_len ? (size_t)n : sizeof(seen) - seen_len;
    memcpy(seen + seen_len, buf + (size_t)n - add, add);
    seen_len += add;
    if (memmem(seen, seen_len, mark, strlen(mark)) != NULL) {
      set_size(master, mark_size);
      mark = NULL;
    }
  }
  return 0;
}
