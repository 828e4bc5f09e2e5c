/* The per-sandbox directory that virtiofsd exports into the guest:
 *   <run dir>/shared/<name>/rootfs      the bundle's rootfs, bound
 *   <run dir>/shared/<name>/mounts/<N>  the host source of mounts[N]
 * (<name>: the container's share name, lib/container.h, new for every
 * create)
 *                                          (none for a source below the
 *                                          rootfs: oci_mount_source_in_root)
 * After Kata's shared directory.  Everything under it is a bind mount in
 * the host's mount namespace, made inside a mount of its own (private, then
 * shared with nothing but virtiofsd's copy) so none of it propagates into
 * the host's other mounts. */
#ifndef VC_SHARE_H
#define VC_SHARE_H

#include "lib/base/error.h"
#include "oci/spec.h"

/* <sandbox dir>/shared; the caller frees it. */
char *vc_share_dir(const char *sandbox_dir);

/* Checks root.path as runc 1.1 does, before anything starts: joined is it
 * as written (made absolute from the bundle), resolved its realpath.  A
 * path through a symlink is refused, not followed, and so is one that is
 * not a directory; errors name config_path and root.path. */
int vc_share_check_rootfs(const char *joined, const char *resolved,
                          const char *config_path, vc_error **err);

/* Checks that every bind mount's source exists (relative sources are
 * relative to the bundle, as runc resolves them), naming mounts[N].source
 * in the error; one below the rootfs is left to the agent.  Refused too,
 * as nothing in the VM could use them: a unix socket or FIFO (virtio-fs
 * gives the guest its own), and a path through a process's links in /proc
 * (/proc/self/fd/N would be vcrun's own file descriptors).  Nothing is
 * touched. */
int vc_share_check_sources(const struct oci_spec *spec, const char *bundle,
                           const char *config_path, vc_error **err);

/* Creates share_dir as a mount of its own, shared with nothing but the
 * copies made of it later (virtiofsd's). */
int vc_share_create(const char *share_dir, vc_error **err);

/* Binds a container's rootfs and each bind mount's source under
 * share_dir/<cid> (cid: the share name); works before and after virtiofsd started.  On failure
 * what was mounted is unmounted again. */
int vc_share_add(const char *share_dir, const char *cid, const char *rootfs,
                 const char *bundle, const struct oci_spec *spec,
                 vc_error **err);

/* Unmounts and removes share_dir/<cid> (a pod member leaving). */
int vc_share_remove(const char *share_dir, const char *cid, vc_error **err);

/* Unmounts share_dir and everything under it, then removes it.  Refuses to
 * remove anything while a mount is still left below it (the rootfs must
 * never be deleted through its bind mount). */
int vc_share_teardown(const char *share_dir, vc_error **err);

#endif
