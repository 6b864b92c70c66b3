/* fuzz_plugin_check.c: what the plugin's fuzz target checks of the records queued on the
 * "tcpstate" tap (fuzz_plugin.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_plugin.h"
#include "invariants.h"

static void fail(const fp_rec *r, int pass, const char *what) {
    fprintf(stderr,
            "fuzz_plugin: %s: pass %d, frame %u, connection %u: %s "
            "(client %s -> %s, server %s -> %s, entered %u %u, events 0x%llx)\n",
            fuzz_input_name, pass, r->frame, r->rec.conn_id, what,
            tcps_state_name(r->rec.before[0]), tcps_state_name(r->rec.after[0]),
            tcps_state_name(r->rec.before[1]), tcps_state_name(r->rec.after[1]),
            r->rec.entered[0], r->rec.entered[1], (unsigned long long)r->rec.events);
    abort();
}

/* The record's fields in range; NULL or what is wrong. */
static const char *in_range(const fp_rec *r, guint n, guint32 prev_frame, guint32 max_conn) {
    if (r->frame < 1 || r->frame > n || r->frame < prev_frame)
        return "frame out of range or out of order";
    if (r->rec.conn_id < 1 || r->rec.conn_id > max_conn + 1)
        return "connection id 0 or not the next one";
    if (r->rec.sender > 1)
        return "sender out of range";
    for (int i = 0; i < 2; i++) {
        if (r->rec.before[i] >= TCPS_STATE_COUNT || r->rec.after[i] >= TCPS_STATE_COUNT ||
            r->rec.cert[i] >= TCPS_CERT_COUNT)
            return "state or certainty out of range";
        if (r->rec.entered[i] < 1 || r->rec.entered[i] > r->frame)
            return "an entered frame out of 1..frame";
    }
    if ((r->rec.events >> TCPS_EVENT_COUNT) != 0)
        return "an unknown event";
    return NULL;
}

/* The diagram: invariants.c's checks on the tracker's record as the plugin kept it. The
 * plugin does not keep the "ended" flags: an endpoint's connection ends when it moves to
 * CLOSED from another state, within a record or between two (a record whose "before" is
 * CLOSED for an endpoint an earlier record showed in another state: the tracker moved it
 * between the frames, as when a capture at the client shows the server's ACK of the
 * client's FIN after the FIN, the server's LAST_ACK -> CLOSED taken at the FIN's arrival),
 * and stays ended. Bits of the map's value: 0-1 ended, 2-3 seen in a state but CLOSED. */
static const char *legal(inv_state *inv, GHashTable *ended, const fp_rec *r) {
    tcps_record t;
    guint bits = GPOINTER_TO_UINT(g_hash_table_lookup(ended, GUINT_TO_POINTER(r->rec.conn_id)));

    memset(&t, 0, sizeof t);
    t.events = r->rec.events;
    t.conn_id = r->rec.conn_id;
    t.sender = r->rec.sender;
    t.roles_assumed = r->rec.roles_assumed;
    for (int i = 0; i < 2; i++) {
        t.before[i] = r->rec.before[i];
        t.after[i] = r->rec.after[i];
        t.cert[i] = r->rec.cert[i];
        t.entered[i] = r->rec.entered[i];
        t.ended_before[i] =
            ((bits >> i) & 1) || (t.before[i] == TCPS_CLOSED && ((bits >> (2 + i)) & 1));
        t.ended[i] = t.ended_before[i] || (t.after[i] == TCPS_CLOSED && t.before[i] != TCPS_CLOSED);
        bits |= (guint)t.ended[i] << i;
        bits |= (guint)(t.before[i] != TCPS_CLOSED || t.after[i] != TCPS_CLOSED) << (2 + i);
    }
    g_hash_table_insert(ended, GUINT_TO_POINTER(r->rec.conn_id), GUINT_TO_POINTER(bits));
    return inv_check(inv, &t);
}

void fp_check_pass(const GArray *recs, guint n, int pass) {
    inv_state *inv = inv_new();
    GHashTable *ended = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint32 prev_frame = 0, max_conn = 0;

    if (inv == NULL)
        abort();
    for (guint i = 0; i < recs->len; i++) {
        const fp_rec *r = &g_array_index(recs, fp_rec, i);
        const char *msg = in_range(r, n, prev_frame, max_conn);

        if (msg == NULL)
            msg = legal(inv, ended, r);
        if (msg != NULL)
            fail(r, pass, msg);
        prev_frame = r->frame;
        if (r->rec.conn_id > max_conn)
            max_conn = r->rec.conn_id;
    }
    g_hash_table_destroy(ended);
    inv_free(inv);
}

static gboolean same_rec(const tcpstate_rec *x, const tcpstate_rec *y) {
    return x->events == y->events && x->conn_id == y->conn_id && x->len == y->len &&
           x->sender == y->sender && x->roles_assumed == y->roles_assumed &&
           x->flags == y->flags && memcmp(x->entered, y->entered, sizeof x->entered) == 0 &&
           memcmp(x->before, y->before, 2) == 0 && memcmp(x->after, y->after, 2) == 0 &&
           memcmp(x->cert, y->cert, 2) == 0;
}

void fp_check_same(const GArray *a, const GArray *b, const char *what) {
    char msg[160];

    for (guint i = 0; i < a->len && i < b->len; i++) {
        const fp_rec *x = &g_array_index(a, fp_rec, i), *y = &g_array_index(b, fp_rec, i);

        if (x->frame != y->frame || !same_rec(&x->rec, &y->rec)) {
            snprintf(msg, sizeof msg, "%s differs from the first pass here", what);
            fail(y, 2, msg);
        }
    }
    if (a->len != b->len) {
        fprintf(stderr, "fuzz_plugin: %s: %s has %u records, the first pass %u\n",
                fuzz_input_name, what, b->len, a->len);
        abort();
    }
}
