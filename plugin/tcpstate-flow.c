/* tcpstate-flow.c: the "TCP state" flow type of the Flow Graph.
 *
 * Statistics > Flow Graph, Flow type "TCP state", and tshark -q -z flow,tcpstate,standard:
 * one arrow per tracked segment, labelled "<left state>  <flags>  <right state>" with
 * the state of the endpoint drawn on the left first, so the ladder reads like the
 * RFC 9293 figures (handshake 3.5, close 3.6); the comment repeats the states by
 * role ("C:FIN_WAIT_1 S:CLOSE_WAIT") with the payload length and the segment's events,
 * for tshark's text graph, which cuts labels at the width between two nodes. The states
 * are the best known (tcpstate_tap_info.best): hindsight in the GUI and tshark -2, causal
 * in one-pass tshark. Arrows take the packet's coloring rule (the "TCP State" profile's).
 *
 * epan/sequence_analysis.h is not installed by Wireshark's development packages: the
 * few declarations used are mirrored here, per version.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include <glib.h>

#include <ws_symbol_export.h>

#include <epan/address.h>
#include <epan/packet.h>
#include <epan/tap.h>

#include "tcpstate-compat.h"
#include "tcpstate-tap.h"
#include "tcpstate-text.h"

/* ---- Mirror of epan/sequence_analysis.h (tcpstate_sa_bool: tcpstate-compat.h) ---------- */

#define TCPSTATE_SA_MAX_NUM_NODES 40

typedef struct {
    guint32 frame_number;
    address src_addr;
    guint16 port_src;
    address dst_addr;
    guint16 port_dst;
    gchar *frame_label; /* above the arrow */
    gchar *time_str;
    gchar *comment; /* right of the graph */
    guint16 conv_num;
    unsigned fg_color;
    unsigned bg_color;
    tcpstate_sa_bool has_color_filter;
    tcpstate_sa_bool display;
    guint src_node;
    guint dst_node;
    guint16 line_style;
    guint32 info_type;
    gpointer info_ptr;
} tcpstate_sa_item;

typedef struct {
    const char *name;
    tcpstate_sa_bool any_addr;
    int nconv;
    GQueue *items;
    GHashTable *ht;
    address nodes[TCPSTATE_SA_MAX_NUM_NODES];
    guint32 num_nodes;
} tcpstate_sa_info;

WS_DLL_PUBLIC void register_seq_analysis(const char *name, const char *ui_name, const int proto_id,
                                         const char *tap_listener, guint tap_flags,
                                         tap_packet_cb tap_func);
WS_DLL_PUBLIC tcpstate_sa_item *sequence_analysis_create_sai_with_addresses(
    packet_info *pinfo, tcpstate_sa_info *sainfo);
WS_DLL_PUBLIC void sequence_analysis_use_color_filter(packet_info *pinfo, tcpstate_sa_item *sai);

/* ---- Left and right ------------------------------------------------------------------- */

/* The graph's columns are addresses in order of first appearance (source, then
 * destination, item by item: sequence_analysis_get_nodes()). To put each state on its
 * endpoint's side, the order is followed here as items are added; per graph, and
 * started again when the graph's item list is emptied (a new tap run). */
typedef struct {
    GArray *nodes; /* address, copied */
} flow_nodes;

static GHashTable *nodes_by_graph; /* tcpstate_sa_info * -> flow_nodes */

static void flow_nodes_clear(flow_nodes *fn) {
    for (guint i = 0; i < fn->nodes->len; i++)
        free_address(&g_array_index(fn->nodes, address, i));
    g_array_set_size(fn->nodes, 0);
}

static int node_index(flow_nodes *fn, const address *a) {
    address copy;

    for (guint i = 0; i < fn->nodes->len; i++) {
        if (addresses_equal(&g_array_index(fn->nodes, address, i), a))
            return (int)i;
    }
    copy_address(&copy, a);
    g_array_append_val(fn->nodes, copy);
    return (int)fn->nodes->len - 1;
}

static flow_nodes *graph_nodes(tcpstate_sa_info *sainfo) {
    flow_nodes *fn;

    if (nodes_by_graph == NULL)
        nodes_by_graph = g_hash_table_new(g_direct_hash, g_direct_equal);
    fn = (flow_nodes *)g_hash_table_lookup(nodes_by_graph, sainfo);
    if (fn == NULL) {
        fn = g_new0(flow_nodes, 1);
        fn->nodes = g_array_new(FALSE, FALSE, (guint)sizeof(address));
        g_hash_table_insert(nodes_by_graph, sainfo, fn);
    }
    if (sainfo->items == NULL || g_queue_is_empty(sainfo->items))
        flow_nodes_clear(fn);
    return fn;
}

/* ---- Labels and comments -------------------------------------------------------------- */

/* The label above an arrow: "<left state>  <flags>  <right state>", the segment between the
 * states of its two endpoints as in RFC 9293's figures ("FIN_WAIT_1  FIN,ACK  CLOSE_WAIT").
 * It must fit between two nodes of Wireshark's default window (750 x 550, the Flow Graph
 * dialog as wide: 15 em of the graph's font between nodes, where Wireshark cuts a longer
 * label with "..."): at most about 35 characters. So the flags are written without spaces
 * and only those of the state machine and the sender (SYN, FIN, RST, PSH, ACK, URG: not the
 * ECN bits, which change no state), and the payload length goes to the comment. */
static char *flow_label(guint8 left_state, guint8 flags, guint8 right_state) {
    char *fl = tcpstate_flags_str(NULL, (uint8_t)(flags & ~(TCPS_ECE | TCPS_CWR)));
    char *label = g_strdup_printf("%s  %s  %s", tcps_state_name(left_state), fl,
                                  tcps_state_name(right_state));

    wmem_free(NULL, fl);
    return label;
}

/* The comment right of the graph: the states by role, the payload length and the events:
 * "C:ESTABLISHED S:ESTABLISHED Len=100", "C:FIN_WAIT_1 S:CLOSE_WAIT active_close". */
static char *flow_comment(const guint8 states[2], const tcpstate_rec *rec) {
    char *ev = tcpstate_events_str(NULL, rec->events, " ", "");
    GString *s = g_string_new(NULL);

    g_string_printf(s, "C:%s S:%s", tcps_state_name(states[TCPS_CLIENT]),
                    tcps_state_name(states[TCPS_SERVER]));
    if (rec->len)
        g_string_append_printf(s, " Len=%u", rec->len);
    if (*ev)
        g_string_append_printf(s, " %s", ev);
    wmem_free(NULL, ev);
    return g_string_free(s, FALSE);
}

/* ---- The tap callback ----------------------------------------------------------------- */

static tap_packet_status flow_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                     const void *data, tap_flags_t flags _U_) {
    tcpstate_sa_info *sainfo = (tcpstate_sa_info *)tapdata;
    const tcpstate_tap_info *ti = (const tcpstate_tap_info *)data;
    const tcpstate_rec *rec = &ti->rec;
    tcpstate_sa_item *sai;
    flow_nodes *fn;
    int src, dst, left;

    if (rec->conn_id == 0)
        return TAP_PACKET_DONT_REDRAW;
    fn = graph_nodes(sainfo);
    sai = sequence_analysis_create_sai_with_addresses(pinfo, sainfo);
    if (sai == NULL)
        return TAP_PACKET_DONT_REDRAW;
    src = node_index(fn, &sai->src_addr);
    dst = node_index(fn, &sai->dst_addr);
    /* The sender is drawn on the side of its address's column. */
    left = (src <= dst) == (rec->sender == TCPS_CLIENT) ? TCPS_CLIENT : TCPS_SERVER;

    sai->frame_number = pinfo->num;
    sai->port_src = (guint16)pinfo->srcport;
    sai->port_dst = (guint16)pinfo->destport;
    /* The states shown: hindsight once the capture has been read (the GUI, tshark -2). */
    sai->frame_label = flow_label(ti->best[left], rec->flags, ti->best[!left]);
    sai->comment = flow_comment(ti->best, rec);
    sai->line_style = 1;
    sai->conv_num = (guint16)rec->conn_id;
    sai->display = TRUE;
    sequence_analysis_use_color_filter(pinfo, sai);
    g_queue_push_tail(sainfo->items, sai);
    return TAP_PACKET_REDRAW;
}

void tcpstate_flow_register(int proto_tcpstate) {
    register_seq_analysis("tcpstate", "TCP state", proto_tcpstate, TCPSTATE_TAP_NAME,
                          TL_REQUIRES_NOTHING, flow_packet);
}
