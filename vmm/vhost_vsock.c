#include "vmm/vhost_vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/vm_sockets.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/util.h"

bool vc_vhost_vsock_available(void) {
  return access(VC_VHOST_VSOCK_DEV, R_OK | W_OK) == 0;
}

int vc_vhost_vsock_reserve(uint64_t *cid, vc_error **err) {
  int fd = open(VC_VHOST_VSOCK_DEV, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return vc_error_set(err, errno, "open %s", VC_VHOST_VSOCK_DEV);
  /* Start at a random point so concurrent creates rarely collide, and walk
   * on from there; 0-2 are reserved (hypervisor, local, host). */
  uint64_t start = 3 + (uint64_t)(random() % 0xfffff);
  for (uint64_t i = 0; i < 4096; i++) {
    uint64_t candidate = start + i;
    if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &candidate) == 0) {
      *cid = candidate;
      return fd;
    }
    if (errno != EADDRINUSE) {
      int e = errno;
      close(fd);
      return vc_error_set(err, e, "reserve a vsock CID on %s", VC_VHOST_VSOCK_DEV);
    }
  }
  close(fd);
  return vc_error_set(err, EADDRINUSE, "no free vsock CID on %s",
                      VC_VHOST_VSOCK_DEV);
}

int vc_vsock_connect(uint64_t cid, uint32_t port, int timeout_ms,
                     vc_error **err) {
  long long deadline = vc_now_ms() + timeout_ms;
  int last = 0;
  do {
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return vc_error_set(err, errno, "socket(AF_VSOCK)");
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK,
                               .svm_cid = (unsigned)cid,
                               .svm_port = port};
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
      return fd;
    last = errno;
    close(fd);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  } while (vc_now_ms() < deadline);
  return vc_error_set(err, last, "connect to vsock CID %llu port %u",
                      (unsigned long long)cid, port);
}
