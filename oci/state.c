#include "oci/state.h"

#include "lib/base/json_build.h"

char *oci_state_json(const struct oci_state *st) {
  struct vc_jb b = {0};
  vc_jb_open(&b, '{');
  vc_jb_key(&b, "ociVersion");
  vc_jb_str(&b, st->oci_version);
  vc_jb_key(&b, "id");
  vc_jb_str(&b, st->id);
  vc_jb_key(&b, "pid");
  vc_jb_int(&b, st->pid);
  vc_jb_key(&b, "status");
  vc_jb_str(&b, st->status);
  vc_jb_key(&b, "bundle");
  vc_jb_str(&b, st->bundle);
  const struct {
    const char *key, *value;
  } extra[] = {{"rootfs", st->rootfs}, {"created", st->created}, {"owner", st->owner}};
  for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
    if (extra[i].value == NULL)
      continue;
    vc_jb_key(&b, extra[i].key);
    vc_jb_str(&b, extra[i].value);
  }
  if (st->with_annotations) {
    vc_jb_key(&b, "annotations");
    vc_jb_open(&b, '{');
    for (size_t i = 0; i < st->n_annotations; i++) {
      vc_jb_key(&b, st->annotations[i].key);
      vc_jb_str(&b, st->annotations[i].value);
    }
    vc_jb_close(&b, '}');
  }
  if (st->vcrun != NULL) {
    vc_jb_key(&b, "vcrun");
    vc_jb_raw(&b, st->vcrun);
  }
  vc_jb_close(&b, '}');
  return vc_jb_take(&b);
}
