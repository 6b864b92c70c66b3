/* tcpstate-stats.c: the "TCP state" statistics tree.
 *
 * tshark -q -z tcpstate,tree[,FILTER], and Statistics > TCP State > States and Events in
 * Wireshark. Counts what the tracker decided, never re-decides it:
 *   Connections                     connections seen
 *     Final states (client / server)  by the pair of states each connection ended in
 *     Handshake never completed       connections with a SYN but no handshake_complete event
 *     Picked up midstream             connections first seen without their handshake
 *   Transitions                     each endpoint's state changes, "A -> B", per role
 *   Events                          tracker events of severity chat or note, per segment
 *   Anomalies                       tracker events of severity warn, per segment
 *
 * The packet callback only collects; the nodes are written by a helper tap listener
 * whose draw callback runs just before the tree's own (listeners registered later are
 * drawn first): the final state of a connection is known only at the end in one-pass
 * tshark, and a stats tree cannot remove a node, so counting it early would leave
 * zero rows for every state pair a connection passed through.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include <glib.h>

#include <epan/packet.h>
#include <epan/stats_tree.h>
#include <epan/tap.h>

#include "tcpstate-compat.h"
#include "tcpstate-tap.h"
#include "tcpstate-text.h"

#define ST_ABBR "tcpstate"
#define ST_NAME "TCP State/States and Events"

#define N_CONNS "Connections"
#define N_FINAL "Final states (client / server)"
#define N_NO_HANDSHAKE "Handshake never completed (final client / server)"
#define N_MIDSTREAM "Picked up midstream"
#define N_TRANSITIONS "Transitions"
#define N_EVENTS "Events"
#define N_ANOMALIES "Anomalies"

/* One connection as the records showed it. */
typedef struct {
    uint32_t conn_id;
    uint8_t last[2]; /* after[] of its latest record */
    uint64_t events;
} stats_conn;

/* Collected per stats tree (a GUI can open several). */
typedef struct {
    stats_tree *st;
    const tcps_tracker *tracker; /* from the tap (tcpstate-tap.h); NULL before a packet */
    GHashTable *conns; /* conn_id -> stats_conn */
    GArray *order;     /* conn_ids in order of first record */
    guint transitions[2][TCPS_STATE_COUNT][TCPS_STATE_COUNT];
    guint events[TCPS_EVENT_COUNT];
    uint64_t last_ns;
    gboolean listening; /* helper tap listener registered */
} stats_data;

/* stats_tree -> stats_data */
static GHashTable *stats_by_tree;

static void stats_data_clear(stats_data *d) {
    d->tracker = NULL;
    g_hash_table_remove_all(d->conns);
    g_array_set_size(d->order, 0);
    memset(d->transitions, 0, sizeof d->transitions);
    memset(d->events, 0, sizeof d->events);
    d->last_ns = 0;
}

static stats_data *stats_data_get(stats_tree *st) {
    stats_data *d;

    if (stats_by_tree == NULL)
        stats_by_tree = g_hash_table_new(g_direct_hash, g_direct_equal);
    d = (stats_data *)g_hash_table_lookup(stats_by_tree, st);
    if (d == NULL) {
        d = g_new0(stats_data, 1);
        d->st = st;
        d->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        d->order = g_array_new(FALSE, FALSE, (guint)sizeof(uint32_t));
        g_hash_table_insert(stats_by_tree, st, d);
    }
    return d;
}

/* ---- Collecting ----------------------------------------------------------------------- */

static void count_transition(stats_data *d, int who, uint8_t from, uint8_t to) {
    if (from != to && from < TCPS_STATE_COUNT && to < TCPS_STATE_COUNT)
        d->transitions[who][from][to]++;
}

static tap_packet_status stats_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_,
                                      const void *data, tap_flags_t flags _U_) {
    const tcpstate_tap_info *ti = (const tcpstate_tap_info *)data;
    const tcpstate_rec *rec = &ti->rec;
    stats_data *d = stats_data_get(st);
    stats_conn *c;

    d->tracker = ti->tracker;
    if (rec->conn_id == 0)
        return TAP_PACKET_DONT_REDRAW;
    c = (stats_conn *)g_hash_table_lookup(d->conns, GUINT_TO_POINTER(rec->conn_id));
    if (c == NULL) {
        c = g_new0(stats_conn, 1);
        c->conn_id = rec->conn_id;
        memcpy(c->last, rec->before, sizeof c->last);
        g_hash_table_insert(d->conns, GUINT_TO_POINTER(rec->conn_id), c);
        g_array_append_val(d->order, rec->conn_id);
    }
    for (int who = 0; who < 2; who++) {
        /* A timer (TIME_WAIT) can end a state between two segments: before[] then
         * differs from the previous after[]. */
        count_transition(d, who, c->last[who], rec->before[who]);
        count_transition(d, who, rec->before[who], rec->after[who]);
        c->last[who] = rec->after[who];
    }
    c->events |= rec->events;
    for (int ev = 0; ev < TCPS_EVENT_COUNT; ev++) {
        if (rec->events & TCPS_EVENT_BIT(ev))
            d->events[ev]++;
    }
    if (pinfo->abs_ts.secs >= 0)
        d->last_ns = (uint64_t)pinfo->abs_ts.secs * G_GUINT64_CONSTANT(1000000000) +
                     (uint64_t)pinfo->abs_ts.nsecs;
    return TAP_PACKET_REDRAW;
}

/* ---- Writing the nodes ---------------------------------------------------------------- */

/* The final states of a connection: the tracker's, with a configured TIME_WAIT timer
 * applied at the time of the last segment seen; the last record's if the tracker is gone. */
static void final_states(const stats_data *d, const stats_conn *c, uint8_t out[2]) {
    const tcps_tracker *t = d->tracker;
    tcps_conn_info ci;

    memcpy(out, c->last, 2);
    if (t != NULL && tcps_conn_get(t, c->conn_id - 1, d->last_ns, &ci)) {
        out[0] = ci.state[0];
        out[1] = ci.state[1];
    }
}

static int set_node(stats_tree *st, const char *name, int parent, gboolean with_children,
                    int value) {
    return set_stat_node(st, name, parent, with_children, value);
}

static void write_connections(stats_data *d) {
    stats_tree *st = d->st;
    int conns = set_node(st, N_CONNS, 0, TRUE, (int)d->order->len);
    int final = set_node(st, N_FINAL, conns, TRUE, (int)d->order->len);

    /* Wireshark's window sorts every level, by count by default: Connections and its
     * Final states stay on top, as tshark prints them. */
    stat_node_set_flags(st, N_CONNS, 0, FALSE, ST_FLG_SORT_TOP);
    stat_node_set_flags(st, N_FINAL, conns, FALSE, ST_FLG_SORT_TOP);
    GHashTable *pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *open_pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *pair_order = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *open_order = g_ptr_array_new_with_free_func(g_free);
    int no_handshake = 0, midstream = 0;
    int open_node;

    for (guint i = 0; i < d->order->len; i++) {
        uint32_t id = g_array_index(d->order, uint32_t, i);
        const stats_conn *c =
            (const stats_conn *)g_hash_table_lookup(d->conns, GUINT_TO_POINTER(id));
        uint8_t fin[2];
        char *pair;
        gboolean mid = (c->events & TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM)) != 0;
        gboolean done = (c->events & TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_COMPLETE)) != 0;

        final_states(d, c, fin);
        pair = tcpstate_pair_str(NULL, fin, " / ");
        if (!g_hash_table_contains(pairs, pair))
            g_ptr_array_add(pair_order, g_strdup(pair));
        g_hash_table_insert(pairs, g_strdup(pair),
                            GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(pairs, pair)) + 1));
        if (mid) {
            midstream++;
        } else if (!done) {
            no_handshake++;
            if (!g_hash_table_contains(open_pairs, pair))
                g_ptr_array_add(open_order, g_strdup(pair));
            g_hash_table_insert(
                open_pairs, g_strdup(pair),
                GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(open_pairs, pair)) + 1));
        }
        wmem_free(NULL, pair);
    }
    for (guint i = 0; i < pair_order->len; i++) {
        const char *pair = (const char *)g_ptr_array_index(pair_order, i);
        set_node(st, pair, final, FALSE, GPOINTER_TO_INT(g_hash_table_lookup(pairs, pair)));
    }
    open_node = set_node(st, N_NO_HANDSHAKE, conns, TRUE, no_handshake);
    for (guint i = 0; i < open_order->len; i++) {
        const char *pair = (const char *)g_ptr_array_index(open_order, i);
        set_node(st, pair, open_node, FALSE,
                 GPOINTER_TO_INT(g_hash_table_lookup(open_pairs, pair)));
    }
    set_node(st, N_MIDSTREAM, conns, FALSE, midstream);
    g_ptr_array_free(pair_order, TRUE);
    g_ptr_array_free(open_order, TRUE);
    g_hash_table_destroy(pairs);
    g_hash_table_destroy(open_pairs);
}

static void write_transitions(stats_data *d) {
    static const char *const role[2] = {"Client", "Server"};
    stats_tree *st = d->st;
    guint total = 0;
    int top, parent[2];

    for (int who = 0; who < 2; who++)
        for (int a = 0; a < TCPS_STATE_COUNT; a++)
            for (int b = 0; b < TCPS_STATE_COUNT; b++)
                total += d->transitions[who][a][b];
    top = set_node(st, N_TRANSITIONS, 0, TRUE, (int)total);
    for (int who = 0; who < 2; who++) {
        guint sum = 0;
        for (int a = 0; a < TCPS_STATE_COUNT; a++)
            for (int b = 0; b < TCPS_STATE_COUNT; b++)
                sum += d->transitions[who][a][b];
        parent[who] = set_node(st, role[who], top, TRUE, (int)sum);
    }
    /* In the order of the RFC 9293 diagram (the state enum), from-state first. */
    for (int who = 0; who < 2; who++)
        for (int a = 0; a < TCPS_STATE_COUNT; a++)
            for (int b = 0; b < TCPS_STATE_COUNT; b++) {
                char *name;
                if (d->transitions[who][a][b] == 0)
                    continue;
                name = g_strdup_printf("%s -> %s", tcps_state_name(a), tcps_state_name(b));
                set_node(st, name, parent[who], FALSE, (int)d->transitions[who][a][b]);
                g_free(name);
            }
}

static void write_events(stats_data *d) {
    stats_tree *st = d->st;
    guint sum[2] = {0, 0};
    int parent[2];

    for (int ev = 0; ev < TCPS_EVENT_COUNT; ev++)
        sum[tcps_event_severity(ev) == 2] += d->events[ev];
    parent[0] = set_node(st, N_EVENTS, 0, TRUE, (int)sum[0]);
    parent[1] = set_node(st, N_ANOMALIES, 0, TRUE, (int)sum[1]);
    for (int ev = 0; ev < TCPS_EVENT_COUNT; ev++) {
        if (d->events[ev] != 0)
            set_node(st, tcps_event_name(ev), parent[tcps_event_severity(ev) == 2], FALSE,
                     (int)d->events[ev]);
    }
}

/* Draw callback of the helper listener: runs before the tree is printed or shown. */
static void stats_write(void *tapdata) {
    stats_data *d = (stats_data *)tapdata;

    write_connections(d);
    write_transitions(d);
    write_events(d);
}

/* Asks for a redraw whenever the tree's own listener does, so that periodic redraws
 * (Wireshark updates the dialog while it reads) show current nodes. */
static tap_packet_status helper_packet(void *tapdata _U_, packet_info *pinfo _U_,
                                       epan_dissect_t *edt _U_, const void *data _U_,
                                       tap_flags_t flags _U_) {
    return TAP_PACKET_REDRAW;
}

/* ---- Tree life cycle ------------------------------------------------------------------ */

#if TCPSTATE_TAP_LISTENERS_FREED_AT_EXIT
/* tshark frees every tap listener at exit (calling its finish callback), the helper
 * first, and then frees the tree (stats_cleanup): the helper is gone by then and
 * removing it again would free it twice. */
static void helper_finish(void *tapdata) {
    ((stats_data *)tapdata)->listening = FALSE;
}
#define HELPER_FINISH helper_finish
#else
#define HELPER_FINISH NULL
#endif

/* Called when the tree is created (tshark) and on each reset (Wireshark). */
static void stats_init(stats_tree *st) {
    stats_data *d = stats_data_get(st);
    GString *err;

    stats_data_clear(d);
    /* The top nodes exist from the start, in this order. */
    stats_write(d);
    if (d->listening)
        return;
    err = register_tap_listener(TCPSTATE_TAP_NAME, d, NULL, TL_REQUIRES_NOTHING, NULL,
                                helper_packet, stats_write, HELPER_FINISH);
    if (err != NULL) {
        g_string_free(err, TRUE);
        return;
    }
    d->listening = TRUE;
}

static void stats_cleanup(stats_tree *st) {
    stats_data *d;

    if (stats_by_tree == NULL)
        return;
    d = (stats_data *)g_hash_table_lookup(stats_by_tree, st);
    if (d == NULL)
        return;
    if (d->listening)
        remove_tap_listener(d);
    g_hash_table_remove(stats_by_tree, st);
    g_hash_table_destroy(d->conns);
    g_array_free(d->order, TRUE);
    g_free(d);
}

void tcpstate_stats_register(void) {
    stats_tree_register_plugin(TCPSTATE_TAP_NAME, ST_ABBR, ST_NAME, 0, stats_packet, stats_init,
                               stats_cleanup);
}
