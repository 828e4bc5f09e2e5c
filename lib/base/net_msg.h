/* The pod network plan (struct vc_net_info, lib/base/netinfo.h) as the
 * agent protocol's UpdateNetwork request (lib/base/agent_proto.h) and back.
 * The host builds the request from its plan; the agent turns the request
 * it decoded into a plan for agent/network.h.  The request comes from the
 * host, but the agent still checks every count against the plan's arrays
 * and every address and MAC as it parses them. */
#ifndef VC_NET_MSG_H
#define VC_NET_MSG_H

#include "lib/base/agent_proto.h"
#include "lib/base/error.h"
#include "lib/base/netinfo.h"

/* Fills msg (zeroed by the caller) from plan: its links become interfaces
 * (name, MAC, MTU, addresses), its routes and neighbours follow in plan's
 * order.  msg owns what it holds: free it with vc_proto_msg_free(
 * vc_agent_methods[VC_AGENT_UPDATE_NETWORK].request, msg). */
void vc_net_msg_from_plan(const struct vc_net_info *plan,
                          struct vc_msg_update_network *msg);

/* Fills plan (zeroed here) from msg.  -1 with err naming the interface,
 * route or neighbour (and the field) that is malformed or one too many. */
int vc_net_msg_to_plan(const struct vc_msg_update_network *msg,
                       struct vc_net_info *plan, vc_error **err);

#endif
