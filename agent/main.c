/* vcrun-agent main: guest bring-up and the request loop.
 *
 * One thread, one epoll set: the vsock listener, a signalfd for SIGCHLD,
 * the host connections and every process's stdio pipes.  Replies to
 * WaitProcess are deferred until the process has exited and its stdout and
 * stderr have been drained, so the host sees all output before the status. */
#include "agent/agent.h"
#include "agent/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <linux/vm_sockets.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "agent/network.h"
#include "lib/base/agent_proto.h"
#include "lib/base/net_msg.h"
#include "lib/base/json.h"
#include "lib/base/util.h"

#define MAX_CONNS 256
/* stdin a process has not read yet: past HIGH the agent stops reading its
 * connection (the host's relay then stops reading its stdin); past MAX,
 * from a host that ignores that, it is dropped. */
#define STDIN_BUF_HIGH (1u << 20)
#define STDIN_BUF_MAX (16u << 20)
/* Output queued for a host connection: past HIGH the agent stops reading
 * the pipes of the processes whose stdio it carries, until the host took
 * it down to LOW; the process then blocks in write as on a full pipe,
 * while other connections and requests go on. */
#define CONN_OUT_HIGH (1u << 20)
#define CONN_OUT_LOW (256u << 10)
/* The most read from a pipe or a connection at once, and the size of the
 * stdio pipes: fewer, bigger frames and wake-ups per MiB (each costs more
 * than the copy under TCG). */
#define IO_CHUNK (256u << 10)
#define STDIO_PIPE_SIZE (1 << 20)

struct pending_wait {
  struct agent_conn *conn;
  uint32_t stream;
  struct agent_proc *proc;
  struct pending_wait *next;
};

struct agent_conn {
  struct ev_tag tag;
  int fd;
  struct vc_frame_decoder dec;
  struct vc_frame_queue out; /* frames the host has not taken yet */
  bool reading;              /* EPOLLIN wanted (stdin back-pressure) */
  uint32_t events;           /* as registered */
  bool dead;
  struct agent_conn *next;
};

struct agent {
  int epfd, listen_fd, signal_fd;
  struct agent_conn *conns;
  struct agent_container *containers;
  struct pending_wait *waits;
  struct agent_container *graveyard; /* deleted, freed after the batch */
  /* Cgroups of deleted containers, removed once their killed processes
   * have been reaped (a cgroup with a task, even a zombie, is busy). */
  char **stale_cgroups;
  size_t n_stale_cgroups;
  bool shutdown;
  /* Booted to be saved as a template (vcrun.template on the kernel command
   * line): every restored clone shares this memory, so no container may
   * start before ReseedGuest gave it its own entropy and clock. */
  bool template_vm, reseeded;
};

static void remove_stale_cgroups(struct agent *a) {
  size_t kept = 0;
  for (size_t i = 0; i < a->n_stale_cgroups; i++) {
    char *dir = a->stale_cgroups[i];
    if (rmdir(dir) == 0 || errno == ENOENT) {
      free(dir);
    } else if (errno == EBUSY) {
      a->stale_cgroups[kept++] = dir;
    } else {
      /* Not a cgroup we can remove (EBUSY above also covers sub-cgroups
       * the container made, retried until the VM ends). */
      agent_log("remove cgroup %s: %s", dir, strerror(errno));
      free(dir);
    }
  }
  a->n_stale_cgroups = kept;
}

void agent_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("vcrun-agent: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- guest bring-up ---------------------------------------------------- */

static void mount_or_log(const char *src, const char *dst, const char *type,
                         unsigned long flags, const char *data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
    agent_log("mount %s on %s: %s", type, dst, strerror(errno));
}

static void guest_init(void) {
  /* The initramfs root (rootfs) can never be pivoted away from, so a
   * container's pivot_root would fail: stack a bind mount of it on / and
   * make that our root; containers then pivot away from the bind mount. */
  mkdir("/newroot", 0755);
  if (mount("/", "/newroot", NULL, MS_BIND, NULL) < 0 ||
      chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
      chroot(".") < 0 || chdir("/") < 0)
    agent_log("re-root onto a bind mount: %s", strerror(errno));
  mount_or_log("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_log("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_log("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_log("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620");
  mount_or_log("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  mount_or_log("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_log("cgroup2", "/sys/fs/cgroup", "cgroup2",
               MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  /* stdio of PID 1 goes to the console, which the host keeps as a log. */
  int fd = open("/dev/console", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
      close(fd);
  }
  vc_error *merr = NULL;
  if (agent_load_modules("load.order", &merr) < 0)
    agent_log("%s", merr->msg);
  vc_error_free(&merr);
}

/* ---- epoll plumbing ----------------------------------------------------- */

/* Tags live inside the objects they describe, so nothing is allocated per
 * registration and closing an object's fds is all the cleanup there is. */
static void ev_set(struct agent *a, int op, int fd, uint32_t events,
                   struct ev_tag *tag, enum ev_kind kind, void *ptr) {
  tag->kind = kind;
  tag->ptr = ptr;
  struct epoll_event ev = {.events = events, .data.ptr = tag};
  if (epoll_ctl(a->epfd, op, fd, &ev) < 0)
    agent_log("epoll_ctl: %s", strerror(errno));
}

static void ev_del_close(struct agent *a, int *fd) {
  if (*fd < 0)
    return;
  epoll_ctl(a->epfd, EPOLL_CTL_DEL, *fd, NULL);
  close(*fd);
  *fd = -1;
}

/* ---- replies ------------------------------------------------------------ */

/* Registers what the connection waits for: input unless stdin is backed
 * up, and room to write while output is queued. */
static void conn_update_events(struct agent *a, struct agent_conn *c) {
  uint32_t ev = (c->reading ? EPOLLIN : 0) | (c->out.len > 0 ? EPOLLOUT : 0);
  if (ev == c->events || c->dead)
    return;
  c->events = ev;
  ev_set(a, EPOLL_CTL_MOD, c->fd, ev, &c->tag, EV_CONN, c);
}

/* Never blocks: what the host does not take now is queued (a slow host
 * reader must not stall the agent and every other container). */
static void send_frame(struct agent *a, struct agent_conn *c, uint8_t type,
                       uint8_t flags, uint32_t stream, const char *body,
                       size_t len) {
  if (c == NULL || c->dead)
    return;
  vc_error *err = NULL;
  if (vc_frame_queue_send(&c->out, c->fd, type, flags, stream, body, len,
                          &err) < 0) {
    agent_log("send to host: %s", err->msg);
    vc_error_free(&err);
    c->dead = true;
    return;
  }
  conn_update_events(a, c);
}

/* result: a struct of m's response type, or NULL for an empty one. */
static void reply_result(struct agent *a, struct agent_conn *c, uint32_t stream,
                         enum vc_agent_method m, const void *result) {
  cleanup_free char *body = vc_proto_encode_result(m, result);
  send_frame(a, c, VC_FRAME_RESPONSE, 0, stream, body, strlen(body));
}

/* code: an errno value the host decides by (ENOENT: no such container or
 * process); the message is for people. */
static void reply_error(struct agent *a, struct agent_conn *c, uint32_t stream,
                        int code, const char *msg) {
  cleanup_free char *body = vc_proto_encode_error(code, msg);
  send_frame(a, c, VC_FRAME_RESPONSE, 0, stream, body, strlen(body));
}

/* ---- processes ---------------------------------------------------------- */

static struct agent_container *find_container(struct agent *a, const char *id) {
  for (struct agent_container *c = a->containers; c; c = c->next)
    if (strcmp(c->id, id) == 0)
      return c;
  return NULL;
}

/* exec_id NULL or "" names the container's init. */
static struct agent_proc *find_proc(struct agent_container *c,
                                    const char *exec_id) {
  if (exec_id == NULL || exec_id[0] == '\0')
    return &c->init;
  for (struct agent_proc *p = c->execs; p; p = p->next)
    if (strcmp(p->exec_id, exec_id) == 0)
      return p;
  return NULL;
}

#define FOR_EACH_PROC(a, c, p)                                              \
  for (struct agent_container *c = (a)->containers; c; c = c->next)        \
    for (struct agent_proc *p = &c->init; p;                                \
         p = (p == &c->init) ? c->execs : p->next)

static bool proc_done(const struct agent_proc *p) {
  return p->exited && p->stdout_fd < 0 && p->stderr_fd < 0;
}

/* Answers the waits whose process has finished. */
static void flush_waits(struct agent *a) {
  struct pending_wait **pp = &a->waits;
  while (*pp) {
    struct pending_wait *w = *pp;
    if (proc_done(w->proc)) {
      struct vc_msg_wait_result res = {(uint32_t)w->proc->exit_status};
      reply_result(a, w->conn, w->stream, VC_AGENT_WAIT_PROCESS, &res);
      *pp = w->next;
      free(w);
    } else {
      pp = &w->next;
    }
  }
}

static void stdin_buf_free(struct agent_proc *p) {
  free(p->stdin_buf);
  p->stdin_buf = NULL;
  p->stdin_off = p->stdin_len = p->stdin_cap = 0;
}

/* Reads the connection again once the process took its stdin. */
static void stdin_resume_conn(struct agent *a, struct agent_proc *p) {
  struct agent_conn *conn = p->stdio_conn;
  if (conn != NULL && !conn->reading && p->stdin_len < STDIN_BUF_HIGH) {
    conn->reading = true;
    conn_update_events(a, conn);
  }
}

static void proc_close_stdin(struct agent *a, struct agent_proc *p) {
  ev_del_close(a, &p->stdin_fd);
  p->stdin_polled = false;
  stdin_buf_free(p);
  p->stdin_eof_pending = false;
  stdin_resume_conn(a, p);
}

static void proc_init_fds(struct agent_proc *p) {
  p->stdin_fd = p->stdout_fd = p->stderr_fd = p->sync_fd = p->tty_fd = -1;
}

/* Forgets a process: no wait may point at it afterwards. */
static void proc_release(struct agent *a, struct agent_proc *p) {
  int *fds[] = {&p->stdin_fd, &p->stdout_fd, &p->stderr_fd, &p->sync_fd,
                &p->tty_fd};
  for (size_t i = 0; i < 5; i++)
    ev_del_close(a, fds[i]);
  struct pending_wait **pp = &a->waits;
  while (*pp) {
    if ((*pp)->proc == p) {
      struct pending_wait *w = *pp;
      *pp = w->next;
      free(w);
    } else {
      pp = &(*pp)->next;
    }
  }
  stdin_buf_free(p);
  free(p->exec_id);
  p->exec_id = NULL;
}

static void reap_children(struct agent *a) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0)
      break;
    FOR_EACH_PROC(a, c, p) {
      if (p->pid != pid || p->exited)
        continue;
      p->exited = true;
      p->exit_status = WIFEXITED(status) ? WEXITSTATUS(status)
                                         : 128 + WTERMSIG(status);
      proc_close_stdin(a, p); /* nobody reads it any more */
    }
  }
  remove_stale_cgroups(a);
  flush_waits(a);
}

/* Stops reading a process's output while its connection is full. */
static void pause_output(struct agent *a, struct agent_proc *p) {
  if (p->stdout_fd >= 0)
    epoll_ctl(a->epfd, EPOLL_CTL_DEL, p->stdout_fd, NULL);
  if (p->stderr_fd >= 0)
    epoll_ctl(a->epfd, EPOLL_CTL_DEL, p->stderr_fd, NULL);
  p->output_paused = true;
}

static void resume_output(struct agent *a, struct agent_proc *p) {
  if (!p->output_paused)
    return;
  p->output_paused = false;
  if (p->stdout_fd >= 0)
    ev_set(a, EPOLL_CTL_ADD, p->stdout_fd, EPOLLIN, &p->stdout_tag, EV_STDOUT, p);
  if (p->stderr_fd >= 0)
    ev_set(a, EPOLL_CTL_ADD, p->stderr_fd, EPOLLIN, &p->stderr_tag, EV_STDERR, p);
}

/* Resumes the output of the processes on conn (NULL: on a connection that
 * was closed) once it has room. */
static void resume_outputs_of(struct agent *a, struct agent_conn *conn) {
  if (conn != NULL && conn->out.len > CONN_OUT_LOW)
    return;
  FOR_EACH_PROC(a, c, p) {
    if (p->output_paused && p->stdio_conn == conn)
      resume_output(a, p);
  }
}

/* Reads what a stdout/stderr pipe has and forwards it as DATA frames. */
static void pump_output(struct agent *a, struct agent_proc *p, int which) {
  struct agent_conn *conn = p->stdio_conn;
  if (conn != NULL && !conn->dead && conn->out.len >= CONN_OUT_HIGH) {
    pause_output(a, p);
    return;
  }
  int *fd = which == 1 ? &p->stdout_fd : &p->stderr_fd;
  static char buf[IO_CHUNK]; /* one thread */
  ssize_t n = read(*fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n > 0) {
    send_frame(a, conn, VC_FRAME_DATA, (uint8_t)which, p->stdio_stream, buf,
               (size_t)n);
    return;
  }
  send_frame(a, conn, VC_FRAME_DATA, (uint8_t)(which | VC_DATA_EOF),
             p->stdio_stream, NULL, 0);
  ev_del_close(a, fd);
  flush_waits(a);
}

/* Writes queued stdin to the process, without blocking. */
static void pump_stdin(struct agent *a, struct agent_proc *p) {
  while (p->stdin_len > 0) {
    ssize_t n = write(p->stdin_fd, p->stdin_buf + p->stdin_off, p->stdin_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      /* EPOLLOUT tells us when the process has read some. */
      if (!p->stdin_polled)
        ev_set(a, EPOLL_CTL_ADD, p->stdin_fd, EPOLLOUT, &p->stdin_tag,
               EV_STDIN, p);
      p->stdin_polled = true;
      stdin_resume_conn(a, p);
      return;
    }
    if (n < 0) {
      proc_close_stdin(a, p); /* EPIPE: the process closed its stdin */
      return;
    }
    p->stdin_off += (size_t)n;
    p->stdin_len -= (size_t)n;
  }
  p->stdin_off = 0;
  if (p->stdin_cap > IO_CHUNK) /* a burst's buffer is not kept */
    stdin_buf_free(p);
  if (p->stdin_polled) {
    epoll_ctl(a->epfd, EPOLL_CTL_DEL, p->stdin_fd, NULL);
    p->stdin_polled = false;
  }
  stdin_resume_conn(a, p);
  if (p->stdin_eof_pending)
    proc_close_stdin(a, p);
}

/* Appends to the process's stdin queue (compacting it first when that
 * makes room). */
static void stdin_queue(struct agent_proc *p, const char *data, size_t len) {
  if (p->stdin_off + p->stdin_len + len > p->stdin_cap) {
    memmove(p->stdin_buf, p->stdin_buf + p->stdin_off, p->stdin_len);
    p->stdin_off = 0;
    if (p->stdin_len + len > p->stdin_cap) {
      size_t cap = p->stdin_cap ? p->stdin_cap : 4096;
      while (cap < p->stdin_len + len)
        cap *= 2;
      p->stdin_buf = xrealloc(p->stdin_buf, cap);
      p->stdin_cap = cap;
    }
  }
  memcpy(p->stdin_buf + p->stdin_off + p->stdin_len, data, len);
  p->stdin_len += len;
}

static void on_stdin_data(struct agent *a, struct agent_proc *p,
                          const char *data, size_t len, bool eof) {
  if (p->stdin_fd < 0)
    return;
  if (len > 0 && p->stdin_len == 0) {
    /* Nothing queued: straight from the frame into the pipe. */
    ssize_t n;
    do
      n = write(p->stdin_fd, data, len);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {
      proc_close_stdin(a, p); /* EPIPE: the process closed its stdin */
      return;
    }
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    }
  }
  if (len > 0) {
    if (p->stdin_len + len > STDIN_BUF_MAX) {
      agent_log("stdin buffer full; dropping stdin");
      proc_close_stdin(a, p);
      return;
    }
    stdin_queue(p, data, len);
    /* The host's relay sends more only as we read it: stop reading until
     * the process took some. */
    if (p->stdin_len >= STDIN_BUF_HIGH && p->stdio_conn != NULL &&
        p->stdio_conn->reading) {
      p->stdio_conn->reading = false;
      conn_update_events(a, p->stdio_conn);
    }
  }
  if (eof)
    p->stdin_eof_pending = true;
  pump_stdin(a, p);
}

/* ---- requests ----------------------------------------------------------- */

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void container_free(struct agent *a, struct agent_container *c) {
  if (c == NULL)
    return;
  while (c->execs) {
    struct agent_proc *p = c->execs;
    c->execs = p->next;
    proc_release(a, p);
    free(p);
  }
  proc_release(a, &c->init);
  free(c->id);
  free(c->rootfs);
  free(c->share_name);
  free(c->cgroup_dir);
  free(c->bundle);
  oci_spec_free(c->spec);
  free(c);
}

/* Reads the child's verdict: "R" (ready) or "E<message>"; 1 when the
 * channel closed (the child exec'd). */
/* Reads the child's report on its sync socket: 0 when it is ready ("R"),
 * 1 when it closed the socket (exec'd), -1 with its message ("E...").  A
 * "T" message carries its pty master, kept in p->tty_fd. */
static int read_child_status(struct agent_proc *p, vc_error **err) {
  for (;;) {
    char buf[4096];
    int fd;
    ssize_t n = vc_recv_fd(p->sync_fd, buf, sizeof(buf) - 1, &fd);
    if (n < 0)
      return vc_error_set(err, errno, "read from container setup");
    if (n == 0) {
      if (fd >= 0)
        close(fd);
      return 1;
    }
    buf[n] = '\0';
    if (buf[0] == 'T' && fd >= 0 && p->tty_fd < 0) {
      p->tty_fd = fd;
      continue;
    }
    if (fd >= 0)
      close(fd);
    if (buf[0] == 'E')
      return vc_error_set(err, 0, "%s", buf + 1);
    return 0;
  }
}

/* stdio pipes and the sync socket of a new process; child ends in child[],
 * ours in p.  Everything is close-on-exec; the child dup2s its ends. */
static int make_stdio(struct agent_proc *p, int child[4], vc_error **err) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, sync[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
      pipe2(errp, O_CLOEXEC) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
    int e = errno;
    int fds[] = {in[0], in[1], out[0], out[1], errp[0], errp[1], sync[0], sync[1]};
    for (size_t i = 0; i < 8; i++)
      if (fds[i] >= 0)
        close(fds[i]);
    return vc_error_set(err, e, "create stdio pipes");
  }
  /* Bigger than the default 64 KiB, so that a writer and the agent each
   * move up to IO_CHUNK per wake-up; best effort (pipe-max-size). */
  int pipes[] = {in[1], out[0], errp[0]};
  for (size_t i = 0; i < 3; i++)
    fcntl(pipes[i], F_SETPIPE_SZ, STDIO_PIPE_SIZE);
  child[0] = in[0];
  child[1] = out[1];
  child[2] = errp[1];
  child[3] = sync[1];
  p->stdin_fd = in[1];
  p->stdout_fd = out[0];
  p->stderr_fd = errp[0];
  p->sync_fd = sync[0];
  return 0;
}

static void close_child_ends(int child[4]) {
  for (int i = 0; i < 4; i++)
    close(child[i]);
}

/* After the child said it is ready (or exec'd): stream its output. */
static void watch_output(struct agent *a, struct agent_proc *p) {
  if (p->tty_fd >= 0) {
    /* One pty instead of three pipes: input and output both go through
     * the master (stderr is merged by the terminal, as with runc). */
    ev_del_close(a, &p->stdin_fd);
    ev_del_close(a, &p->stdout_fd);
    ev_del_close(a, &p->stderr_fd);
    p->stdin_fd = fcntl(p->tty_fd, F_DUPFD_CLOEXEC, 3);
    p->stdout_fd = fcntl(p->tty_fd, F_DUPFD_CLOEXEC, 3);
  }
  set_nonblock(p->stdin_fd);
  set_nonblock(p->stdout_fd);
  set_nonblock(p->stderr_fd);
  ev_set(a, EPOLL_CTL_ADD, p->stdout_fd, EPOLLIN, &p->stdout_tag, EV_STDOUT, p);
  ev_set(a, EPOLL_CTL_ADD, p->stderr_fd, EPOLLIN, &p->stderr_tag, EV_STDERR, p);
}

static void attach(struct agent_proc *p, struct agent_conn *conn,
                   long long stream) {
  p->stdio_conn = stream > 0 ? conn : NULL;
  p->stdio_stream = (uint32_t)stream;
}

struct child_args {
  struct agent_container *c;
  int sync_fd;
  int stdio[3];
};

static int child_main(void *arg) {
  struct child_args *ca = arg;
  agent_container_child(ca->c, ca->sync_fd, ca->stdio);
}

/* Mounts the sandbox's share on AGENT_SHARE_DIR unless it is there. */
static int mount_share(const char *tag, vc_error **err) {
  struct stat share_st, parent_st;
  if (vc_mkdir_p(AGENT_SHARE_DIR, 0755, err) < 0)
    return -1;
  if (stat(AGENT_SHARE_DIR, &share_st) == 0 &&
      stat(AGENT_SHARE_DIR "/..", &parent_st) == 0 &&
      share_st.st_dev != parent_st.st_dev)
    return 0;
  if (mount(tag, AGENT_SHARE_DIR, "virtiofs", 0, NULL) < 0)
    return vc_error_set(err, errno, "mount virtio-fs `%s` on %s", tag,
                        AGENT_SHARE_DIR);
  return 0;
}

static int create_container(struct agent *a, struct agent_conn *conn,
                            const struct vc_msg_create_container *params,
                            vc_error **err) {
  const char *id = params->id, *tag = params->rootfs_tag;
  const char *cgroup = params->cgroup;
  yajl_val joins = NULL;
  if (find_container(a, id) != NULL)
    return vc_error_set(err, EEXIST, "container `%s`", id);
  /* The host computed it from linux.cgroupsPath (oci/cgroups_path.h). */
  if (cgroup != NULL && (cgroup[0] != '/' || strstr(cgroup, "..") != NULL))
    return vc_error_set(err, 0, "CreateContainer: invalid cgroup `%s`", cgroup);

  struct agent_container *c = xcalloc(1, sizeof(*c));
  c->id = xstrdup(id);
  c->cgroup_dir = cgroup ? xasprintf("%s%s", AGENT_CGROUP_ROOT, cgroup)
                         : xasprintf("%s/%s", AGENT_CGROUP_ROOT, id);
  c->bundle = xstrdup(params->bundle != NULL ? params->bundle : "");
  c->init.container = c;
  proc_init_fds(&c->init);
  int child[4] = {-1, -1, -1, -1};
  if (oci_spec_parse(params->spec, "config.json", &c->spec, err) < 0)
    goto fail;
  if (c->spec->process == NULL) {
    vc_error_set(err, 0, "config.json: process: missing");
    goto fail;
  }
  /* A pod member's namespaces of other containers (the host named the
   * container): the agent enters them just around the clone, which
   * inherits them. */
  if (params->join_namespaces != NULL &&
      vc_json_parse(params->join_namespaces, &joins, err) < 0)
    goto fail;
  size_t n_joins = YAJL_IS_OBJECT(joins) ? joins->u.object.len : 0;
  pid_t join_pids[8];
  int joined = 0;
  for (size_t i = 0; i < n_joins; i++) {
    const char *type = joins->u.object.keys[i];
    const char *other_id = YAJL_IS_STRING(joins->u.object.values[i])
                               ? YAJL_GET_STRING(joins->u.object.values[i])
                               : NULL;
    struct agent_container *other = other_id ? find_container(a, other_id) : NULL;
    if (other == NULL || other->init.exited || i == N_ELEMS(join_pids)) {
      vc_error_set(err, 0, "linux.namespaces: the %s namespace of container "
                   "`%s`: it %s", type, other_id ? other_id : "",
                   other ? "has exited" : "does not exist in this sandbox");
      goto fail;
    }
    join_pids[i] = other->init.pid;
    joined |= agent_namespace_flag(type, NULL);
  }
  /* linux.namespaces' network path was the host's netns the VM runs in
   * (a CRI pod's): in the guest the container gets a new one, or, when
   * the pod's NICs are mirrored into the VM, shares the guest's own, which
   * holds them (as Kata's containers do). */
  int vm_level = params->vm_network_namespace ? CLONE_NEWNET : 0;
  if (params->vm_network) {
    if (agent_net_loopback_up(err) < 0)
      goto fail;
    vm_level = 0;
    joined |= CLONE_NEWNET; /* the guest's own: the agent's, inherited */
  }
  if (agent_namespace_flags(c->spec, joined, vm_level, &c->ns_flags, err) < 0)
    goto fail;

  /* The bundle's rootfs and its bind sources arrive over the sandbox's
   * virtio-fs share. */
  if (mount_share(tag, err) < 0)
    goto fail;
  /* A name the host made for this create, never an earlier one's: the
   * share's cached entries of a deleted container of the same id may
   * linger in the guest for a while. */
  const char *share_name = params->share_name != NULL ? params->share_name : id;
  if (!vc_id_valid(share_name)) {
    vc_error_set(err, 0, "CreateContainer: invalid share name `%s`", share_name);
    goto fail;
  }
  c->share_name = xstrdup(share_name);
  c->rootfs = xasprintf("%s/%s/rootfs", AGENT_SHARE_DIR, c->share_name);
  struct stat root_st;
  if (stat(c->rootfs, &root_st) < 0 || !S_ISDIR(root_st.st_mode)) {
    vc_error_set(err, errno, "the container's rootfs `%s` is not in the share",
                 c->rootfs);
    goto fail;
  }
  if (make_stdio(&c->init, child, err) < 0)
    goto fail;
  struct child_args ca = {c, child[3], {child[0], child[1], child[2]}};
  size_t stack_size = 256 * 1024;
  char *stack = xcalloc(1, stack_size);
  struct agent_ns_switch sw = {.n = 0};
  pid_t pid = -1;
  int clone_errno = 0;
  size_t entered = 0;
  while (entered < n_joins && agent_ns_switch_enter(&sw, join_pids[entered],
                                                    joins->u.object.keys[entered],
                                                    err) == 0)
    entered++;
  if (entered == n_joins) {
    pid = clone(child_main, stack + stack_size, c->ns_flags | SIGCHLD, &ca);
    clone_errno = errno;
  }
  agent_ns_switch_back(&sw);
  free(stack);
  if (entered < n_joins) {
    close_child_ends(child);
    goto fail;
  }
  close_child_ends(child);
  if (pid < 0) {
    vc_error_set(err, clone_errno, "clone container process");
    goto fail;
  }
  c->init.pid = pid;
  if ((c->ns_flags & CLONE_NEWUSER) &&
      (agent_cgroup_place(c->cgroup_dir, c->spec->resources_json,
                          c->spec->devices_json, pid, err) < 0 ||
       agent_write_id_maps(pid, c->spec, err) < 0 ||
       write(c->init.sync_fd, "M", 1) != 1)) {
    vc_error_set(err, errno, "user namespace of container `%s`", id);
    kill(pid, SIGKILL);
    goto fail;
  }
  attach(&c->init, conn, params->stdio_stream);
  c->next = a->containers;
  a->containers = c;
  if (read_child_status(&c->init, err) != 0) {
    /* Setup failed in the child, which exits by itself (the SIGCHLD loop
     * reaps it); forget the container. */
    kill(pid, SIGKILL);
    a->containers = c->next;
    goto fail;
  }
  watch_output(a, &c->init);
  yajl_tree_free(joins);
  return 0;

fail:
  yajl_tree_free(joins);
  container_free(a, c);
  return -1;
}

/* The container a request names; an unknown id is ENOENT, the code the
 * host decides by. */
static struct agent_container *container_param(struct agent *a, const char *id,
                                               vc_error **err) {
  struct agent_container *c = find_container(a, id);
  if (c == NULL)
    vc_error_set(err, ENOENT, "container `%s` does not exist", id);
  return c;
}

static struct agent_proc *proc_param(struct agent *a, const char *id,
                                     const char *exec_id, vc_error **err) {
  struct agent_container *c = container_param(a, id, err);
  if (c == NULL)
    return NULL;
  struct agent_proc *p = find_proc(c, exec_id);
  if (p == NULL)
    vc_error_set(err, ENOENT, "process `%s` of container `%s` does not exist",
                 exec_id ? exec_id : "", c->id);
  return p;
}

static int start_container(struct agent *a, const struct vc_msg_container *params,
                           vc_error **err) {
  struct agent_container *c = container_param(a, params->id, err);
  if (c == NULL)
    return -1;
  if (c->started)
    return vc_error_set(err, 0, "container `%s` was already started", c->id);
  if (c->init.exited)
    return vc_error_set(err, 0, "container `%s` has exited", c->id);
  c->started = true;
  if (write(c->init.sync_fd, "S", 1) != 1)
    return vc_error_set(err, errno, "signal container `%s` to start", c->id);
  int r = read_child_status(&c->init, err);
  ev_del_close(a, &c->init.sync_fd);
  return r < 0 ? -1 : 0;
}

static int exec_process(struct agent *a, struct agent_conn *conn,
                        const struct vc_msg_exec_process *params,
                        vc_error **err) {
  struct agent_container *c = container_param(a, params->id, err);
  if (c == NULL)
    return -1;
  const char *exec_id = params->exec_id;
  if (exec_id[0] == '\0')
    return vc_error_set(err, EINVAL, "ExecProcess: empty exec_id");
  if (find_proc(c, exec_id) != NULL)
    return vc_error_set(err, EEXIST, "exec id `%s` is in use", exec_id);
  /* A created container can be exec'd into, as with runc: its init waits
   * for start with its namespaces, cgroup and root all made.  A frozen
   * cgroup would freeze the child before it reports back. */
  if (c->init.exited || c->init.pid <= 0)
    return vc_error_set(err, 0, "cannot exec in a stopped container");
  if (c->paused)
    return vc_error_set(err, 0, "cannot exec in a paused container");

  /* The spec parser's checks, so exec and create validate a process the
   * same way. */
  struct oci_spec *spec = NULL;
  if (oci_process_parse(params->process, "process.json", &spec, err) < 0)
    return -1;
  struct agent_proc *p = xcalloc(1, sizeof(*p));
  p->container = c;
  p->exec_id = xstrdup(exec_id);
  proc_init_fds(p);
  int child[4] = {-1, -1, -1, -1};
  if (make_stdio(p, child, err) < 0)
    goto fail;
  /* Children of ours land in the container's pid namespace while
   * pid_for_children points there; we step back right after fork. */
  struct agent_ns_switch sw = {.n = 0};
  if (agent_ns_switch_enter(&sw, c->init.pid, "pid", err) < 0) {
    close_child_ends(child);
    goto fail;
  }
  pid_t pid = fork();
  if (pid == 0)
    agent_exec_child(c, spec->process, child[3],
                     (int[3]){child[0], child[1], child[2]});
  int fork_errno = errno;
  agent_ns_switch_back(&sw);
  close_child_ends(child);
  if (pid < 0) {
    vc_error_set(err, fork_errno, "fork");
    goto fail;
  }
  p->pid = pid;
  attach(p, conn, params->stdio_stream);
  p->next = c->execs;
  c->execs = p;
  int r = read_child_status(p, err);
  ev_del_close(a, &p->sync_fd);
  oci_spec_free(spec);
  if (r < 0) {
    /* The child exits 127 after reporting; keep the record so its exit is
     * reaped against it, but the caller gets the error. */
    kill(pid, SIGKILL);
    return -1;
  }
  watch_output(a, p);
  return 0;

fail:
  oci_spec_free(spec);
  proc_release(a, p);
  free(p);
  return -1;
}

static int resize_terminal(struct agent *a,
                           const struct vc_msg_resize_terminal *params,
                           vc_error **err) {
  struct agent_proc *p = proc_param(a, params->id, params->exec_id, err);
  uint32_t rows = params->rows, cols = params->cols;
  if (p == NULL)
    return -1;
  if (rows > 65535 || cols > 65535)
    return vc_error_set(err, EINVAL, "ResizeTerminal: bad rows or cols");
  if (p->tty_fd < 0)
    return vc_error_set(err, ENOTTY, "the process has no terminal");
  struct winsize ws = {.ws_row = (unsigned short)rows,
                       .ws_col = (unsigned short)cols};
  if (ioctl(p->tty_fd, TIOCSWINSZ, &ws) < 0)
    return vc_error_set(err, errno, "resize the terminal");
  return 0;
}

static int attach_stdio(struct agent *a, struct agent_conn *conn,
                        const struct vc_msg_attach_stdio *params,
                        vc_error **err) {
  struct agent_proc *p = proc_param(a, params->id, NULL, err);
  if (p == NULL)
    return -1;
  if (params->stdio_stream == 0)
    return vc_error_set(err, EINVAL, "AttachStdio: bad stdio_stream");
  attach(p, conn, params->stdio_stream);
  return 0;
}

static int wait_process(struct agent *a, struct agent_conn *conn,
                        const struct vc_msg_process_ref *params,
                        uint32_t stream, vc_error **err) {
  struct agent_proc *p = proc_param(a, params->id, params->exec_id, err);
  if (p == NULL)
    return -1;
  struct pending_wait *w = xcalloc(1, sizeof(*w));
  w->conn = conn;
  w->stream = stream;
  w->proc = p;
  w->next = a->waits;
  a->waits = w;
  flush_waits(a);
  return 0;
}

/* Every process whose pid namespace is the container's (for --all). */
static int signal_process(struct agent *a,
                          const struct vc_msg_signal_process *params,
                          vc_error **err) {
  struct agent_proc *p = proc_param(a, params->id, params->exec_id, err);
  uint32_t sig = params->signal;
  if (p == NULL)
    return -1;
  if (sig >= 65)
    return vc_error_set(err, EINVAL, "SignalProcess: bad signal");
  if (p->exited)
    return vc_error_set(err, ESRCH, "process already finished");
  /* Signal 0 asks whether the process exists, as kill(2) does: it has not
   * exited (the agent reaps it), so it does. */
  if (sig == 0)
    return 0;
  if (params->all && p == &p->container->init) {
    /* The container's cgroup, as runc: a pid namespace may be shared with
     * the rest of its pod. */
    if (agent_cgroup_signal(p->container->cgroup_dir, (int)sig) < 0)
      return vc_error_set(err, errno, "signal the processes of `%s`",
                          p->container->id);
    return 0;
  }
  if (kill(p->pid, (int)sig) < 0)
    return vc_error_set(err, errno, "kill %d", p->pid);
  return 0;
}

static const char *container_status(const struct agent_container *c) {
  if (c->init.exited)
    return "stopped";
  if (!c->started)
    return "created";
  return c->paused ? "paused" : "running";
}

static void container_state(const struct agent_container *c,
                            struct vc_msg_state_result *out) {
  out->status = xstrdup(container_status(c));
  out->pid = c->init.pid;
  out->exited = c->init.exited;
  out->exit_status = c->init.exited ? (uint32_t)c->init.exit_status : 0;
  /* Read when asked: the cgroup stays until DeleteContainer, so the count
   * outlives the processes the OOM killer took. */
  out->oom_kills = c->cgroup_dir ? agent_cgroup_oom_kills(c->cgroup_dir) : 0;
}

/* Freezes or thaws every process of the container: its cgroup when it has
 * one of its own, else SIGSTOP/SIGCONT to each process. */
static int set_paused(struct agent *a, const char *id, bool pause,
                      vc_error **err) {
  struct agent_container *c = container_param(a, id, err);
  if (c == NULL)
    return -1;
  if (!c->started || c->init.exited)
    return vc_error_set(err, 0, "container `%s` is not running", c->id);
  if (c->paused == pause)
    return vc_error_set(err, 0, "container `%s` is %s", c->id,
                        pause ? "already paused" : "not paused");
  cleanup_free char *freeze = xasprintf("%s/cgroup.freeze", c->cgroup_dir);
  int fd = open(freeze, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t w = write(fd, pause ? "1" : "0", 1);
    close(fd);
    if (w != 1)
      return vc_error_set(err, errno, "write %s", freeze);
  } else if (agent_cgroup_signal(c->cgroup_dir, pause ? SIGSTOP : SIGCONT) < 0) {
    return vc_error_set(err, errno, "%s `%s`", pause ? "pause" : "resume", c->id);
  }
  c->paused = pause;
  return 0;
}

/* True if pid's cgroup (as the agent, in the root cgroup namespace, sees
 * it) is rel or below it. */
static bool in_cgroup(int pid, const char *rel) {
  char path[64], line[4096];
  snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return false;
  bool in = false;
  size_t len = strlen(rel);
  while (!in && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "0::", 3) != 0)
      continue;
    line[strcspn(line, "\n")] = '\0';
    const char *cg = line + 3;
    in = strncmp(cg, rel, len) == 0 && (cg[len] == '\0' || cg[len] == '/');
  }
  fclose(f);
  return in;
}

/* The guest's boot time in seconds since the epoch (/proc/stat btime). */
static long long boot_time(void) {
  FILE *f = fopen("/proc/stat", "re");
  char line[256];
  long long btime = 0;
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "btime %lld", &btime) == 1)
      break;
  if (f != NULL)
    fclose(f);
  return btime;
}

/* A terminal's name from its device number, as ps prints it. */
static char *tty_name(unsigned long dev) {
  unsigned major = (unsigned)((dev >> 8) & 0xfff);
  unsigned minor = (unsigned)((dev & 0xff) | ((dev >> 12) & 0xfff00));
  if (dev == 0)
    return NULL;
  if (major >= 136 && major <= 143)
    return xasprintf("pts/%u", (major - 136) * 256 + minor);
  if (major == 4 && minor < 64)
    return xasprintf("tty%u", minor);
  if (major == 4)
    return xasprintf("ttyS%u", minor - 64);
  if (major == 5 && minor == 1)
    return xstrdup("console");
  return xasprintf("%u,%u", major, minor);
}

/* ppid, terminal, cpu time and start time from /proc/PID/stat, the
 * effective uid from the owner of /proc/PID, the name from comm. */
static void process_details(int pid, long long btime,
                            struct vc_msg_process_info *info) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0)
    close(fd);
  buf[len > 0 ? len : 0] = '\0';
  /* The name in parentheses may hold anything: fields follow the last ')'. */
  const char *rest = strrchr(buf, ')');
  int ppid = 0;
  unsigned long tty = 0, utime = 0, stime = 0;
  unsigned long long start = 0;
  if (rest != NULL &&
      sscanf(rest + 1, " %*c %d %*d %*d %lu %*d %*u %*u %*u %*u %*u %lu %lu "
             "%*d %*d %*d %*d %*d %*d %llu", &ppid, &tty, &utime, &stime,
             &start) == 5) {
    long ticks = sysconf(_SC_CLK_TCK);
    if (ticks <= 0)
      ticks = 100;
    info->ppid = ppid;
    info->cpu_ms = (int64_t)(utime + stime) * 1000 / ticks;
    info->start_time = btime + (int64_t)(start / (unsigned long long)ticks);
    info->tty = tty_name(tty);
  }
  snprintf(path, sizeof(path), "/proc/%d", pid);
  struct stat st;
  info->uid = stat(path, &st) == 0 ? (int64_t)st.st_uid : -1;
  snprintf(path, sizeof(path), "/proc/%d/comm", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  len = fd >= 0 ? read(fd, buf, 64) : -1;
  if (fd >= 0)
    close(fd);
  buf[len > 0 ? len : 0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  info->comm = xstrdup(buf);
}

/* The container's processes (those in its cgroup, as runc lists them: a
 * pod shares pid namespaces): pid in the guest, command line and what
 * `ps -ef` shows. */
static void list_processes(struct agent_container *c,
                           struct vc_msg_process_list *out) {
  char path[64];
  size_t cap = 0;
  const char *rel = c->cgroup_dir + strlen(AGENT_CGROUP_ROOT);
  DIR *d = c->init.exited ? NULL : opendir("/proc");
  long long btime = boot_time();
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    int pid = atoi(de->d_name);
    if (pid <= 1 || !in_cgroup(pid, rel))
      continue;
    char cmdline[4096] = "";
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t len = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : 0;
    if (fd >= 0)
      close(fd);
    if (len < 0)
      len = 0;
    cmdline[len] = '\0';
    for (ssize_t i = 0; i + 1 < len; i++)
      if (cmdline[i] == '\0')
        cmdline[i] = ' ';
    if (out->n_processes == cap) {
      cap = cap ? 2 * cap : 16;
      out->processes = xrealloc(out->processes, cap * sizeof(*out->processes));
    }
    struct vc_msg_process_info *info = &out->processes[out->n_processes++];
    *info = (struct vc_msg_process_info){.pid = pid, .cmd = xstrdup(cmdline)};
    process_details(pid, btime, info);
  }
  if (d)
    closedir(d);
}

/* vcrun update: params.resources is LinuxResources as JSON text. */
static int update_container(struct agent *a,
                            const struct vc_msg_update_container *params,
                            vc_error **err) {
  struct agent_container *c = container_param(a, params->id, err);
  if (c == NULL)
    return -1;
  if (c->init.exited)
    return vc_error_set(err, 0, "container not running");
  return agent_cgroup_update(c->cgroup_dir, params->resources,
                             c->spec->devices_json, err);
}

static int delete_container(struct agent *a, const char *id, vc_error **err) {
  struct agent_container *c = container_param(a, id, err);
  if (c == NULL)
    return -1;
  if (!c->init.exited)
    kill(c->init.pid, SIGKILL); /* a pid namespace of its own goes with it */
  /* In a shared pid namespace (a pod's) its other processes stay: they go
   * by its cgroup, as runc kills a container without its own pid ns. */
  if (!(c->ns_flags & CLONE_NEWPID))
    agent_cgroup_signal(c->cgroup_dir, SIGKILL);
  for (struct agent_proc *p = c->execs; p; p = p->next)
    if (!p->exited)
      kill(p->pid, SIGKILL);
  for (struct agent_container **cp = &a->containers; *cp; cp = &(*cp)->next) {
    if (*cp == c) {
      *cp = c->next;
      break;
    }
  }
  /* Close its fds now, free it after this epoll batch: an event already
   * fetched may still point at one of its processes. */
  for (struct agent_proc *p = c->execs; p; p = p->next)
    proc_release(a, p);
  proc_release(a, &c->init);
  c->next = a->graveyard;
  a->graveyard = c;
  a->stale_cgroups = xrealloc(a->stale_cgroups,
                              (a->n_stale_cgroups + 1) * sizeof(char *));
  a->stale_cgroups[a->n_stale_cgroups++] = xstrdup(c->cgroup_dir);
  remove_stale_cgroups(a);
  return 0;
}

/* ---- the method table --------------------------------------------------- */

/* Every handler gets its method's typed request (lib/base/agent_proto.h)
 * and fills result, a zeroed struct of the method's response type. */
struct request {
  struct agent *a;
  struct agent_conn *conn;
  uint32_t stream;
  const void *params;
  void *result;
};
typedef int (*handler_fn)(const struct request *r, vc_error **err);

static int on_hello(const struct request *r, vc_error **err) {
  struct vc_msg_hello_result *out = r->result;
  struct utsname u;
  uname(&u);
  out->version = VC_AGENT_PROTOCOL_VERSION;
  out->kernel = xstrdup(u.release);
  return 0;
}

/* A clone of a template before ReseedGuest: refuse work. */
static int check_reseeded(const struct agent *a, vc_error **err) {
  if (a->template_vm && !a->reseeded)
    return vc_error_set(err, EAGAIN, "this VM was restored from a template "
                        "and has not been reseeded (ReseedGuest)");
  return 0;
}

static int on_create(const struct request *r, vc_error **err) {
  if (check_reseeded(r->a, err) < 0)
    return -1;
  return create_container(r->a, r->conn, r->params, err);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Credits the host's entropy to the input pool and reseeds the CRNG from
 * it (RNDADDENTROPY, RNDRESEEDCRNG), then sets CLOCK_REALTIME. */
static int on_reseed(const struct request *r, vc_error **err) {
  const struct vc_msg_reseed_guest *in = r->params;
  size_t digits = strlen(in->entropy);
  if (digits < 64 || digits > 1024 || digits % 2 != 0)
    return vc_error_set(err, EINVAL, "ReseedGuest: entropy must be 64 to 1024 "
                        "hex digits");
  struct {
    int entropy_count;
    int buf_size;
    unsigned char buf[512];
  } pool = {.entropy_count = (int)(digits / 2 * 8), .buf_size = (int)(digits / 2)};
  for (size_t i = 0; i < digits; i += 2) {
    int hi = hex_digit(in->entropy[i]), lo = hex_digit(in->entropy[i + 1]);
    if (hi < 0 || lo < 0)
      return vc_error_set(err, EINVAL, "ReseedGuest: entropy is not lower-case hex");
    pool.buf[i / 2] = (unsigned char)(hi << 4 | lo);
  }
  if (in->realtime_nsec >= 1000000000u || in->realtime_sec < 0)
    return vc_error_set(err, EINVAL, "ReseedGuest: bad time");
  cleanup_close int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ioctl(fd, RNDADDENTROPY, &pool) < 0 ||
      ioctl(fd, RNDRESEEDCRNG) < 0)
    return vc_error_set(err, errno, "ReseedGuest: reseed the guest's RNG");
  explicit_bzero(&pool, sizeof(pool));
  struct timespec now = {(time_t)in->realtime_sec, (long)in->realtime_nsec};
  if (clock_settime(CLOCK_REALTIME, &now) < 0)
    return vc_error_set(err, errno, "ReseedGuest: set the clock");
  r->a->reseeded = true;
  return 0;
}

static int on_start(const struct request *r, vc_error **err) {
  return start_container(r->a, r->params, err);
}

static int on_exec(const struct request *r, vc_error **err) {
  if (check_reseeded(r->a, err) < 0)
    return -1;
  return exec_process(r->a, r->conn, r->params, err);
}

static int on_attach(const struct request *r, vc_error **err) {
  return attach_stdio(r->a, r->conn, r->params, err);
}

static int on_resize(const struct request *r, vc_error **err) {
  return resize_terminal(r->a, r->params, err);
}

static int on_wait(const struct request *r, vc_error **err) {
  return wait_process(r->a, r->conn, r->params, r->stream, err);
}

static int on_signal(const struct request *r, vc_error **err) {
  return signal_process(r->a, r->params, err);
}

static int on_state(const struct request *r, vc_error **err) {
  const struct vc_msg_container *p = r->params;
  struct agent_container *c = container_param(r->a, p->id, err);
  if (c == NULL)
    return -1;
  container_state(c, r->result);
  return 0;
}

static int on_list(const struct request *r, vc_error **err) {
  const struct vc_msg_container *p = r->params;
  struct agent_container *c = container_param(r->a, p->id, err);
  if (c == NULL)
    return -1;
  list_processes(c, r->result);
  return 0;
}

static int on_pause(const struct request *r, vc_error **err) {
  return set_paused(r->a, ((const struct vc_msg_container *)r->params)->id,
                    true, err);
}

static int on_resume(const struct request *r, vc_error **err) {
  return set_paused(r->a, ((const struct vc_msg_container *)r->params)->id,
                    false, err);
}

static int on_update(const struct request *r, vc_error **err) {
  return update_container(r->a, r->params, err);
}

static int on_stats(const struct request *r, vc_error **err) {
  const struct vc_msg_container *p = r->params;
  struct agent_container *c = container_param(r->a, p->id, err);
  if (c == NULL)
    return -1;
  ((struct vc_msg_stats_result *)r->result)->stats =
      agent_cgroup_stats(c->cgroup_dir);
  return 0;
}

static int on_delete(const struct request *r, vc_error **err) {
  return delete_container(r->a, ((const struct vc_msg_container *)r->params)->id,
                          err);
}

/* The pod's NICs (hot-plugged or on the command line) configured in the
 * guest's own network namespace: modules first, as only a sandbox with
 * NICs pays for them. */
static int on_update_network(const struct request *r, vc_error **err) {
  struct vc_net_info *plan = xcalloc(1, sizeof(*plan));
  int ret = vc_net_msg_to_plan(r->params, plan, err);
  if (ret == 0 && plan->n_links > 0)
    ret = agent_net_load_modules(err);
  if (ret == 0)
    ret = agent_net_loopback_up(err);
  /* A hot-plugged NIC takes a moment to be probed. */
  if (ret == 0)
    ret = agent_net_configure(plan, 10000, err);
  free(plan);
  if (ret < 0 && err != NULL && *err != NULL && (*err)->errnum == 0)
    (*err)->errnum = EINVAL;
  return ret;
}

static int on_online(const struct request *r, vc_error **err) {
  return agent_online_resources(r->params, r->result, err);
}

static int on_destroy(const struct request *r, vc_error **err) {
  r->a->shutdown = true;
  return 0;
}

/* Indexed by enum vc_agent_method; WaitProcess answers later (flush_waits). */
static const struct {
  handler_fn fn;
  bool deferred;
} handlers[VC_AGENT_N_METHODS] = {
    [VC_AGENT_HELLO] = {on_hello, false},
    [VC_AGENT_CREATE_CONTAINER] = {on_create, false},
    [VC_AGENT_START_CONTAINER] = {on_start, false},
    [VC_AGENT_EXEC_PROCESS] = {on_exec, false},
    [VC_AGENT_ATTACH_STDIO] = {on_attach, false},
    [VC_AGENT_RESIZE_TERMINAL] = {on_resize, false},
    [VC_AGENT_WAIT_PROCESS] = {on_wait, true},
    [VC_AGENT_SIGNAL_PROCESS] = {on_signal, false},
    [VC_AGENT_STATE_CONTAINER] = {on_state, false},
    [VC_AGENT_LIST_PROCESSES] = {on_list, false},
    [VC_AGENT_PAUSE_CONTAINER] = {on_pause, false},
    [VC_AGENT_RESUME_CONTAINER] = {on_resume, false},
    [VC_AGENT_UPDATE_CONTAINER] = {on_update, false},
    [VC_AGENT_STATS_CONTAINER] = {on_stats, false},
    [VC_AGENT_DELETE_CONTAINER] = {on_delete, false},
    [VC_AGENT_DESTROY_SANDBOX] = {on_destroy, false},
    [VC_AGENT_UPDATE_NETWORK] = {on_update_network, false},
    [VC_AGENT_RESEED_GUEST] = {on_reseed, false},
    [VC_AGENT_ONLINE_RESOURCES] = {on_online, false},
};

static void handle_request(struct agent *a, struct agent_conn *conn,
                           uint32_t stream, const char *body) {
  enum vc_agent_method m;
  void *params = NULL;
  int code = 0;
  vc_error *err = NULL;
  if (vc_proto_decode_request(body, &m, &params, &code, &err) < 0) {
    reply_error(a, conn, stream, code, err->msg);
    vc_error_free(&err);
    return;
  }
  const struct vc_proto_msg *resp = vc_agent_methods[m].response;
  void *result = xcalloc(1, resp->size);
  struct request r = {a, conn, stream, params, result};
  if (handlers[m].fn(&r, &err) < 0) {
    /* errnum travels as the code; the text is for people. */
    reply_error(a, conn, stream, err && err->errnum ? err->errnum : EIO,
                err ? err->msg : "failed");
    vc_error_free(&err);
  } else if (!handlers[m].deferred) {
    reply_result(a, conn, stream, m, result);
  }
  vc_proto_msg_free(resp, result);
  free(result);
  vc_proto_msg_free(vc_agent_methods[m].request, params);
  free(params);
}

static void handle_data(struct agent *a, struct agent_conn *conn,
                        const struct vc_frame_header *h, const char *body) {
  if ((h->flags & VC_DATA_FD_MASK) != 0)
    return; /* only stdin flows towards the guest */
  FOR_EACH_PROC(a, c, p) {
    if (p->stdio_conn == conn && p->stdio_stream == h->stream)
      on_stdin_data(a, p, body, h->length, h->flags & VC_DATA_EOF);
  }
}

static void conn_close(struct agent *a, struct agent_conn *conn) {
  /* Forget everything that pointed at this connection. */
  FOR_EACH_PROC(a, c, p) {
    if (p->stdio_conn == conn) {
      p->stdio_conn = NULL;
      proc_close_stdin(a, p);
      /* The host process holding the init's stdio (its shim, or vcrun run)
       * stands for the init on the host, the pid engines watch: with it
       * gone the container ends, as a runc container whose init dies,
       * rather than run on unseen. */
      if (p == &c->init && !p->exited && p->pid > 0)
        kill(p->pid, SIGKILL);
      resume_output(a, p); /* its output now goes nowhere: drain it */
    }
  }
  struct pending_wait **pp = &a->waits;
  while (*pp) {
    if ((*pp)->conn == conn) {
      struct pending_wait *w = *pp;
      *pp = w->next;
      free(w);
    } else {
      pp = &(*pp)->next;
    }
  }
  for (struct agent_conn **cp = &a->conns; *cp; cp = &(*cp)->next) {
    if (*cp == conn) {
      *cp = conn->next;
      break;
    }
  }
  epoll_ctl(a->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  close(conn->fd);
  vc_frame_decoder_free(&conn->dec);
  vc_frame_queue_free(&conn->out);
  free(conn);
}

static void on_conn_readable(struct agent *a, struct agent_conn *conn) {
  vc_error *err = NULL;
  /* Straight into the decoder, and DATA bodies go to the pipes from there:
   * no copy through the stack, no allocation per frame. */
  uint8_t *room = vc_frame_decoder_space(&conn->dec, IO_CHUNK, &err);
  if (room == NULL)
    goto bad;
  ssize_t n = recv(conn->fd, room, IO_CHUNK, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    conn->dead = true;
    return;
  }
  if (vc_frame_decoder_commit(&conn->dec, (size_t)n, &err) < 0)
    goto bad;
  for (;;) {
    struct vc_frame_header h;
    const char *view = NULL;
    int r = vc_frame_decoder_view(&conn->dec, &h, &view, &err);
    if (r < 0)
      goto bad;
    if (r == 0)
      break;
    if (h.type == VC_FRAME_REQUEST) {
      /* JSON is parsed from a NUL-terminated copy. */
      char *body = xcalloc(1, (size_t)h.length + 1);
      memcpy(body, view, h.length);
      handle_request(a, conn, h.stream, body);
      free(body);
    } else if (h.type == VC_FRAME_DATA) {
      handle_data(a, conn, &h, view);
    }
  }
  return;
bad:
  agent_log("dropping host connection: %s", err->msg);
  vc_error_free(&err);
  conn->dead = true;
}

/* The host took some of the queued output: send more, and let the
 * processes that waited for room write again. */
static void on_conn_writable(struct agent *a, struct agent_conn *conn) {
  vc_error *err = NULL;
  if (vc_frame_queue_flush(&conn->out, conn->fd, &err) < 0) {
    agent_log("send to host: %s", err->msg);
    vc_error_free(&err);
    conn->dead = true;
    return;
  }
  conn_update_events(a, conn);
  resume_outputs_of(a, conn);
}

static void on_accept(struct agent *a) {
  int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  size_t n = 0;
  for (struct agent_conn *c = a->conns; c; c = c->next)
    n++;
  if (n >= MAX_CONNS) {
    close(fd);
    return;
  }
  struct agent_conn *conn = xcalloc(1, sizeof(*conn));
  conn->fd = fd;
  conn->reading = true;
  conn->events = EPOLLIN;
  conn->next = a->conns;
  a->conns = conn;
  ev_set(a, EPOLL_CTL_ADD, fd, EPOLLIN, &conn->tag, EV_CONN, conn);
}

static int listen_vsock(vc_error **err) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return vc_error_set(err, errno, "socket(AF_VSOCK)");
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK,
                             .svm_cid = VMADDR_CID_ANY,
                             .svm_port = VC_AGENT_VSOCK_PORT};
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(fd, 64) < 0) {
    int e = errno;
    close(fd);
    return vc_error_set(err, e, "listen on vsock port %u", VC_AGENT_VSOCK_PORT);
  }
  return fd;
}

/* True when word is one of the kernel command line's words. */
static bool kernel_cmdline_has(const char *word) {
  char buf[4096];
  cleanup_close int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (n <= 0)
    return false;
  buf[n] = '\0';
  for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w != NULL;
       w = strtok_r(NULL, " \n", &save))
    if (strcmp(w, word) == 0)
      return true;
  return false;
}

static _Noreturn void power_off(void) {
  sync();
  reboot(RB_POWER_OFF);
  for (;;)
    pause();
}

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "vcrun-agent runs as PID 1 of a vcrun guest\n");
    return 1;
  }
  guest_init();

  struct agent a = {.listen_fd = -1, .signal_fd = -1};
  vc_error *err = NULL;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  a.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  a.epfd = epoll_create1(EPOLL_CLOEXEC);
  a.listen_fd = listen_vsock(&err);
  if (a.listen_fd < 0 || a.signal_fd < 0 || a.epfd < 0) {
    agent_log("fatal: %s", err ? err->msg : strerror(errno));
    power_off();
  }
  a.template_vm = kernel_cmdline_has("vcrun.template");
  /* The host waits for this line on the console before it saves a
   * template (it has no other channel to the guest then). */
  agent_log("listening on vsock port %u", VC_AGENT_VSOCK_PORT);
  struct ev_tag listen_tag, signal_tag;
  ev_set(&a, EPOLL_CTL_ADD, a.listen_fd, EPOLLIN, &listen_tag, EV_LISTEN, NULL);
  ev_set(&a, EPOLL_CTL_ADD, a.signal_fd, EPOLLIN, &signal_tag, EV_SIGNAL, NULL);

  while (!a.shutdown) {
    struct epoll_event evs[32];
    int n = epoll_wait(a.epfd, evs, 32, -1);
    if (n < 0 && errno == EINTR)
      continue;
    for (int i = 0; i < n; i++) {
      struct ev_tag *t = evs[i].data.ptr;
      switch (t->kind) {
      case EV_LISTEN:
        on_accept(&a);
        break;
      case EV_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(a.signal_fd, &si, sizeof(si)) > 0)
          ;
        reap_children(&a);
        break;
      }
      case EV_CONN: {
        struct agent_conn *conn = t->ptr;
        if (conn->dead)
          break;
        if (evs[i].events & EPOLLOUT)
          on_conn_writable(&a, conn);
        if (conn->reading && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
          on_conn_readable(&a, conn);
        else if (evs[i].events & (EPOLLHUP | EPOLLERR))
          conn->dead = true; /* gone while we did not read it */
        break;
      }
      case EV_STDOUT:
      case EV_STDERR: {
        struct agent_proc *p = t->ptr;
        int *fd = t->kind == EV_STDOUT ? &p->stdout_fd : &p->stderr_fd;
        if (*fd >= 0)
          pump_output(&a, p, t->kind == EV_STDOUT ? 1 : 2);
        break;
      }
      case EV_STDIN: {
        struct agent_proc *p = t->ptr;
        if (p->stdin_fd >= 0)
          pump_stdin(&a, p);
        break;
      }
      }
    }
    /* Close dead connections after the batch, so no event in it refers to
     * freed memory.  A process deleted in this batch may still have had an
     * event queued: DeleteContainer is answered after its batch, too. */
    for (struct agent_conn *c = a.conns, *next; c; c = next) {
      next = c->next;
      if (c->dead)
        conn_close(&a, c);
    }
    while (a.graveyard) {
      struct agent_container *c = a.graveyard;
      a.graveyard = c->next;
      container_free(&a, c);
    }
  }
  FOR_EACH_PROC(&a, c, p) {
    if (!p->exited)
      kill(p->pid, SIGKILL);
  }
  power_off();
}
