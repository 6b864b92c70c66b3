/* tcpstate-tap.h: the "tcpstate" tap, from the dissector to the statistics tree, the
 * connection table and the flow graph: its payload and its listeners (private to plugin/).
 *
 * packet-tcpstate.c queues one tcpstate_tap_info per tracked TCP layer, on every pass,
 * from the record stored on the first pass; the statistics (tcpstate-stats.c), the
 * connection table (tcpstate-conns.c) and the flow graph (tcpstate-flow.c) listen to it
 * and only present what the tracker decided: no TCP reasoning there.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_TAP_H
#define TCPSTATE_TAP_H

#include <stdint.h>

#include "tcpstate.h"

/* Name of the tap the dissector queues tcpstate_tap_info on. */
#define TCPSTATE_TAP_NAME "tcpstate"

/* A tracked TCP layer as the plugin keeps it: what the tracker's record (tcps_record) says
 * of the segment, but for what is not kept (cert_before, ended_before, ended), and the
 * segment's TCP flags and payload length as fed to the tracker. Index 0 = client,
 * 1 = server (TCPS_CLIENT, TCPS_SERVER). */
typedef struct tcpstate_rec {
    uint64_t events;       /* TCPS_EVENT_BIT(ev) set for each event */
    uint32_t conn_id;      /* 1, 2, ... in order of first segment */
    uint32_t entered[2];   /* frame where after[i] was entered */
    uint32_t len;          /* payload bytes */
    uint8_t before[2];     /* tcps_state just before the segment */
    uint8_t after[2];      /* tcps_state after it */
    uint8_t cert[2];       /* tcps_certainty of after[i] */
    uint8_t sender;        /* TCPS_CLIENT or TCPS_SERVER */
    uint8_t roles_assumed; /* 1 if client and server were guessed (no SYN seen) */
    uint8_t flags;         /* TCPS_FIN ... TCPS_CWR */
} tcpstate_rec;

/* Payload of the "tcpstate" tap. tracker is the capture's tracker, read only, for what a
 * record does not hold (tcps_conn_get: addresses, the states at a given time). It lives
 * until the capture file is closed or dissected again, and a listener's reset runs before
 * the packets of a new dissection: a listener may keep it from its packet callback to its
 * draw callback and forgets it in its reset. */
typedef struct tcpstate_tap_info {
    tcpstate_rec rec;
    const tcps_tracker *tracker;
    uint8_t best[2]; /* the states shown (tcpstate.best.*): the hindsight states on a later
                        pass (the whole capture read: tshark -2, the GUI), else rec.after */
} tcpstate_tap_info;

/* Registration of the listeners, called once from the plugin's tap-listener registration. */
void tcpstate_stats_register(void);
void tcpstate_conns_register(void);
/* The flow graph registers with the protocol: called from proto_register_tcpstate. */
void tcpstate_flow_register(int proto_tcpstate);

#endif /* TCPSTATE_TAP_H */
