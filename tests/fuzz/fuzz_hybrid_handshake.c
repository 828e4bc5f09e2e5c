/* The hybrid-vsock handshake lines ("CONNECT <port>\n" read by the
 * back-end, "OK <port>\n" read by the host client) against a reference
 * written out here with strtoull: both parsers accept exactly the lines it
 * accepts, with the same port, and what they accept prints back to a line
 * they accept again.  The input is cut into lines as the readers do: at
 * each '\n', or after VC_HYBRID_LINE_MAX bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/hybrid_vsock.h"

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_hybrid_handshake: %s (line %d)\n", #cond,      \
              __LINE__);                                                   \
      abort();                                                             \
    }                                                                      \
  } while (0)

static bool reference(const char *prefix, const char *line, size_t len,
                      uint32_t *port) {
  size_t plen = strlen(prefix);
  if (len > VC_HYBRID_LINE_MAX || len < plen + 2 || len - plen - 1 > 10 ||
      memcmp(line, prefix, plen) != 0 || line[len - 1] != '\n')
    return false;
  char digits[16];
  size_t n = len - plen - 1;
  memcpy(digits, line + plen, n);
  digits[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (digits[i] < '0' || digits[i] > '9')
      return false;
  errno = 0;
  unsigned long long v = strtoull(digits, NULL, 10);
  if (errno != 0 || v > UINT32_MAX)
    return false;
  *port = (uint32_t)v;
  return true;
}

static void check(const char *prefix,
                  bool (*parse)(const char *, size_t, uint32_t *),
                  const char *line, size_t len) {
  uint32_t got = 7, want = 9;
  bool ok = parse(line, len, &got);
  REQUIRE(ok == reference(prefix, line, len, &want));
  if (!ok) {
    REQUIRE(got == 7); /* left alone */
    return;
  }
  REQUIRE(got == want);
  char again[VC_HYBRID_LINE_MAX + 1];
  int n = snprintf(again, sizeof(again), "%s%" PRIu32 "\n", prefix, got);
  uint32_t round = 0;
  REQUIRE(parse(again, (size_t)n, &round) && round == got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  /* The whole input as one line, whatever it holds. */
  check("CONNECT ", vc_hybrid_parse_connect, s, size);
  check("OK ", vc_hybrid_parse_ok, s, size);
  for (size_t off = 0; off < size;) {
    size_t left = size - off, len = 0;
    while (len < left && len < VC_HYBRID_LINE_MAX && s[off + len] != '\n')
      len++;
    if (len < left && len < VC_HYBRID_LINE_MAX)
      len++; /* the newline */
    /* A copy of exactly len bytes, so a read past the line shows. */
    char *line = malloc(len ? len : 1);
    memcpy(line, s + off, len);
    check("CONNECT ", vc_hybrid_parse_connect, line, len);
    check("OK ", vc_hybrid_parse_ok, line, len);
    free(line);
    off += len;
  }
  return 0;
}
