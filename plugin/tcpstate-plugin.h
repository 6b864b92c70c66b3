/* tcpstate-plugin.h: what the plugin's source files share (private to plugin/).
 *
 * packet-tcpstate.c (the postdissector) queues one tcpstate_tap_info per tracked TCP
 * layer on the "tcpstate" tap, on every pass, from the record stored on the first
 * pass; the statistics (tcpstate-stats.c), the connection table (tcpstate-conns.c)
 * and the flow graph (tcpstate-flow.c) listen to that tap and only present what the
 * tracker decided: no TCP reasoning here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_PLUGIN_H
#define TCPSTATE_PLUGIN_H

#include <stdint.h>

#include <epan/wmem_scopes.h>

#include "tcpstate.h"
#include "tcpstate-compat.h"

/* Name of the tap the postdissector queues tcpstate_tap_info on. */
#define TCPSTATE_TAP_NAME "tcpstate"

/* Payload of the "tcpstate" tap. rec is the tracker's record of the segment
 * (cert_before and ended are not kept: zero); flags and len are the segment's
 * TCP flags (TCPS_FIN ...) and payload length as fed to the tracker. */
typedef struct tcpstate_tap_info {
    tcps_record rec;
    uint8_t flags;
    uint32_t len;
} tcpstate_tap_info;

/* The tracker of the capture being dissected (NULL between files). Read only:
 * its connections (tcps_conn_count, tcps_conn_get) for the connection table. */
const tcps_tracker *tcpstate_tracker(void);

/* Registration, called once from the plugin's tap-listener registration. */
void tcpstate_stats_register(void);
void tcpstate_conns_register(void);
/* The flow graph registers with the protocol: called from proto_register_tcpstate. */
void tcpstate_flow_register(int proto_tcpstate);

/* Shared presentation helpers (tcpstate-conns.c). */

/* "10.99.1.1:40001" or "[fd99::1]:40001" for endpoint who (TCPS_CLIENT or
 * TCPS_SERVER) of a connection, allocated in scope. */
char *tcpstate_endpoint_str(wmem_allocator_t *scope, const tcps_conn_info *ci, int who);

/* "FIN, ACK" for TCP flags, allocated in scope; "<none>" without flags. */
char *tcpstate_flags_str(wmem_allocator_t *scope, uint8_t flags);

#endif /* TCPSTATE_PLUGIN_H */
