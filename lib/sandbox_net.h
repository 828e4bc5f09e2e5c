/* A sandbox's pod network: the host network namespace the engine gave the
 * sandbox container (lib/pod.h vm_netns) mirrored into its VM, with the
 * building blocks of lib/host/netlink.h (scan, plan, attach, detach),
 * vmm/qemu_net.h (NICs cold or hot-plugged, through the hypervisor ops)
 * and the agent's UpdateNetwork (agent/network.h).
 *
 * When (lib/container.c decides, vc_sandbox_net_mode):
 *   - cold: the spec has no prestart/createRuntime hook (nothing can still
 *     fill the namespace) or the machine cannot hot-plug (microvm): the
 *     namespace is scanned and attached before the VM boots, the NICs are
 *     on QEMU's command line, and UpdateNetwork goes before CreateContainer;
 *   - hot: hooks may fill the namespace (nerdctl, docker-style CNI hooks),
 *     and they run once the container exists, as with runc: the VM boots,
 *     the container is created, the hooks run, then the namespace is
 *     scanned, attached, the NICs hot-plugged and UpdateNetwork sent, all
 *     before create returns (the container's init waits for start).
 * Either way the sandbox container uses the guest's own network namespace
 * (CreateContainer's vm_network), and pod members that name the same host
 * path join it.
 *
 * Ownership: what vcrun makes (taps, ingress qdiscs and their filters, a
 * macvtap and the link's changed MAC) is recorded in state.json before it
 * is made, and removed by vc_sandbox_net_detach once the VM is gone (delete,
 * delete --force after a kill -9, a failed create); the engine's namespace
 * and links stay as they were. */
#ifndef VC_SANDBOX_NET_H
#define VC_SANDBOX_NET_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "lib/base/error.h"
#include "lib/base/json_build.h"
#include "lib/base/netinfo.h"
#include "lib/host/netlink.h"
#include "vmm/hypervisor.h"

struct vc_sandbox;

struct vc_sandbox_net {
  enum vc_net_model model;
  struct vc_net_info *plan; /* what the guest gets; owned */
  struct vc_net_attachment att[VC_NET_MAX_LINKS]; /* att[i] mirrors
                                                     plan->links[i] */
  size_t n_att;
  /* cold path: the VM's command-line NICs (vm.cold_nics points here) */
  struct vc_vm_device cold[VC_NET_MAX_LINKS];
  char cold_ids[VC_NET_MAX_LINKS][24];
  char cold_macs[VC_NET_MAX_LINKS][18];
};

enum vc_sandbox_net_mode {
  VC_SANDBOX_NET_NONE, /* no host netns, or [network] model = "none" */
  VC_SANDBOX_NET_COLD,
  VC_SANDBOX_NET_HOT,
};

/* Which path a sandbox booted for a container takes (see above);
 * can_hotplug: a q35 machine with pcie_root_ports > 0. */
enum vc_sandbox_net_mode vc_sandbox_net_mode(const char *netns,
                                             const char *model,
                                             bool can_hotplug,
                                             bool has_create_hooks);

/* Scans sb->netns and plans what the VM gets, into a new sb->net with
 * model.  A link of a kind that cannot be mirrored fails naming it. */
int vc_sandbox_net_scan(struct vc_sandbox *sb, enum vc_net_model model,
                        vc_error **err);

/* Attaches each planned link, recording each attachment (persist, e.g. a
 * state save) before it is made and once all are.  On failure what was
 * attached is detached again and the records dropped. */
int vc_sandbox_net_attach(struct vc_sandbox *sb,
                          int (*persist)(void *arg, vc_error **err), void *arg,
                          vc_error **err);

/* Cold path: points sb->vm.cold_nics at the attachments' fds and MACs. */
void vc_sandbox_net_cold(struct vc_sandbox *sb);

/* Hot path: hot-plugs each attachment's fd as NIC nic<i> through the
 * hypervisor ops. */
int vc_sandbox_net_hotplug(struct vc_sandbox *sb, vc_error **err);

/* Closes vcrun's copies of the tap fds once QEMU holds its own. */
void vc_sandbox_net_close_fds(struct vc_sandbox *sb);

/* Sends the plan to the agent (UpdateNetwork): the guest finds each NIC by
 * MAC and gives it the link's name, MTU, addresses; then routes and
 * neighbours. */
int vc_sandbox_net_configure(struct vc_sandbox *sb, vc_error **err);

/* Undoes every recorded attachment in sb->netns (the VM must be gone, or
 * its NICs unplugged) and forgets them.  Best effort: goes on past
 * failures, reported in *err. */
int vc_sandbox_net_detach(struct vc_sandbox *sb, vc_error **err);

/* state.json: "network": {"model", "attachments": [...], "interfaces":
 * [...]} as a member of the open object; loaded back from the document's
 * "network" (absent: sb->net stays NULL). */
void vc_sandbox_net_save_json(const struct vc_sandbox_net *net, struct vc_jb *b);
int vc_sandbox_net_load_json(struct vc_sandbox *sb, yajl_val state,
                             const char *where, vc_error **err);

/* The sandbox's interfaces for `vcrun state`: an object {"model",
 * "interfaces": [{"name", "mac", "mtu", "addresses", "host_link",
 * "host_device"}]} written as a value. */
void vc_sandbox_net_state_json(const struct vc_sandbox_net *net,
                               struct vc_jb *b);

void vc_sandbox_net_free(struct vc_sandbox_net *net);

#endif
