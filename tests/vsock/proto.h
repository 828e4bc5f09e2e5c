/* What the e2e test's host driver and guest program say to each other over
 * each vsock stream, and the byte stream both sides can regenerate. */
#ifndef VC_TEST_VSOCK_PROTO_H
#define VC_TEST_VSOCK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_PORT 1024
/* The virtio-serial port of the --bench VM (virtserialport name=). */
#define SERIAL_PORT_NAME "vcbench"

enum {
  MODE_STREAM = 1,   /* both sides send `arg` bytes; guest answers status */
  MODE_DIE = 2,      /* guest reads `arg` bytes, then exits abruptly */
  MODE_CONNECT = 3,  /* guest connects to CID 2 port `arg` (see below) */
  MODE_ECHO = 4,     /* guest echoes `arg` bytes, or until EOF if 0 */
  MODE_POWEROFF = 5, /* guest powers the VM off */
  MODE_SINK = 6,     /* guest reads `arg` bytes, answers the u64 count */
  MODE_SOURCE = 7,   /* guest writes `arg` bytes */
};

/* The virtio-serial port carries the same requests, one after another on
 * the one channel, with modes ECHO (arg > 0), SINK and SOURCE only. */

/* First 16 bytes of every stream, host to guest. */
struct test_req {
  uint32_t mode, seed;
  uint64_t arg;
};

/* MODE_CONNECT: the guest opens CID 2 port `arg`, sends a struct test_req
 * {MODE_STREAM, seed, CONNECT_BYTES} and CONNECT_BYTES of stream(seed), and
 * expects back the 8-byte sum of those bytes.  It then reports a u32 status
 * on the original stream: 0 ok, 1 data mismatch, 2 connect refused. */
#define CONNECT_BYTES (1u << 20)

/* Host-to-guest data of stream `seed` is stream(2*seed), guest-to-host is
 * stream(2*seed+1). */
struct prng {
  uint64_t s;
  uint64_t word;
  unsigned pos; /* bytes of `word` used */
};

static inline void prng_init(struct prng *p, uint64_t seed) {
  p->s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
  if (p->s == 0)
    p->s = 1;
  p->word = 0;
  p->pos = 8;
}

static inline uint64_t prng_next(struct prng *p) {
  p->s ^= p->s >> 12;
  p->s ^= p->s << 25;
  p->s ^= p->s >> 27;
  return p->s * 0x2545F4914F6CDD1DULL;
}

/* Word at a time where possible: the guest runs this under TCG. */
static inline void prng_fill(struct prng *p, uint8_t *buf, size_t n) {
  size_t i = 0;
  while (i < n && p->pos < 8)
    buf[i++] = (uint8_t)(p->word >> (8 * p->pos++));
  for (; i + 8 <= n; i += 8) {
    uint64_t w = prng_next(p);
    __builtin_memcpy(buf + i, &w, 8);
  }
  if (i < n) {
    p->word = prng_next(p);
    p->pos = 0;
    while (i < n)
      buf[i++] = (uint8_t)(p->word >> (8 * p->pos++));
  }
}

#endif
