/* tcpstate-store.c: the records of a capture, by frame (tcpstate-store.h).
 *
 * Per-frame memory is what limits the capture size Wireshark can open, so each tracked TCP
 * layer keeps 12 bytes (tcpstate_entry), in fixed-size chunks (no doubling, no slack); the
 * rest of the tracker's record is rebuilt when a frame is shown:
 * - the frame number: entries are in frame order, so an entry keeps the step from the
 *   previous entry's frame in a byte; every 64th entry's frame is in a table (anchors),
 *   larger steps in a sorted side table (far_frames);
 * - events: most frames have none, and a capture has few distinct sets of events, so the
 *   entry holds an index into a table of the distinct sets (event_sets);
 * - the payload length: 16 bits, larger ones in a sorted side table (big_lens);
 * - entered[i], the frame where endpoint i entered its state: an endpoint's state only
 *   moves forward, so a connection has a bounded number of transitions; each connection
 *   keeps a backward-linked list of the frames where one or both endpoints entered a
 *   state (tcpstate_transition: a segment often moves both, its sender and its receiver),
 *   and a frame's entered[i] is the latest transition of endpoint i at or before it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "tcpstate-store.h"

/* ---- A vector in fixed-size chunks: appending never moves or copies what is stored ------- */

#define TCPSTATE_CHUNK_BITS 12
#define TCPSTATE_CHUNK_LEN (1u << TCPSTATE_CHUNK_BITS)

typedef struct {
    GPtrArray *chunks; /* of TCPSTATE_CHUNK_LEN elements each */
    guint len;
    guint elem_size;
} tcpstate_vec;

static void vec_init(tcpstate_vec *v, guint elem_size) {
    v->chunks = g_ptr_array_new_with_free_func(g_free);
    v->len = 0;
    v->elem_size = elem_size;
}

static void vec_clear(tcpstate_vec *v) {
    if (v->chunks != NULL)
        g_ptr_array_free(v->chunks, TRUE);
    v->chunks = NULL;
    v->len = 0;
}

static inline void *vec_at(const tcpstate_vec *v, guint i) {
    return (char *)g_ptr_array_index(v->chunks, i >> TCPSTATE_CHUNK_BITS) +
           (gsize)(i & (TCPSTATE_CHUNK_LEN - 1)) * v->elem_size;
}

/* A new zeroed element at the end. */
static void *vec_push(tcpstate_vec *v) {
    void *p;

    if ((v->len & (TCPSTATE_CHUNK_LEN - 1)) == 0)
        g_ptr_array_add(v->chunks, g_malloc((gsize)TCPSTATE_CHUNK_LEN * v->elem_size));
    p = vec_at(v, v->len++);
    memset(p, 0, v->elem_size);
    return p;
}

/* ---- What is kept ------------------------------------------------------------------------ */

/* What is kept per tracked TCP layer: 12 bytes. Entries are in frame order, so an entry
 * keeps its frame as the step from the previous entry's; every TCPSTATE_ANCHOR-th entry's
 * frame is in anchors, a larger step in far_frames. */
typedef struct {
    uint32_t conn_id;
    uint32_t bits;     /* TCPSTATE_EB_*: before, after, cert, sender, roles_assumed, TCP flags */
    uint16_t len;      /* payload length; TCPSTATE_ESCAPE: in big_lens */
    uint8_t event_set; /* index into event_sets, 0 = no events; TCPSTATE_SET_ESCAPE: in
                          odd_events */
    uint8_t step;      /* frame - the previous entry's frame; TCPSTATE_STEP_FAR: in far_frames */
} tcpstate_entry;

G_STATIC_ASSERT(sizeof(tcpstate_entry) == 12);
G_STATIC_ASSERT(TCPS_EVENT_COUNT <= 32);
G_STATIC_ASSERT(TCPS_STATE_COUNT <= 16);
G_STATIC_ASSERT(TCPS_CERT_COUNT <= 4);

/* Bit positions in tcpstate_entry.bits. */
#define TCPSTATE_EB_BEFORE(i) (4 * (i))    /* 4 bits each */
#define TCPSTATE_EB_AFTER(i) (8 + 4 * (i)) /* 4 bits each */
#define TCPSTATE_EB_CERT(i) (16 + 2 * (i)) /* 2 bits each */
#define TCPSTATE_EB_SENDER 20
#define TCPSTATE_EB_ROLES 21
#define TCPSTATE_EB_FLAGS 22 /* 8 bits */
#define TCPSTATE_ESCAPE 0xffffu
#define TCPSTATE_SET_ESCAPE 0xffu
#define TCPSTATE_STEP_FAR 0xffu
#define TCPSTATE_ANCHOR_BITS 6 /* an anchor every 64 entries: at most 63 steps to add */
#define TCPSTATE_ANCHOR_MASK ((1u << TCPSTATE_ANCHOR_BITS) - 1)

/* Rare values of an entry, by entry index (sorted: appended in first-pass order). */
typedef struct {
    guint32 entry; /* its index in entries */
    guint32 value;
} tcpstate_side;

/* A frame where endpoints of a connection entered a state. */
typedef struct {
    guint32 frame; /* the new entered[i] of the endpoints it names */
    guint32 prev;  /* TCPSTATE_TR_WHO(i) for each endpoint i that entered a state here |
                      1 + index of the connection's previous transition, 0 for none */
} tcpstate_transition;

#define TCPSTATE_TR_WHO(i) (0x40000000u << (i))
#define TCPSTATE_TR_INDEX 0x3fffffffu
#define TCPSTATE_TR_MAX 0x3ffffffeu

/* Per connection (conn_id - 1). */
typedef struct {
    guint32 first_frame; /* entered[0] and entered[1] before any transition */
    guint32 last;        /* 1 + index of the latest transition, 0 for none */
} tcpstate_conn;

struct tcpstate_store {
    tcpstate_vec entries;        /* tcpstate_entry, in first-pass order (by frame number);
                                    several per frame with tunnels */
    tcpstate_vec transitions;    /* tcpstate_transition */
    tcpstate_vec conns;          /* tcpstate_conn */
    GArray *event_sets;          /* guint32 event masks; [0] = 0 */
    GHashTable *event_set_index; /* mask -> index in event_sets */
    GArray *odd_events;          /* tcpstate_side: masks beyond TCPSTATE_SET_ESCAPE - 1 sets */
    GArray *big_lens;            /* tcpstate_side: payload lengths >= TCPSTATE_ESCAPE */
    GArray *anchors;             /* guint32: frame of entry k << TCPSTATE_ANCHOR_BITS */
    GArray *far_frames;          /* tcpstate_side: frames of entries with TCPSTATE_STEP_FAR */
    guint32 last_entry_frame;    /* frame of the last entry stored */
    /* The last entry tcpstate_store_find() found, and its frame: frames are mostly shown in
     * order. */
    guint hint_index;
    guint32 hint_frame;
    GArray *bad_layers; /* tcpstate_bad, in first-pass order: malformed TCP layers */
};

tcpstate_store *tcpstate_store_new(void) {
    tcpstate_store *s = g_new0(tcpstate_store, 1);
    guint32 none = 0;

    vec_init(&s->entries, (guint)sizeof(tcpstate_entry));
    vec_init(&s->transitions, (guint)sizeof(tcpstate_transition));
    vec_init(&s->conns, (guint)sizeof(tcpstate_conn));
    s->event_sets = g_array_new(FALSE, FALSE, (guint)sizeof(guint32));
    g_array_append_val(s->event_sets, none);
    s->event_set_index = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->odd_events = g_array_new(FALSE, FALSE, (guint)sizeof(tcpstate_side));
    s->big_lens = g_array_new(FALSE, FALSE, (guint)sizeof(tcpstate_side));
    s->anchors = g_array_new(FALSE, FALSE, (guint)sizeof(guint32));
    s->far_frames = g_array_new(FALSE, FALSE, (guint)sizeof(tcpstate_side));
    s->last_entry_frame = 0;
    s->hint_index = G_MAXUINT;
    s->hint_frame = 0;
    s->bad_layers = g_array_new(FALSE, FALSE, (guint)sizeof(tcpstate_bad));
    return s;
}

void tcpstate_store_free(tcpstate_store *s) {
    if (s == NULL)
        return;
    vec_clear(&s->entries);
    vec_clear(&s->transitions);
    vec_clear(&s->conns);
    g_array_free(s->event_sets, TRUE);
    g_hash_table_destroy(s->event_set_index);
    g_array_free(s->odd_events, TRUE);
    g_array_free(s->big_lens, TRUE);
    g_array_free(s->anchors, TRUE);
    g_array_free(s->far_frames, TRUE);
    g_array_free(s->bad_layers, TRUE);
    g_free(s);
}

/* ---- First pass -------------------------------------------------------------------------- */

static guint8 event_set_of(tcpstate_store *s, guint32 events, guint idx) {
    gpointer found;
    tcpstate_side side = {idx, events};

    if (events == 0)
        return 0;
    /* event_sets[0] = 0 and events != 0: a lookup result of 0 means "absent". */
    found = g_hash_table_lookup(s->event_set_index, GUINT_TO_POINTER(events));
    if (found != NULL)
        return (guint8)GPOINTER_TO_UINT(found);
    if (s->event_sets->len < TCPSTATE_SET_ESCAPE) {
        guint8 set = (guint8)s->event_sets->len;
        g_array_append_val(s->event_sets, events);
        g_hash_table_insert(s->event_set_index, GUINT_TO_POINTER(events), GUINT_TO_POINTER(set));
        return set;
    }
    g_array_append_val(s->odd_events, side);
    return TCPSTATE_SET_ESCAPE;
}

/* The value for entry index in a side table. */
static guint32 side_value(const GArray *side, guint idx) {
    guint lo = 0, hi = side->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(side, tcpstate_side, mid).entry < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < side->len ? g_array_index(side, tcpstate_side, lo).value : 0;
}

static tcpstate_conn *conn_of(const tcpstate_store *s, guint32 conn_id) {
    return conn_id != 0 && conn_id <= s->conns.len ? (tcpstate_conn *)vec_at(&s->conns, conn_id - 1)
                                                   : NULL;
}

/* entered[who] of connection c for a segment of frame: the latest transition of who at
 * or before frame. Transitions are recorded when a record first shows a new entered[who]
 * and hold that frame number, which is never after the record's frame. */
static guint32 conn_entered(const tcpstate_store *s, const tcpstate_conn *c, int who,
                            guint32 frame) {
    guint32 t = c->last;

    while (t != 0) {
        const tcpstate_transition *tr = (const tcpstate_transition *)vec_at(&s->transitions, t - 1);
        if ((tr->prev & TCPSTATE_TR_WHO(who)) && tr->frame <= frame)
            return tr->frame;
        t = tr->prev & TCPSTATE_TR_INDEX;
    }
    return c->first_frame;
}

/* Records the transitions rec shows for its connection. FALSE when out of room. */
static gboolean note_transitions(tcpstate_store *s, const tcps_record *rec, guint32 frame) {
    tcpstate_conn *c;
    tcpstate_transition *tr;
    guint32 who = 0;

    if (rec->conn_id == 0)
        return FALSE;
    while (s->conns.len < rec->conn_id)
        vec_push(&s->conns);
    c = conn_of(s, rec->conn_id);
    if (c->first_frame == 0)
        c->first_frame = rec->entered[0];
    for (int i = 0; i < 2; i++)
        /* The tracker sets entered[i] to the frame of the segment that moved endpoint i, so
         * an older entered[i] was recorded with that segment: no walk on most frames. */
        if (rec->entered[i] == frame && conn_entered(s, c, i, frame) != frame)
            who |= TCPSTATE_TR_WHO(i);
    if (who == 0)
        return TRUE;
    if (s->transitions.len >= TCPSTATE_TR_MAX)
        return FALSE;
    tr = (tcpstate_transition *)vec_push(&s->transitions);
    tr->frame = frame;
    tr->prev = who | c->last;
    c->last = s->transitions.len;
    return TRUE;
}

/* The frame of entry index into e->step, the anchors or far_frames. */
static void set_entry_frame(tcpstate_store *s, tcpstate_entry *e, guint idx, guint32 frame) {
    if ((idx & TCPSTATE_ANCHOR_MASK) == 0) {
        g_array_append_val(s->anchors, frame);
    } else if (frame - s->last_entry_frame < TCPSTATE_STEP_FAR) {
        e->step = (guint8)(frame - s->last_entry_frame);
    } else {
        tcpstate_side side = {idx, frame};
        e->step = TCPSTATE_STEP_FAR;
        g_array_append_val(s->far_frames, side);
    }
    s->last_entry_frame = frame;
}

void tcpstate_store_add(tcpstate_store *s, const tcps_record *rec, const tcps_segment *seg) {
    tcpstate_entry *e;
    guint idx = s->entries.len;
    guint32 bits = 0;

    if (idx == G_MAXUINT || !note_transitions(s, rec, seg->frame))
        return; /* 2^32 layers or 2^31 transitions: beyond what a capture file can hold */
    for (int i = 0; i < 2; i++) {
        bits |= (guint32)(rec->before[i] & 0xf) << TCPSTATE_EB_BEFORE(i);
        bits |= (guint32)(rec->after[i] & 0xf) << TCPSTATE_EB_AFTER(i);
        bits |= (guint32)(rec->cert[i] & 0x3) << TCPSTATE_EB_CERT(i);
    }
    bits |= (guint32)(rec->sender & 1) << TCPSTATE_EB_SENDER;
    bits |= (guint32)(rec->roles_assumed & 1) << TCPSTATE_EB_ROLES;
    bits |= (guint32)seg->flags << TCPSTATE_EB_FLAGS;
    e = (tcpstate_entry *)vec_push(&s->entries);
    set_entry_frame(s, e, idx, seg->frame);
    e->conn_id = rec->conn_id;
    e->bits = bits;
    e->event_set = event_set_of(s, (guint32)rec->events, idx);
    if (seg->len < TCPSTATE_ESCAPE) {
        e->len = (guint16)seg->len;
    } else {
        tcpstate_side side = {idx, seg->len};
        e->len = TCPSTATE_ESCAPE;
        g_array_append_val(s->big_lens, side);
    }
}

void tcpstate_store_add_bad(tcpstate_store *s, guint32 frame, guint32 reason) {
    tcpstate_bad b = {frame, reason};

    g_array_append_val(s->bad_layers, b);
}

/* ---- Every pass -------------------------------------------------------------------------- */

/* The frame of entry index, given prev, the frame of entry index - 1. */
static guint32 entry_frame_after(const tcpstate_store *s, guint idx, guint32 prev) {
    guint8 step;

    if ((idx & TCPSTATE_ANCHOR_MASK) == 0)
        return g_array_index(s->anchors, guint32, idx >> TCPSTATE_ANCHOR_BITS);
    step = ((const tcpstate_entry *)vec_at(&s->entries, idx))->step;
    return step == TCPSTATE_STEP_FAR ? side_value(s->far_frames, idx) : prev + step;
}

/* Frames are mostly shown in order, so the entry after the previous answer is tried first;
 * else a binary search of the anchors and at most 64 steps. */
gint tcpstate_store_find(tcpstate_store *s, guint32 frame) {
    guint lo = 0, hi, i, end;
    guint32 f;

    if (s == NULL || s->entries.len == 0)
        return -1;
    if (s->hint_index < s->entries.len && s->hint_frame < frame) {
        i = s->hint_index + 1;
        if (i >= s->entries.len)
            return -1;
        f = entry_frame_after(s, i, s->hint_frame);
        if (f > frame)
            return -1;
        if (f == frame) {
            s->hint_index = i;
            s->hint_frame = f;
            return (gint)i;
        }
    }
    hi = s->anchors->len;
    while (lo < hi) { /* the first anchor at or after frame */
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(s->anchors, guint32, mid) < frame)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* The first entry of frame is in the block before that anchor, or is that anchor. */
    i = lo > 0 ? (lo - 1) << TCPSTATE_ANCHOR_BITS : 0;
    end = MIN(s->entries.len, (lo << TCPSTATE_ANCHOR_BITS) + 1);
    f = g_array_index(s->anchors, guint32, i >> TCPSTATE_ANCHOR_BITS);
    while (f < frame && ++i < end)
        f = entry_frame_after(s, i, f);
    if (i >= end || f != frame)
        return -1;
    s->hint_index = i;
    s->hint_frame = f;
    return (gint)i;
}

gint tcpstate_store_next(const tcpstate_store *s, guint idx, guint32 frame) {
    guint next = idx + 1;

    return next < s->entries.len && entry_frame_after(s, next, frame) == frame ? (gint)next : -1;
}

void tcpstate_store_get(const tcpstate_store *s, guint idx, tcpstate_rec *rec) {
    const tcpstate_entry *e = (const tcpstate_entry *)vec_at(&s->entries, idx);
    guint32 bits = e->bits;

    memset(rec, 0, sizeof *rec);
    rec->conn_id = e->conn_id;
    for (int i = 0; i < 2; i++) {
        rec->before[i] = (guint8)((bits >> TCPSTATE_EB_BEFORE(i)) & 0xf);
        rec->after[i] = (guint8)((bits >> TCPSTATE_EB_AFTER(i)) & 0xf);
        rec->cert[i] = (guint8)((bits >> TCPSTATE_EB_CERT(i)) & 0x3);
    }
    rec->sender = (guint8)((bits >> TCPSTATE_EB_SENDER) & 1);
    rec->roles_assumed = (guint8)((bits >> TCPSTATE_EB_ROLES) & 1);
    rec->flags = (guint8)(bits >> TCPSTATE_EB_FLAGS);
    rec->events = e->event_set == TCPSTATE_SET_ESCAPE
                      ? side_value(s->odd_events, idx)
                      : g_array_index(s->event_sets, guint32, e->event_set);
    rec->len = e->len == TCPSTATE_ESCAPE ? side_value(s->big_lens, idx) : e->len;
}

void tcpstate_store_entered(const tcpstate_store *s, guint32 frame, tcpstate_rec *rec) {
    const tcpstate_conn *c = conn_of(s, rec->conn_id);

    for (int i = 0; i < 2; i++)
        rec->entered[i] = c != NULL ? conn_entered(s, c, i, frame) : 0;
}

const tcpstate_bad *tcpstate_store_bad(const tcpstate_store *s, guint32 frame, guint *n) {
    guint lo = 0, hi = s != NULL ? s->bad_layers->len : 0, first;

    *n = 0;
    if (hi == 0)
        return NULL;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(s->bad_layers, tcpstate_bad, mid).frame < frame)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (first = lo; lo < s->bad_layers->len; lo++) {
        if (g_array_index(s->bad_layers, tcpstate_bad, lo).frame != frame)
            break;
    }
    *n = lo - first;
    return *n != 0 ? &g_array_index(s->bad_layers, tcpstate_bad, first) : NULL;
}
