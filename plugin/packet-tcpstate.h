/* packet-tcpstate.h: the tcpstate dissector, as the plugin's registration sees it: the
 * state of one capture, its start and end, and the postdissector (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_TCPSTATE_H
#define PACKET_TCPSTATE_H

#include <glib.h>

#include <epan/packet.h>

#include "tcpstate-store.h"
#include "tcpstate-tcp-reader.h"
#include "tcpstate.h"

/* Everything that lives as long as one dissection of a capture file (one set of
 * preferences): made by tcpstate_capture_init() from the init routine, freed by
 * tcpstate_capture_free() from the cleanup routine. */
typedef struct tcpstate_capture {
    tcps_tracker *tracker;  /* NULL between captures */
    tcpstate_store *store;  /* the records, by frame; NULL between captures */
    tcpstate_reader reader; /* the TCP layers of the frame being read, on the first pass */
} tcpstate_capture;

/* Registers the dissector's fields, subtrees and expert infos with protocol proto; tap is
 * the "tcpstate" tap it queues its records on. */
void tcpstate_dissector_register(int proto, int tap);

/* Start of a capture, with a tracker of configuration cfg; end of it. */
void tcpstate_capture_init(tcpstate_capture *c, const tcps_config *cfg);
void tcpstate_capture_free(tcpstate_capture *c);

/* The postdissector, for capture c: with info_column, the states are appended to the Info
 * column. */
int tcpstate_dissect(tcpstate_capture *c, gboolean info_column, tvbuff_t *tvb, packet_info *pinfo,
                     proto_tree *tree);

#endif /* PACKET_TCPSTATE_H */
