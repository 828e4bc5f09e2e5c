/* syscall-errno NR...: makes each raw syscall NR (no arguments) and prints
 * "NR ERRNO" per line, 0 when the call succeeded.  The seccomp tests run it
 * in a container to see what a filter answers for a syscall number; it is
 * linked statically, as the test rootfs has no libc. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long nr = strtol(argv[i], NULL, 10);
    errno = 0;
    long rc = syscall(nr, 0, 0, 0, 0, 0, 0);
    printf("%ld %d\n", nr, rc < 0 ? errno : 0);
  }
  return 0;
}
