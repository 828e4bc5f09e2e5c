/* The process table `vcrun ps` prints: what runc prints by running the
 * host's ps (`-ef`, or the ps options given after the id) over the
 * container's processes.  vcrun's live in the guest, where there is no ps,
 * so the agent sends each process's fields and the columns are formatted
 * here as procps does, for the common options (-e, -A, -f, -o; others are
 * refused, see docs/deviations.md). */
#ifndef VC_PS_TABLE_H
#define VC_PS_TABLE_H

#include "lib/base/agent_proto.h"
#include "lib/base/error.h"

struct vc_ps_layout;

/* The columns ps's options (argv, after the id) ask for; -ef's without
 * any.  An option vcrun does not format, or no PID column, is an error. */
int vc_ps_layout_parse(int argc, char **argv, struct vc_ps_layout **layout,
                       vc_error **err);
/* Prints the header and a row per process on stdout. */
void vc_ps_print(const struct vc_ps_layout *layout,
                 const struct vc_msg_process_list *list);
void vc_ps_layout_free(struct vc_ps_layout *layout);

#endif
