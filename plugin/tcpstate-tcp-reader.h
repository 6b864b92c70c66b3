/* tcpstate-tcp-reader.h: the TCP header reader, a small dissector in front of TCP in the
 * "ip.proto" table that notes each TCP header of a frame on the first pass, as a segment
 * for the tracker (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_TCP_READER_H
#define TCPSTATE_TCP_READER_H

#include <glib.h>

#include <epan/packet.h>

#include "tcpstate.h"

/* Why a TCP layer is not tracked: it is malformed (an invalid flag combination on an
 * unknown tuple is shown as the tracker's bad_flags event instead). */
typedef enum {
    TCPSTATE_BAD_HDR_LEN,   /* TCP header length below 20 bytes */
    TCPSTATE_BAD_TRUNCATED, /* header fields or segment length missing */
    TCPSTATE_BAD_ZERO_PORT, /* source or destination port 0 */
    TCPSTATE_BAD_FLAGS,     /* invalid flags, no connection: the tracker keeps nothing */
    TCPSTATE_BAD_COUNT
} tcpstate_bad_reason;

/* A TCP layer of a frame. */
typedef struct {
    tcps_segment seg; /* but for time_ns and frame, which the postdissector sets */
    gint bad;         /* -1 for a segment to track, else its tcpstate_bad_reason */
} tcpstate_layer;

/* What the reader keeps for one capture. */
typedef struct tcpstate_reader {
    GArray *pending;        /* tcpstate_layer of pending_frame, in order; NULL between captures */
    guint32 pending_frame;  /* frame the pending layers belong to */
    guint32 pending_zone;   /* TCP layers seen in pending_frame, ICMP-quoted ones too */
    guint32 last_fed_frame; /* highest frame handed over (tcpstate_reader_first_visit) */
} tcpstate_reader;

/* Start and end of a capture. */
void tcpstate_reader_init(tcpstate_reader *r);
void tcpstate_reader_free(tcpstate_reader *r);

/* In the plugin's handoff: puts a dissector with callback shim in front of TCP in
 * "ip.proto"; shim calls tcpstate_reader_dissect() with the capture's reader. */
void tcpstate_reader_handoff(dissector_t shim);

/* Notes the TCP header at the start of tvb on the first pass, then hands the segment to the
 * TCP dissector unchanged. */
int tcpstate_reader_dissect(tcpstate_reader *r, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                            void *data);

/* From the postdissector: TRUE the first time it sees frame pinfo on the first pass, and
 * then its TCP layers are noted; the reader notes no more layers of that frame. */
gboolean tcpstate_reader_first_visit(tcpstate_reader *r, const packet_info *pinfo);

/* The layers (tcpstate_layer) noted for frame, or NULL if those noted are of another
 * frame; tcpstate_reader_clear() empties them. */
GArray *tcpstate_reader_layers(tcpstate_reader *r, guint32 frame);
void tcpstate_reader_clear(tcpstate_reader *r);

#endif /* TCPSTATE_TCP_READER_H */
