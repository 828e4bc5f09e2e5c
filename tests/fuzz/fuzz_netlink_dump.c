/* Feeds arbitrary bytes to the rtnetlink dump parser as one recv()'s worth,
 * then to the plan, the way a scan uses them.  The parser must neither read
 * outside the buffer nor overflow its tables, and every failure must say
 * what it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/host/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of the exact size, so that ASan sees any read past the end. */
  uint8_t *buf = malloc(size ? size : 1);
  struct vc_net_info *info = calloc(1, sizeof(*info));
  struct vc_net_info *plan = calloc(1, sizeof(*plan));
  if (buf == NULL || info == NULL || plan == NULL)
    abort();
  memcpy(buf, data, size);
  vc_error *err = NULL;
  int r = vc_nl_parse_dump(buf, size, info, &err);
  if (r < 0 && (err == NULL || err->msg[0] == '\0'))
    abort();
  vc_error_free(&err);
  if (info->n_links > VC_NET_MAX_LINKS || info->n_routes > VC_NET_MAX_ROUTES ||
      info->n_neighs > VC_NET_MAX_NEIGHS)
    abort();
  vc_net_info_resolve(info);
  if (vc_net_plan(info, plan, &err) < 0 && err == NULL)
    abort();
  vc_error_free(&err);
  free(buf);
  free(info);
  free(plan);
  return 0;
}
