/* tmpcopyup: a tmpfs mounted over a directory starts with a copy of what
 * it covers, as runc does. */
#ifndef VC_AGENT_COPYUP_H
#define VC_AGENT_COPYUP_H

#include "lib/base/error.h"

/* Copies the tree under the directory src_dir_fd (files, directories,
 * symlinks, device nodes, with modes and owners) into dest_dir_fd. */
int agent_copy_tree(int src_dir_fd, int dest_dir_fd, vc_error **err);

#endif
