#include "oci/cgroups_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/util.h"

static const char *const field = "linux.cgroupsPath";

/* "/"-joined, without empty, "." or ".." parts: the cgroup must stay below
 * the root whatever the spec says. */
static int clean_path(const char *path, char **out, vc_error **err) {
  char *res = vc_path_clean(path);
  if (res == NULL)
    return vc_error_set(err, 0, "%s: \"%s\" must not contain \"..\"", field, path);
  if (res[0] == '\0') {
    free(res);
    return vc_error_set(err, 0, "%s: \"%s\" names the cgroup root", field, path);
  }
  *out = res;
  return 0;
}

/* systemd's slice naming: "a-b-c.slice" lives in "a.slice/a-b.slice/". */
static int expand_slice(const char *slice, char **out, vc_error **err) {
  size_t n = strlen(slice);
  const char *suffix = ".slice";
  if (n <= strlen(suffix) || strcmp(slice + n - strlen(suffix), suffix) != 0 ||
      strchr(slice, '/') != NULL)
    return vc_error_set(err, 0, "%s: invalid slice name \"%s\"", field, slice);
  if (strcmp(slice, "-.slice") == 0) {
    *out = xstrdup("");
    return 0;
  }
  size_t stem_len = n - strlen(suffix);
  cleanup_free char *stem = xasprintf("%.*s", (int)stem_len, slice);
  if (stem[0] == '-' || stem[stem_len - 1] == '-' || strstr(stem, "--") != NULL)
    return vc_error_set(err, 0, "%s: invalid slice name \"%s\"", field, slice);
  char *path = xstrdup("");
  for (size_t i = 0; i <= stem_len; i++) {
    if (stem[i] != '-' && stem[i] != '\0')
      continue;
    char *next = xasprintf("%s/%.*s.slice", path, (int)i, stem);
    free(path);
    path = next;
  }
  *out = path;
  return 0;
}

static int systemd_path(const char *id, const char *cg, char **out, vc_error **err) {
  cleanup_free char *spec = (cg == NULL || cg[0] == '\0')
                                ? xasprintf("system.slice:vcrun:%s", id)
                                : xstrdup(cg);
  char *first = strchr(spec, ':');
  char *second = first ? strchr(first + 1, ':') : NULL;
  if (second == NULL || strchr(second + 1, ':') != NULL)
    return vc_error_set(err, 0, "%s: expected cgroupsPath to be of format "
                        "\"slice:prefix:name\" for systemd cgroups, got \"%s\" "
                        "instead", field, cg);
  *first = *second = '\0';
  const char *slice = spec[0] ? spec : "system.slice";
  const char *prefix = first + 1, *name = second + 1;
  if (name[0] == '\0' || strchr(name, '/') != NULL || strchr(prefix, '/') != NULL)
    return vc_error_set(err, 0, "%s: invalid unit name in \"%s\"", field, cg);
  cleanup_free char *slice_path = NULL;
  if (expand_slice(slice, &slice_path, err) < 0)
    return -1;
  size_t name_len = strlen(name);
  bool is_slice = name_len > 6 && strcmp(name + name_len - 6, ".slice") == 0;
  cleanup_free char *unit = is_slice ? xstrdup(name)
                            : prefix[0] ? xasprintf("%s-%s.scope", prefix, name)
                                        : xasprintf("%s.scope", name);
  cleanup_free char *joined = xasprintf("%s/%s", slice_path, unit);
  return clean_path(joined, out, err);
}

int oci_cgroups_path(const char *id, const char *cgroups_path, bool systemd,
                     char **out, vc_error **err) {
  *out = NULL;
  if (systemd)
    return systemd_path(id, cgroups_path, out, err);
  if (cgroups_path == NULL || cgroups_path[0] == '\0')
    return clean_path(id, out, err);
  return clean_path(cgroups_path, out, err);
}
