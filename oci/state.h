/* The OCI state document (runtime.md, "State"): what `vcrun state` prints
 * and what hooks get on stdin, on the host and in the guest alike. */
#ifndef VC_OCI_STATE_H
#define VC_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/spec.h"

struct oci_state {
  const char *oci_version;
  const char *id;
  const char *status; /* creating | created | running | paused | stopped */
  long long pid;
  const char *bundle;
  /* vcrun's additions, as runc prints them; NULL: left out. */
  const char *rootfs, *created, *owner;
  /* Annotations (from config.json) when with_annotations. */
  bool with_annotations;
  const struct oci_annotation *annotations;
  size_t n_annotations;
  /* vcrun's extension object ("vcrun": {...}) as JSON text, or NULL. */
  const char *vcrun;
};

/* The document as compact JSON (caller frees). */
char *oci_state_json(const struct oci_state *state);

#endif
