/* vcrun-vsock-backend: the per-VM vhost-user-vsock device daemon
 * (vmm/vsock_backend.h) as a program.  The QEMU backend starts it before
 * QEMU (vmm/qemu_daemons.c); it exits when QEMU disconnects.
 *
 *   vcrun-vsock-backend --vhost-user SOCKET --hybrid SOCKET [--cid N]
 *                       [--ready-fd FD]
 *
 * It is also the drain of the guest's serial console (vmm/console_log.h),
 * the other per-VM helper, which exits when QEMU closes the FIFO:
 *
 *   vcrun-vsock-backend --console-log FILE --fifo FIFO [--max-bytes N]
 *                       [--ready-fd FD]
 *
 * Exit status: 0 when QEMU went away, 1 on an error, 2 on a usage error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/error.h"
#include "vmm/console_log.h"
#include "vmm/vsock_backend.h"

#define NAME "vcrun-vsock-backend"

static int usage(const char *why) {
  fprintf(stderr,
          NAME ": %s\nusage: " NAME " --vhost-user SOCKET --hybrid SOCKET "
               "[--cid N] [--ready-fd FD]\n",
          why);
  return 2;
}

/* A decimal number in [min, max], the whole string. */
static bool parse_number(const char *text, unsigned long long min,
                         unsigned long long max, unsigned long long *out) {
  char *end = NULL;
  if (text[0] < '0' || text[0] > '9')
    return false;
  unsigned long long n = strtoull(text, &end, 10);
  if (*end != '\0' || n < min || n > max)
    return false;
  *out = n;
  return true;
}

int main(int argc, char **argv) {
  static const struct option options[] = {
      {"vhost-user", required_argument, NULL, 'u'},
      {"hybrid", required_argument, NULL, 'y'},
      {"cid", required_argument, NULL, 'c'},
      {"ready-fd", required_argument, NULL, 'r'},
      {"console-log", required_argument, NULL, 'l'},
      {"fifo", required_argument, NULL, 'f'},
      {"max-bytes", required_argument, NULL, 'm'},
      {NULL, 0, NULL, 0},
  };
  const char *console_log = NULL, *fifo = NULL;
  size_t max_bytes = VC_CONSOLE_LOG_MAX;
  struct vc_vsock_backend_opts o = {.guest_cid = 3, .ready_fd = -1};
  unsigned long long n = 0;
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (opt) {
    case 'u':
      o.vhost_user_socket = optarg;
      break;
    case 'y':
      o.hybrid_socket = optarg;
      break;
    case 'c':
      /* 0-2 are the hypervisor, local and host; the field is 32 bits. */
      if (!parse_number(optarg, 3, 0xffffffffULL, &n))
        return usage("--cid must be a number from 3 to 4294967295");
      o.guest_cid = n;
      break;
    case 'r':
      if (!parse_number(optarg, 0, 1 << 20, &n))
        return usage("--ready-fd must be a file descriptor number");
      o.ready_fd = (int)n;
      break;
    case 'l':
      console_log = optarg;
      break;
    case 'f':
      fifo = optarg;
      break;
    case 'm':
      if (!parse_number(optarg, 2, 1ULL << 40, &n))
        return usage("--max-bytes must be a number from 2");
      max_bytes = (size_t)n;
      break;
    default:
      return usage("unknown option or missing value");
    }
  }
  if (optind != argc)
    return usage("unexpected argument");
  vc_error *err = NULL;
  if (console_log != NULL || fifo != NULL) {
    if (console_log == NULL || fifo == NULL)
      return usage("--console-log and --fifo go together");
    if (vc_console_log_drain(fifo, console_log, max_bytes, o.ready_fd, &err) < 0) {
      fprintf(stderr, NAME ": %s\n", err != NULL ? err->msg : "failed");
      vc_error_free(&err);
      return 1;
    }
    return 0;
  }
  if (o.vhost_user_socket == NULL || o.hybrid_socket == NULL)
    return usage("--vhost-user and --hybrid are required");
  if (vc_vsock_backend_run(&o, &err) < 0) {
    fprintf(stderr, NAME ": %s\n", err != NULL ? err->msg : "failed");
    vc_error_free(&err);
    return 1;
  }
  return 0;
}
