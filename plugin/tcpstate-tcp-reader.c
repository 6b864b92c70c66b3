/* tcpstate-tcp-reader.c: the TCP header reader (tcpstate-tcp-reader.h).
 *
 * The plugin reads each TCP header where the TCP dissector gets it: a small dissector takes
 * TCP's place in the "ip.proto" table (IPv4, IPv6 and their extension headers, tunnels
 * included), notes the header on the first pass and hands the segment to the TCP dissector
 * unchanged. Asking for TCP's fields instead (set_postdissector_wanted_hfids) makes
 * Wireshark build a protocol tree for every frame, which alone costs about 40% more time
 * when it would otherwise build none (tshark printing summary lines, -2).
 *
 * A layer is what TCP shows as fields: the rules below are those under which Wireshark
 * 4.0-4.6's TCP dissector adds tcp.srcport (4 bytes captured), tcp.seq_raw, tcp.flags,
 * tcp.window_size_value (16 bytes captured), tcp.len (not an IP fragment nor inside an
 * error packet, a reported length of at least the header length) and dissects the
 * options (tcp.options.wscale.shift).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include <epan/address.h>
#include <epan/ipproto.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <wsutil/pint.h>

#include "tcpstate-compat.h"
#include "tcpstate-tcp-reader.h"

static dissector_handle_t tcp_handle; /* what "ip.proto" 6 had before us: TCP */
static int proto_tcp = -1;
static int proto_icmp = -1;
static int proto_icmpv6 = -1;

/* TRUE if an ICMP or ICMPv6 layer is below the current one: a TCP header quoted in an
 * error, not a segment of a connection. */
static gboolean below_icmp(const packet_info *pinfo) {
    for (wmem_list_frame_t *f = wmem_list_head(pinfo->layers); f != NULL;
         f = wmem_list_frame_next(f)) {
        int proto = GPOINTER_TO_INT(wmem_list_frame_data(f));
        if (proto == proto_icmp || proto == proto_icmpv6)
            return TRUE;
    }
    return FALSE;
}

/* The window scale option of a TCP header of hdr_len bytes, as TCP's option walk finds it
 * (it stops at a malformed option or at the end of the captured bytes); -1 if none. */
static int8_t header_wscale(tvbuff_t *tvb, guint hdr_len, guint cap) {
    guint off = 20, left = hdr_len - 20;
    gboolean eol = FALSE;

    if (cap < 20) /* TCP reads the checksum and urgent pointer before the options */
        return -1;
    while (left > 0 && off < cap) {
        guint8 kind = TCPSTATE_TVB_U8(tvb, off);
        guint8 len;
        if (eol && kind != 0)
            return -1;
        left--;
        if (kind <= 1) { /* EOL, NOP */
            eol = eol || kind == 0;
            off++;
            continue;
        }
        if (left == 0 || off + 1 >= cap)
            return -1;
        len = TCPSTATE_TVB_U8(tvb, off + 1);
        left--;
        if (len < 2 || (guint)len - 2 > left)
            return -1;
        if (kind == 3 && len == 3)
            return off + 2 < cap ? (int8_t)TCPSTATE_TVB_U8(tvb, off + 2) : -1;
        if (off + len > cap) /* an option dissector would read past the captured bytes */
            return -1;
        off += len;
        left -= (guint)len - 2;
    }
    return -1;
}

/* The segment of the TCP header at the start of tvb: -1 if it is to be tracked, else why
 * it is not (tcpstate_bad_reason). */
static gint read_segment(tvbuff_t *tvb, const packet_info *pinfo, tcps_segment *seg) {
    guint cap = tvb_captured_length(tvb);
    guint reported = tvb_reported_length(tvb);
    guint hdr_len = cap >= 13 ? (guint)(TCPSTATE_TVB_U8(tvb, 12) >> 4) * 4 : 0;
    const address *src = &pinfo->net_src, *dst = &pinfo->net_dst;
    gboolean have_len = !pinfo->fragmented && !pinfo->flags.in_error_pkt && reported >= hdr_len;
    const guint8 *h;

    if (src->type == AT_IPv4 && dst->type == AT_IPv4 && src->len == 4 && dst->len == 4)
        seg->family = 4;
    else if (src->type == AT_IPv6 && dst->type == AT_IPv6 && src->len == 16 && dst->len == 16)
        seg->family = 6;
    if (seg->family == 0 || cap < 16 || !have_len || hdr_len < 20)
        return cap >= 16 && hdr_len < 20 ? TCPSTATE_BAD_HDR_LEN : TCPSTATE_BAD_TRUNCATED;
    memcpy(seg->src, src->data, (size_t)src->len);
    memcpy(seg->dst, dst->data, (size_t)dst->len);
    h = tvb_get_ptr(tvb, 0, 16); /* cap >= 16: one bounds check for the fixed fields */
    seg->sport = TCPSTATE_NTOH16(h);
    seg->dport = TCPSTATE_NTOH16(h + 2);
    if (seg->sport == 0 || seg->dport == 0)
        return TCPSTATE_BAD_ZERO_PORT;
    seg->seq = TCPSTATE_NTOH32(h + 4);
    seg->ack = TCPSTATE_NTOH32(h + 8);
    seg->flags = h[13];
    seg->win = TCPSTATE_NTOH16(h + 14);
    seg->len = reported - hdr_len;
    /* The tracker reads the option on a SYN only (tcps_segment.wscale). */
    seg->wscale = (seg->flags & TCPS_SYN) ? header_wscale(tvb, hdr_len, cap) : -1;
    return -1;
}

/* Notes the TCP layer starting at tvb, on the first pass. */
static void note_tcp_layer(tcpstate_reader *r, tvbuff_t *tvb, packet_info *pinfo) {
    tcpstate_layer layer;

    if (pinfo->num != r->pending_frame) {
        r->pending_frame = pinfo->num;
        r->pending_zone = 0;
        g_array_set_size(r->pending, 0);
    }
    if (tvb_captured_length(tvb) < 4 || !proto_is_protocol_enabled(find_protocol_by_id(proto_tcp)))
        return; /* TCP shows no port: not a layer */
    memset(&layer, 0, sizeof layer);
    layer.seg.zone = r->pending_zone++; /* keeps tunnelled and outer tuples apart */
    if (below_icmp(pinfo))
        return;
    layer.bad = read_segment(tvb, pinfo, &layer.seg);
    g_array_append_val(r->pending, layer);
}

int tcpstate_reader_dissect(tcpstate_reader *r, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree,
                            void *data) {
    if (!PINFO_FD_VISITED(pinfo) && pinfo->num > r->last_fed_frame && r->pending != NULL)
        note_tcp_layer(r, tvb, pinfo);
    return call_dissector_only(tcp_handle, tvb, pinfo, tree, data);
}

gboolean tcpstate_reader_first_visit(tcpstate_reader *r, const packet_info *pinfo) {
    if (PINFO_FD_VISITED(pinfo) || pinfo->num <= r->last_fed_frame)
        return FALSE;
    r->last_fed_frame = pinfo->num;
    return TRUE;
}

GArray *tcpstate_reader_layers(tcpstate_reader *r, guint32 frame) {
    return r->pending_frame == frame ? r->pending : NULL;
}

void tcpstate_reader_clear(tcpstate_reader *r) {
    g_array_set_size(r->pending, 0);
}

void tcpstate_reader_init(tcpstate_reader *r) {
    r->pending = g_array_new(FALSE, FALSE, (guint)sizeof(tcpstate_layer));
    r->pending_frame = 0;
    r->last_fed_frame = 0;
}

void tcpstate_reader_free(tcpstate_reader *r) {
    if (r->pending != NULL)
        g_array_free(r->pending, TRUE);
    r->pending = NULL;
    r->pending_frame = 0;
    r->last_fed_frame = 0;
}

void tcpstate_reader_handoff(dissector_t shim) {
    dissector_table_t ip_proto = find_dissector_table("ip.proto");
    dissector_handle_t handle;

    proto_tcp = proto_get_id_by_filter_name("tcp");
    proto_icmp = proto_get_id_by_filter_name("icmp");
    proto_icmpv6 = proto_get_id_by_filter_name("icmpv6");
    /* Built-in dissectors are handed off before plugins: TCP is in the table. */
    tcp_handle = ip_proto != NULL ? dissector_get_uint_handle(ip_proto, IP_PROTO_TCP) : NULL;
    if (tcp_handle == NULL || proto_tcp < 0)
        return; /* no TCP: nothing to track */
    /* No protocol of its own: no layer, never disabled (TCP still needs it when tcpstate
     * is); a description of its own, as Decode As wants one per dissector. */
    handle = create_dissector_handle_with_name_and_description(shim, -1, "tcpstate_tcp",
                                                               "TCP (and TCP State)");
    dissector_add_uint("ip.proto", IP_PROTO_TCP, handle);
}
