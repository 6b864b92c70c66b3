/* packet-tcpstate.c: the tcpstate dissector: the Wireshark user interface of the tracker.
 *
 * On the first pass the postdissector feeds the TCP headers of a frame (noted by the TCP
 * header reader, tcpstate-tcp-reader.c) to the tracker (tracker/tcpstate.h) and stores the
 * resulting records (tcpstate-store.c); on every pass it draws the "TCP State" tree, the
 * tcpstate.* fields, the expert infos and the Info column text from the stored records, and
 * queues them on the "tcpstate" tap, so one-pass tshark, tshark -2 and the GUI show the same
 * thing, but for the hindsight (tcpstate.hindsight.*) and the states shown (tcpstate.best.*,
 * the tap's best states), which are hindsight once the whole capture has been read (later
 * passes) and causal before. All TCP reasoning lives in the tracker; the plugin's
 * registration is in tcpstate-register.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include <epan/column-info.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "packet-tcpstate.h"
#include "tcpstate-store.h"
#include "tcpstate-tap.h"
#include "tcpstate-tcp-reader.h"
#include "tcpstate-text.h"
#include "tcpstate.h"

/* ---- Registered items ----------------------------------------------------------------- */

static int proto_tcpstate = -1;
static int tcpstate_tap = -1;

static int hf_tcpstate_conn = -1;
static int hf_tcpstate_sender = -1;
static int hf_tcpstate_states = -1;
static int hf_tcpstate_prev_states = -1;
static int hf_tcpstate_pair = -1; /* "FIN_WAIT_2 / CLOSE_WAIT", for the profile's column */
static int hf_tcpstate_changed = -1;
static int hf_tcpstate_roles_assumed = -1;
static int hf_tcpstate_event = -1;
static int hf_tcpstate_events = -1; /* "new_connection,refused", for scripts */
/* Per endpoint, index TCPS_CLIENT / TCPS_SERVER. */
static int hf_tcpstate_endpoint[2] = {-1, -1};
static int hf_tcpstate_state[2] = {-1, -1};
static int hf_tcpstate_prev[2] = {-1, -1};
static int hf_tcpstate_certainty[2] = {-1, -1};
static int hf_tcpstate_entered[2] = {-1, -1};
static int hf_tcpstate_hs_state[2] = {-1, -1};
static int hf_tcpstate_hs_states = -1;
static int hf_tcpstate_hs_prev_states = -1;
/* The states shown (best_states): hindsight once the capture has been read, else causal. */
static int hf_tcpstate_best_state[2] = {-1, -1};
static int hf_tcpstate_best_pair = -1;

static gint ett_tcpstate = -1;
static gint ett_tcpstate_client = -1;
static gint ett_tcpstate_server = -1;
static gint ett_tcpstate_hindsight = -1;

/* One expert field per tracker event, indexed by tcps_event. */
static expert_field ei_tcpstate_ev[TCPS_EVENT_COUNT];

/* The expert severity of a tracker event severity (tcps_event_severity). */
#define TCPSTATE_EI_SEVERITY(sev) ((sev) == 0 ? PI_CHAT : (sev) == 1 ? PI_NOTE : PI_WARN)

/* Wireshark's generic expert fields (_ws.expert and its message, severity and group) and
 * its expert tap, looked up at init: who else can see an expert info (expert_wanted). */
static int hf_ws_expert = -1;
static int hf_ws_expert_message = -1;
static int hf_ws_expert_severity = -1;
static int hf_ws_expert_group = -1;
static int expert_tap = -1;

/* Malformed TCP layers (tcpstate_bad_reason): not tracked. */
static expert_field ei_tcpstate_malformed_hdr_len = EI_INIT;
static expert_field ei_tcpstate_malformed_truncated = EI_INIT;
static expert_field ei_tcpstate_malformed_zero_port = EI_INIT;

/* ---- Value strings, from the tracker's X-macro lists ----------------------------------- */

/* clang-format would take each sentinel for a continuation of the X-macro line. */
/* clang-format off */
static const value_string tcpstate_state_vals[] = {
#define TCPSTATE_STATE_VAL(name, str) {TCPS_##name, str},
    TCPS_STATE_MAP(TCPSTATE_STATE_VAL)
#undef TCPSTATE_STATE_VAL
    {0, NULL},
};

static const value_string tcpstate_certainty_vals[] = {
#define TCPSTATE_CERT_VAL(name, str) {TCPS_CERT_##name, str},
    TCPS_CERTAINTY_MAP(TCPSTATE_CERT_VAL)
#undef TCPSTATE_CERT_VAL
    {0, NULL},
};

static const value_string tcpstate_event_vals[] = {
#define TCPSTATE_EVENT_VAL(name, tok, sev, desc) {TCPS_EV_##name, tok},
    TCPS_EVENT_MAP(TCPSTATE_EVENT_VAL)
#undef TCPSTATE_EVENT_VAL
    {0, NULL},
};
/* clang-format on */

static const value_string tcpstate_sender_vals[] = {
    {TCPS_CLIENT, "client"},
    {TCPS_SERVER, "server"},
    {0, NULL},
};

/* ---- First pass: TCP layers to stored records ----------------------------------------- */

/* The TCP layers the reader noted in the frame, fed to the tracker; their records stored. */
static void track_frame(tcpstate_capture *c, packet_info *pinfo) {
    GArray *layers;

    if (c->tracker == NULL || pinfo->flags.in_error_pkt)
        return;
    layers = tcpstate_reader_layers(&c->reader, pinfo->num);
    if (layers == NULL)
        return;
    for (guint i = 0; i < layers->len; i++) {
        tcpstate_layer *l = &g_array_index(layers, tcpstate_layer, i);
        tcps_record rec;
        if (l->bad >= 0) {
            tcpstate_store_add_bad(c->store, pinfo->num, (guint32)l->bad);
            continue;
        }
        if (pinfo->abs_ts.secs >= 0 && pinfo->abs_ts.nsecs >= 0)
            l->seg.time_ns = (uint64_t)pinfo->abs_ts.secs * G_GUINT64_CONSTANT(1000000000) +
                             (uint64_t)pinfo->abs_ts.nsecs;
        l->seg.frame = pinfo->num;
        if (tcps_process(c->tracker, &l->seg, &rec))
            tcpstate_store_add(c->store, &rec, &l->seg);
        else if (rec.events & TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS))
            tcpstate_store_add_bad(c->store, pinfo->num, TCPSTATE_BAD_FLAGS);
    }
    tcpstate_reader_clear(&c->reader);
}

/* ---- Every pass: stored records to tree, fields, columns ----------------------------- */

/* A record of the frame being dissected (tcpstate-tap.h). */
typedef struct {
    tcpstate_capture *capture;
    guint32 frame;
    gboolean have_entered; /* rec.entered filled (entry_entered) */
    tcpstate_rec rec;
} tcpstate_view;

/* Fills v->rec.entered. */
static void entry_entered(tcpstate_view *v) {
    if (v->have_entered)
        return;
    v->have_entered = TRUE;
    tcpstate_store_entered(v->capture->store, v->frame, &v->rec);
}

/* "10.99.1.1:40001" or "[fd99::1]:40001"; NULL if the tracker does not know the connection. */
static const char *endpoint_string(wmem_allocator_t *scope, const tcpstate_view *v, int who) {
    const tcps_tracker *tracker = v->capture->tracker;
    guint32 conn_id = v->rec.conn_id;
    tcps_conn_info ci;

    if (tracker == NULL || conn_id == 0 || !tcps_conn_get(tracker, conn_id - 1, 0, &ci))
        return NULL;
    return tcpstate_endpoint_str(scope, &ci, who);
}

/* " [C:FIN_WAIT_1->FIN_WAIT_2 S:CLOSE_WAIT]", handed to the column in one piece
 * (tcpstate_info_text). */
static void append_info(packet_info *pinfo, const tcpstate_rec *rec) {
    char buf[TCPSTATE_INFO_SIZE];

    if (pinfo->cinfo == NULL)
        return;
    tcpstate_info_text(buf, rec);
    col_append_lstr(pinfo->cinfo, COL_INFO, buf, COL_ADD_LSTR_TERMINATOR);
    col_set_fence(pinfo->cinfo, COL_INFO);
}

/* proto_field_is_referenced() for this plugin's fields without a call into Wireshark: it
 * runs about a dozen times a frame. The fields' header_field_info are looked up once, after
 * registration (cache_fields); a field outside the table takes the library's path. */
#define TCPSTATE_HFI_MAX 64
static int hfi_base = -1;
static header_field_info *hfi_cache[TCPSTATE_HFI_MAX];

static void cache_fields(const hf_register_info *hf, int n) {
    int base = G_MAXINT;

    for (int i = 0; i < n; i++)
        base = MIN(base, *hf[i].p_id);
    hfi_base = base;
    for (int i = 0; i < n; i++)
        if (*hf[i].p_id - base < TCPSTATE_HFI_MAX)
            hfi_cache[*hf[i].p_id - base] = proto_registrar_get_nth((guint)*hf[i].p_id);
}

static inline gboolean referenced(proto_tree *tree, int hf) {
    header_field_info *hfi;

    if (tree == NULL)
        return FALSE;
    if (PTREE_DATA(tree)->visible)
        return TRUE;
    hfi = hf >= hfi_base && hf - hfi_base < TCPSTATE_HFI_MAX ? hfi_cache[hf - hfi_base] : NULL;
    return hfi != NULL ? hfi->ref_type != HF_REF_TYPE_NONE : proto_field_is_referenced(tree, hf);
}

/* A generated integer item, added only where it can be seen or used: in a tree nobody sees,
 * Wireshark would fake an unreferenced item anyway (return the parent, keep nothing), so
 * skipping it changes nothing but the cost. */
static void add_gen_uint(proto_tree *tree, int hf, tvbuff_t *tvb, guint32 value) {
    if (referenced(tree, hf))
        proto_item_set_generated(proto_tree_add_uint(tree, hf, tvb, 0, 0, value));
}

static void add_gen_boolean(proto_tree *tree, int hf, tvbuff_t *tvb, gboolean value) {
    if (referenced(tree, hf))
        proto_item_set_generated(proto_tree_add_boolean(tree, hf, tvb, 0, 0, value));
}

static void add_endpoint_tree(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, tcpstate_view *v,
                              int who, gboolean visible) {
    static const char *const label[2] = {"Client", "Server"};
    const tcpstate_rec *rec = &v->rec;
    const char *endpoint = NULL;
    proto_tree *sub;
    proto_item *pi;

    if (referenced(tree, hf_tcpstate_entered[who]))
        entry_entered(v); /* else its item would not be created: no walk */
    if (referenced(tree, hf_tcpstate_endpoint[who]))
        endpoint = endpoint_string(pinfo->pool, v, who);
    if (visible) {
        char text[TCPSTATE_LABEL_SIZE];
        tcpstate_endpoint_label(
            text, label[who], endpoint != NULL ? endpoint : "?", rec->after[who],
            val_to_str_const(rec->cert[who], tcpstate_certainty_vals, "?"), rec->entered[who]);
        sub = proto_tree_add_subtree(tree, tvb, 0, 0,
                                     who == TCPS_CLIENT ? ett_tcpstate_client : ett_tcpstate_server,
                                     NULL, text);
    } else /* a text item in a tree nobody sees would not be created: its items go to tree */
        sub = tree;
    if (endpoint != NULL) {
        pi = proto_tree_add_string(sub, hf_tcpstate_endpoint[who], tvb, 0, 0, endpoint);
        proto_item_set_generated(pi);
    }
    add_gen_uint(sub, hf_tcpstate_state[who], tvb, rec->after[who]);
    add_gen_uint(sub, hf_tcpstate_prev[who], tvb, rec->before[who]);
    add_gen_uint(sub, hf_tcpstate_certainty[who], tvb, rec->cert[who]);
    if (v->have_entered)
        add_gen_uint(sub, hf_tcpstate_entered[who], tvb, rec->entered[who]);
}

/* Hindsight, known once the whole file was read: on later passes only (tshark -2, the
 * GUI after loading). Fills hb and ha and returns TRUE, or FALSE when there is none. */
static gboolean hindsight_states(packet_info *pinfo, const tcpstate_view *v, guint8 hb[2],
                                 guint8 ha[2]) {
    const tcpstate_rec *rec = &v->rec;
    int known;

    if (!PINFO_FD_VISITED(pinfo) || v->capture->tracker == NULL)
        return FALSE;
    known = tcps_hindsight(v->capture->tracker, rec->conn_id, v->frame, hb, ha);
    if (known == 2) { /* no later evidence: hindsight is the causal record */
        memcpy(hb, rec->before, 2);
        memcpy(ha, rec->after, 2);
    }
    return known != 0;
}

/* The states a frame is shown with (tcpstate.best.*, the "TCP State" profile's columns and
 * colors, the flow graph): hindsight where there is one (on a later pass: the whole capture
 * has been read), else the causal record. */
static void best_states(packet_info *pinfo, const tcpstate_view *v, guint8 after[2]) {
    guint8 hb[2];

    if (!hindsight_states(pinfo, v, hb, after))
        memcpy(after, v->rec.after, 2);
}

/* The hindsight subtree; computed only when shown or asked for (a filter, a column,
 * -T fields). */
static void add_hindsight(proto_tree *st, tvbuff_t *tvb, packet_info *pinfo, const tcpstate_view *v,
                          gboolean visible) {
    guint8 hb[2], ha[2];
    char text[TCPSTATE_LABEL_SIZE];
    proto_tree *ht;
    proto_item *pi;

    if (st == NULL)
        return;
    if (!visible && !referenced(st, hf_tcpstate_hs_state[0]) &&
        !referenced(st, hf_tcpstate_hs_state[1]) && !referenced(st, hf_tcpstate_hs_states) &&
        !referenced(st, hf_tcpstate_hs_prev_states))
        return;
    if (!hindsight_states(pinfo, v, hb, ha))
        return;
    tcpstate_hindsight_label(text, ha);
    ht = proto_tree_add_subtree(st, tvb, 0, 0, ett_tcpstate_hindsight, NULL, text);
    for (int i = 0; i < 2; i++) {
        pi = proto_tree_add_uint(ht, hf_tcpstate_hs_state[i], tvb, 0, 0, ha[i]);
        proto_item_set_generated(pi);
    }
    pi = proto_tree_add_string(ht, hf_tcpstate_hs_states, tvb, 0, 0,
                               tcpstate_pair_str(pinfo->pool, ha, "/"));
    proto_item_set_generated(pi);
    pi = proto_tree_add_string(ht, hf_tcpstate_hs_prev_states, tvb, 0, 0,
                               tcpstate_pair_str(pinfo->pool, hb, "/"));
    proto_item_set_generated(pi);
}

/* A string field, formatted only if someone can see or use it. */
static void add_pair_field(proto_tree *st, int hf, tvbuff_t *tvb, packet_info *pinfo,
                           const guint8 states[2], const char *sep, gboolean hidden) {
    proto_item *pi;

    if (!referenced(st, hf))
        return;
    pi = proto_tree_add_string(st, hf, tvb, 0, 0, tcpstate_pair_str(pinfo->pool, states, sep));
    proto_item_set_generated(pi);
    if (hidden)
        proto_item_set_hidden(pi);
}

/* The states shown (best_states), hidden: tcpstate.best.client, .server and .pair, for the
 * "TCP State" profile's columns and coloring rules. */
static void add_best(proto_tree *st, tvbuff_t *tvb, packet_info *pinfo, const tcpstate_view *v) {
    guint8 best[2];
    proto_item *pi;

    if (!referenced(st, hf_tcpstate_best_state[0]) && !referenced(st, hf_tcpstate_best_state[1]) &&
        !referenced(st, hf_tcpstate_best_pair))
        return;
    best_states(pinfo, v, best);
    for (int i = 0; i < 2; i++) {
        if (!referenced(st, hf_tcpstate_best_state[i]))
            continue;
        pi = proto_tree_add_uint(st, hf_tcpstate_best_state[i], tvb, 0, 0, best[i]);
        proto_item_set_generated(pi);
        proto_item_set_hidden(pi);
    }
    add_pair_field(st, hf_tcpstate_best_pair, tvb, pinfo, best, " / ", TRUE);
}

/* referenced() for a field of Wireshark's looked up at init (-1: not there). */
static gboolean ws_referenced(proto_tree *tree, int hf) {
    return hf >= 0 && referenced(tree, hf);
}

/* Whether an event's expert info must be added. Wireshark's expert code costs some 1,100
 * instructions an info, item or not (a formatted copy of the text, its faked subtree), and
 * on busy captures most frames have an event. It is skipped only when nothing it does can
 * be seen: no shown tree, no filter, column or -e on its field or on _ws.expert, no expert
 * tap (tshark -z expert, the GUI's Expert Information), no Expert column, and the highest
 * severity so far (the GUI's status bar) already at least its own (its registered one: a
 * severity raised in the Expert Info Severity Level preferences is not known here). */
static gboolean expert_wanted(packet_info *pinfo, proto_tree *tree, int ev) {
    if (referenced(tree, ei_tcpstate_ev[ev].hf))
        return TRUE;
    if (ws_referenced(tree, hf_ws_expert) || ws_referenced(tree, hf_ws_expert_message) ||
        ws_referenced(tree, hf_ws_expert_severity) || ws_referenced(tree, hf_ws_expert_group))
        return TRUE;
    return have_tap_listener(expert_tap) ||
           (pinfo->cinfo != NULL && pinfo->cinfo->col_first[COL_EXPERT] >= 0) ||
           (int)expert_get_highest_severity() < TCPSTATE_EI_SEVERITY(tcps_event_severity(ev));
}

/* The events of a record, one tcpstate.event item each, with its expert info where wanted
 * (experts: expert_wanted); flat: no protocol item to hang one on, and none wanted. */
static void add_events(proto_tree *st, tvbuff_t *tvb, packet_info *pinfo, const tcpstate_rec *rec,
                       guint32 experts, gboolean flat) {
    proto_item *pi;

    if (rec->events != 0 && referenced(st, hf_tcpstate_events)) {
        pi = proto_tree_add_string(st, hf_tcpstate_events, tvb, 0, 0,
                                   tcpstate_events_str(pinfo->pool, rec->events, ",", ""));
        proto_item_set_generated(pi);
        proto_item_set_hidden(pi);
    }
    for (gint ev = g_bit_nth_lsf((gulong)rec->events, -1); ev >= 0 && ev < TCPS_EVENT_COUNT;
         ev = g_bit_nth_lsf((gulong)rec->events, ev)) {
        if (flat) {
            add_gen_uint(st, hf_tcpstate_event, tvb, (guint32)ev);
            continue;
        }
        pi = proto_tree_add_uint(st, hf_tcpstate_event, tvb, 0, 0, (guint32)ev);
        proto_item_set_generated(pi);
        if (experts & TCPS_EVENT_BIT(ev))
            expert_add_info(pinfo, pi, &ei_tcpstate_ev[ev]);
    }
}

/* The tree; with no tree (tshark -2 second pass) only the expert infos. Strings are
 * formatted only when the tree is shown or a filter, column or -e asks for the field. */
static void add_tree(proto_tree *tree, tvbuff_t *tvb, packet_info *pinfo, tcpstate_view *v) {
    const tcpstate_rec *rec = &v->rec;
    gboolean changed = rec->before[0] != rec->after[0] || rec->before[1] != rec->after[1];
    guint32 experts = 0; /* events whose expert info is wanted (expert_wanted) */
    gboolean flat = FALSE;
    proto_tree *st = NULL;

    for (gint ev = g_bit_nth_lsf((gulong)rec->events, -1); ev >= 0 && ev < TCPS_EVENT_COUNT;
         ev = g_bit_nth_lsf((gulong)rec->events, ev))
        if (expert_wanted(pinfo, tree, ev))
            experts |= (guint32)TCPS_EVENT_BIT(ev);
    if (tree != NULL) {
        gboolean visible = PTREE_DATA(tree)->visible;
        int ref = proto_registrar_get_nth(proto_tcpstate)->ref_type;
        /* The item's text is read when shown, or for the protocol field itself (-e tcpstate,
         * a column); a filter on one of its fields only needs the fields. Wireshark fakes
         * a protocol item nobody asks for, except at the top of the tree, where this one
         * is: there it is left out when Wireshark would fake it, no tap reads the tree
         * (tshark -z io,phs counts the protocol items at the top) and no expert info needs
         * it; the fields a filter, column or tap asks for then go to the top (flat). */
        if (visible || ref == HF_REF_TYPE_DIRECT) {
            char text[TCPSTATE_LABEL_SIZE];
            tcpstate_summary_label(text, "TCP State: ", rec);
            st = proto_item_add_subtree(
                proto_tree_add_protocol_format(tree, proto_tcpstate, tvb, 0, 0, "%s", text),
                ett_tcpstate);
        } else {
            flat = PTREE_DATA(tree)->fake_protocols && experts == 0 &&
                   !(union_of_tap_listener_flags() & TL_REQUIRES_PROTO_TREE);
            st = flat ? tree
                      : proto_item_add_subtree(
                            proto_tree_add_item(tree, proto_tcpstate, tvb, 0, 0, ENC_NA),
                            ett_tcpstate);
        }
        add_gen_uint(st, hf_tcpstate_conn, tvb, rec->conn_id);
        add_gen_uint(st, hf_tcpstate_sender, tvb, rec->sender);
        add_pair_field(st, hf_tcpstate_states, tvb, pinfo, rec->after, "/", FALSE);
        add_pair_field(st, hf_tcpstate_pair, tvb, pinfo, rec->after, " / ", TRUE);
        add_pair_field(st, hf_tcpstate_prev_states, tvb, pinfo, rec->before, "/", FALSE);
        add_gen_boolean(st, hf_tcpstate_changed, tvb, changed);
        add_endpoint_tree(st, tvb, pinfo, v, TCPS_CLIENT, visible);
        add_endpoint_tree(st, tvb, pinfo, v, TCPS_SERVER, visible);
    }
    add_events(st, tvb, pinfo, rec, experts, flat);
    add_gen_boolean(st, hf_tcpstate_roles_assumed, tvb, rec->roles_assumed);
    if (tree != NULL) {
        add_hindsight(st, tvb, pinfo, v, PTREE_DATA(tree)->visible);
        add_best(st, tvb, pinfo, v);
    }
}

/* The tap payload (tcpstate-tap.h): the stored record and the capture's tracker. */
static void queue_tap(packet_info *pinfo, tcpstate_view *v) {
    tcpstate_tap_info *info;

    if (!have_tap_listener(tcpstate_tap))
        return;
    entry_entered(v);
    info = wmem_new(pinfo->pool, tcpstate_tap_info);
    info->rec = v->rec;
    info->tracker = v->capture->tracker;
    best_states(pinfo, v, info->best);
    tap_queue_packet(tcpstate_tap, pinfo, info);
}

/* The malformed TCP layers of a frame: a "not tracked" item with its expert info, on every
 * pass. Returns how many. */
static guint add_bad_layers(const tcpstate_capture *c, proto_tree *tree, tvbuff_t *tvb,
                            packet_info *pinfo) {
    static const struct {
        const char *why;
        expert_field *ei;
    } bad[TCPSTATE_BAD_COUNT] = {
        {"TCP header length below 20 bytes", &ei_tcpstate_malformed_hdr_len},
        {"TCP header incomplete or segment length unknown", &ei_tcpstate_malformed_truncated},
        {"TCP port 0", &ei_tcpstate_malformed_zero_port},
        {"invalid flag combination", &ei_tcpstate_ev[TCPS_EV_BAD_FLAGS]},
    };
    guint n;
    const tcpstate_bad *b = tcpstate_store_bad(c->store, pinfo->num, &n);

    for (guint i = 0; i < n; i++) {
        proto_item *ti = proto_tree_add_protocol_format(
            tree, proto_tcpstate, tvb, 0, 0, "TCP State: not tracked (%s)", bad[b[i].reason].why);
        expert_add_info(pinfo, ti, bad[b[i].reason].ei);
    }
    return n;
}

int tcpstate_dissect(tcpstate_capture *c, gboolean info_column, tvbuff_t *tvb, packet_info *pinfo,
                     proto_tree *tree) {
    gint first;
    guint bad;

    if (tcpstate_reader_first_visit(&c->reader, pinfo))
        track_frame(c, pinfo);
    bad = add_bad_layers(c, tree, tvb, pinfo);
    first = tcpstate_store_find(c->store, pinfo->num);
    if (first < 0)
        return bad ? (int)tvb_captured_length(tvb) : 0;
    for (gint i = first; i >= 0; i = tcpstate_store_next(c->store, (guint)i, pinfo->num)) {
        tcpstate_view v;
        v.capture = c;
        v.frame = pinfo->num;
        v.have_entered = FALSE;
        tcpstate_store_get(c->store, (guint)i, &v.rec);
        if (info_column)
            append_info(pinfo, &v.rec);
        add_tree(tree, tvb, pinfo, &v);
        queue_tap(pinfo, &v);
    }
    return tvb_captured_length(tvb);
}

/* ---- Start and end of a capture ------------------------------------------------------ */

void tcpstate_capture_init(tcpstate_capture *c, const tcps_config *cfg) {
    /* Registered after the handoffs (expert_packet_init): looked up here. */
    hf_ws_expert = proto_registrar_get_id_byname("_ws.expert");
    hf_ws_expert_message = proto_registrar_get_id_byname("_ws.expert.message");
    hf_ws_expert_severity = proto_registrar_get_id_byname("_ws.expert.severity");
    hf_ws_expert_group = proto_registrar_get_id_byname("_ws.expert.group");
    expert_tap = find_tap_id("expert");

    c->tracker = tcps_new(cfg);
    c->store = tcpstate_store_new();
    tcpstate_reader_init(&c->reader);
}

void tcpstate_capture_free(tcpstate_capture *c) {
    tcps_free(c->tracker);
    c->tracker = NULL;
    tcpstate_store_free(c->store);
    c->store = NULL;
    tcpstate_reader_free(&c->reader);
}

/* ---- Registration --------------------------------------------------------------------- */

#define TCPSTATE_EI_GROUP(name) (TCPS_EV_##name == TCPS_EV_BAD_FLAGS ? PI_MALFORMED : PI_SEQUENCE)

void tcpstate_dissector_register(int proto, int tap) {
    static hf_register_info hf[] = {
        {&hf_tcpstate_conn,
         {"Connection", "tcpstate.conn", FT_UINT32, BASE_DEC, NULL, 0x0,
          "Connection number given by the tracker, in order of first segment.", HFILL}},
        {&hf_tcpstate_sender,
         {"Sender", "tcpstate.sender", FT_UINT8, BASE_NONE, VALS(tcpstate_sender_vals), 0x0,
          "Endpoint that sent this segment.", HFILL}},
        {&hf_tcpstate_states,
         {"States", "tcpstate.states", FT_STRING, BASE_NONE, NULL, 0x0,
          "Client and server states after this segment, as CLIENT/SERVER.", HFILL}},
        {&hf_tcpstate_prev_states,
         {"Previous states", "tcpstate.prev_states", FT_STRING, BASE_NONE, NULL, 0x0,
          "Client and server states before this segment, as CLIENT/SERVER.", HFILL}},
        {&hf_tcpstate_pair,
         {"TCP state", "tcpstate.pair", FT_STRING, BASE_NONE, NULL, 0x0,
          "Client and server states after this segment, as \"CLIENT / SERVER\" (hidden; the "
          "\"TCP State\" profile's column).",
          HFILL}},
        {&hf_tcpstate_changed,
         {"State changed", "tcpstate.changed", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
          "The state of an endpoint changed on this segment.", HFILL}},
        {&hf_tcpstate_roles_assumed,
         {"Roles assumed", "tcpstate.roles_assumed", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
          "Client and server were guessed: no SYN was seen.", HFILL}},
        {&hf_tcpstate_event,
         {"Event", "tcpstate.event", FT_UINT8, BASE_NONE, VALS(tcpstate_event_vals), 0x0,
          "What happened on this segment, one item per event (tcpstate.event == refused); "
          "each is also the expert info tcpstate.ev.<event>.",
          HFILL}},
        {&hf_tcpstate_events,
         {"Events", "tcpstate.events", FT_STRING, BASE_NONE, NULL, 0x0,
          "This segment's events by name, comma-separated, as \"new_connection,refused\" "
          "(hidden; for scripts: -T fields prints tcpstate.event as numbers).",
          HFILL}},
        {&hf_tcpstate_endpoint[TCPS_CLIENT],
         {"Client endpoint", "tcpstate.client.endpoint", FT_STRING, BASE_NONE, NULL, 0x0,
          "Address and port of the client.", HFILL}},
        {&hf_tcpstate_state[TCPS_CLIENT],
         {"Client state", "tcpstate.client", FT_UINT8, BASE_NONE, VALS(tcpstate_state_vals), 0x0,
          "RFC 9293 state of the client after this segment.", HFILL}},
        {&hf_tcpstate_prev[TCPS_CLIENT],
         {"Client previous state", "tcpstate.client.prev", FT_UINT8, BASE_NONE,
          VALS(tcpstate_state_vals), 0x0, "State of the client before this segment.", HFILL}},
        {&hf_tcpstate_certainty[TCPS_CLIENT],
         {"Client certainty", "tcpstate.client.certainty", FT_UINT8, BASE_NONE,
          VALS(tcpstate_certainty_vals), 0x0, "How the tracker knows the client state.", HFILL}},
        {&hf_tcpstate_entered[TCPS_CLIENT],
         {"Client state entered in", "tcpstate.client.entered", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
          "Frame where the client entered its current state.", HFILL}},
        {&hf_tcpstate_endpoint[TCPS_SERVER],
         {"Server endpoint", "tcpstate.server.endpoint", FT_STRING, BASE_NONE, NULL, 0x0,
          "Address and port of the server.", HFILL}},
        {&hf_tcpstate_state[TCPS_SERVER],
         {"Server state", "tcpstate.server", FT_UINT8, BASE_NONE, VALS(tcpstate_state_vals), 0x0,
          "RFC 9293 state of the server after this segment.", HFILL}},
        {&hf_tcpstate_prev[TCPS_SERVER],
         {"Server previous state", "tcpstate.server.prev", FT_UINT8, BASE_NONE,
          VALS(tcpstate_state_vals), 0x0, "State of the server before this segment.", HFILL}},
        {&hf_tcpstate_certainty[TCPS_SERVER],
         {"Server certainty", "tcpstate.server.certainty", FT_UINT8, BASE_NONE,
          VALS(tcpstate_certainty_vals), 0x0, "How the tracker knows the server state.", HFILL}},
        {&hf_tcpstate_entered[TCPS_SERVER],
         {"Server state entered in", "tcpstate.server.entered", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
          "Frame where the server entered its current state.", HFILL}},
        {&hf_tcpstate_hs_state[TCPS_CLIENT],
         {"Client state in hindsight", "tcpstate.hindsight.client", FT_UINT8, BASE_NONE,
          VALS(tcpstate_state_vals), 0x0,
          "Best-known state of the client after this segment, given the whole capture.", HFILL}},
        {&hf_tcpstate_hs_state[TCPS_SERVER],
         {"Server state in hindsight", "tcpstate.hindsight.server", FT_UINT8, BASE_NONE,
          VALS(tcpstate_state_vals), 0x0,
          "Best-known state of the server after this segment, given the whole capture.", HFILL}},
        {&hf_tcpstate_hs_states,
         {"States in hindsight", "tcpstate.hindsight.states", FT_STRING, BASE_NONE, NULL, 0x0,
          "Best-known client and server states after this segment, as CLIENT/SERVER.", HFILL}},
        {&hf_tcpstate_hs_prev_states,
         {"Previous states in hindsight", "tcpstate.hindsight.prev_states", FT_STRING, BASE_NONE,
          NULL, 0x0, "Best-known client and server states before this segment.", HFILL}},
        {&hf_tcpstate_best_state[TCPS_CLIENT],
         {"Client state shown", "tcpstate.best.client", FT_UINT8, BASE_DEC,
          VALS(tcpstate_state_vals), 0x0,
          "State of the client after this segment as the \"TCP State\" profile shows it: "
          "tcpstate.hindsight.client once the whole capture has been read (tshark -2, the GUI), "
          "else tcpstate.client (hidden).",
          HFILL}},
        {&hf_tcpstate_best_state[TCPS_SERVER],
         {"Server state shown", "tcpstate.best.server", FT_UINT8, BASE_DEC,
          VALS(tcpstate_state_vals), 0x0,
          "State of the server after this segment as the \"TCP State\" profile shows it: "
          "tcpstate.hindsight.server once the whole capture has been read (tshark -2, the GUI), "
          "else tcpstate.server (hidden).",
          HFILL}},
        {&hf_tcpstate_best_pair,
         {"TCP state shown", "tcpstate.best.pair", FT_STRING, BASE_NONE, NULL, 0x0,
          "Client and server states as \"CLIENT / SERVER\", as tcpstate.best.client and "
          "tcpstate.best.server (hidden; the \"TCP State\" profile's column).",
          HFILL}},
    };
    static gint *ett[] = {&ett_tcpstate, &ett_tcpstate_client, &ett_tcpstate_server,
                          &ett_tcpstate_hindsight};
    static ei_register_info ei[] = {
    /* clang-format off: each entry of the macro is an entry of the table */
#define TCPSTATE_EI(name, tok, sev, desc)                                                          \
    {&ei_tcpstate_ev[TCPS_EV_##name],                                                              \
     {"tcpstate.ev." tok, TCPSTATE_EI_GROUP(name), TCPSTATE_EI_SEVERITY(sev), desc, EXPFILL}},
        TCPS_EVENT_MAP(TCPSTATE_EI)
#undef TCPSTATE_EI
        /* clang-format on */
        {&ei_tcpstate_malformed_hdr_len,
         {"tcpstate.malformed.hdr_len", PI_MALFORMED, PI_WARN,
          "TCP header length below 20 bytes: segment not tracked", EXPFILL}},
        {&ei_tcpstate_malformed_truncated,
         {"tcpstate.malformed.truncated", PI_MALFORMED, PI_WARN,
          "TCP header incomplete (cut by the snapshot length, or shorter than its header "
          "length) or segment length unknown: segment not tracked",
          EXPFILL}},
        {&ei_tcpstate_malformed_zero_port,
         {"tcpstate.malformed.zero_port", PI_MALFORMED, PI_WARN,
          "TCP port 0 (reserved): segment not tracked", EXPFILL}},
    };

    /* clang-format off */
    static const char *const ei_blurb[TCPS_EVENT_COUNT] = {
#define TCPSTATE_EI_BLURB(name, tok, sev, desc)                                                    \
    "Expert info of the event " tok " (tcpstate.event == " tok ").",
        TCPS_EVENT_MAP(TCPSTATE_EI_BLURB)
#undef TCPSTATE_EI_BLURB
    };
    /* clang-format on */

    /* The expert infos' fields are described in tshark -G fields, as every field. */
    for (guint i = 0; i < array_length(ei); i++)
        ei[i].eiinfo.hf_info.hfinfo.blurb =
            i < TCPS_EVENT_COUNT ? ei_blurb[i]
                                 : "Expert info of a malformed TCP layer the tracker does not "
                                   "follow (its summary says why).";
    proto_tcpstate = proto;
    tcpstate_tap = tap;
    proto_register_field_array(proto_tcpstate, hf, array_length(hf));
    cache_fields(hf, (int)array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_tcpstate), ei, array_length(ei));
}
