/* tcpstate.c: the state tracker. See tcpstate.h for the contract.
 *
 * Each connection keeps one tcps__peer per endpoint (as pf keeps src and dst).
 * A segment is first checked against the sender (what it sent proves its own
 * state: SYN, SYN-ACK, FIN, RST; its ACK proves what it had received), then
 * delivered to the receiver (assumed delivered unless later evidence
 * contradicts it). State changes go through the RFC 9293 diagram in
 * tcps__next[][]; the few cases a table cannot say (simultaneous open and
 * close, passive reset, midstream pickup) are small functions below.
 */
#include "tcpstate.h"

#include <stdlib.h>
#include <string.h>

/* Inlined into tcps_process() even where the replay calls it too. */
#if defined(__GNUC__)
#define TCPS__HOT inline __attribute__((always_inline))
#else
#define TCPS__HOT inline
#endif

/* ---- serial-number arithmetic (RFC 1982), the only place seqs compare ---- */
#define TCPS__SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define TCPS__SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define TCPS__SEQ_GT(a, b) TCPS__SEQ_LT(b, a)
#define TCPS__SEQ_GEQ(a, b) TCPS__SEQ_LEQ(b, a)

/* ---- names ---- */
static const char *const tcps__state_names[] = {
#define XX(name, str) str,
    TCPS_STATE_MAP(XX)
#undef XX
};
static const char *const tcps__cert_names[] = {
#define XX(name, str) str,
    TCPS_CERTAINTY_MAP(XX)
#undef XX
};
static const char *const tcps__event_names[] = {
#define XX(name, tok, sev, desc) tok,
    TCPS_EVENT_MAP(XX)
#undef XX
};
static const char *const tcps__event_desc[] = {
#define XX(name, tok, sev, desc) desc,
    TCPS_EVENT_MAP(XX)
#undef XX
};
static const signed char tcps__event_sev[] = {
#define XX(name, tok, sev, desc) sev,
    TCPS_EVENT_MAP(XX)
#undef XX
};

const char *tcps_state_name(int s)
{
    return (s >= 0 && s < TCPS_STATE_COUNT) ? tcps__state_names[s] : "?";
}
const char *tcps_certainty_name(int c)
{
    return (c >= 0 && c < TCPS_CERT_COUNT) ? tcps__cert_names[c] : "?";
}
const char *tcps_event_name(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_names[e] : "?";
}
const char *tcps_event_description(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_desc[e] : "?";
}
int tcps_event_severity(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_sev[e] : -1;
}

static const signed char tcps__rank_of[TCPS_STATE_COUNT] = {
    [TCPS_CLOSED] = 0,      [TCPS_LISTEN] = 1,     [TCPS_SYN_SENT] = 2,
    [TCPS_SYN_RECEIVED] = 3, [TCPS_ESTABLISHED] = 4, [TCPS_FIN_WAIT_1] = 5,
    [TCPS_CLOSE_WAIT] = 5,  [TCPS_FIN_WAIT_2] = 6, [TCPS_CLOSING] = 6,
    [TCPS_LAST_ACK] = 6,    [TCPS_TIME_WAIT] = 7,
};

/* tcps_state_rank() for a valid state (s < TCPS_STATE_COUNT). */
static inline int tcps__rank(unsigned s, int ended)
{
    return (ended && s <= TCPS_LISTEN) ? 8 : tcps__rank_of[s];
}

int tcps_state_rank(int s, int ended)
{
    if (s < 0 || s >= TCPS_STATE_COUNT)
        return -1;
    return tcps__rank((unsigned)s, ended);
}

/* ---- the RFC 9293 state diagram as data ----
 * What one endpoint does on one input; TCPS__SAME = no arc (state unchanged). */
enum tcps__input {
    IN_SND_SYN,     /* 3.10.1 active OPEN; 3.10.2 SEND in LISTEN */
    IN_SND_SYNACK,  /* 3.10.7.2 SYN in LISTEN; 3.10.7.3 SYN in SYN-SENT */
    IN_SND_FIN,     /* 3.10.4 CLOSE */
    IN_SND_RST,     /* 3.10.5 ABORT, or 3.10.7.1 reply from no connection */
    IN_RCV_SYN,     /* 3.10.7.3 fourth: SYN in SYN-SENT (simultaneous open) */
    IN_RCV_SYNACK,  /* 3.10.7.3 fourth: SYN,ACK acknowledging our SYN */
    IN_RCV_ACK_SYN, /* 3.10.7.4 fifth: ACK of our SYN in SYN-RECEIVED */
    IN_RCV_ACK_FIN, /* 3.10.7.4 fifth: ACK of our FIN */
    IN_RCV_FIN,     /* 3.10.7.4 eighth: FIN */
    IN_RCV_RST,     /* 3.10.7.3 / 3.10.7.4 second: acceptable RST */
    IN_TIMEOUT,     /* 3.10.8 TIME-WAIT timeout */
    IN_COUNT
};
#define TCPS__SAME 0xff
#define A(st) (TCPS_##st + 1) /* entries are state + 1; 0 = no arc */

static const uint8_t tcps__next[TCPS_STATE_COUNT][IN_COUNT] = {
    /* A [state] row lists the arcs leaving it; unlisted inputs keep the state. */
    [TCPS_CLOSED] = {[IN_SND_SYN] = A(SYN_SENT), [IN_SND_RST] = A(CLOSED)},
    [TCPS_LISTEN] = {[IN_SND_SYN] = A(SYN_SENT), [IN_SND_SYNACK] = A(SYN_RECEIVED),
                     [IN_SND_RST] = A(CLOSED)},
    [TCPS_SYN_SENT] = {[IN_SND_SYNACK] = A(SYN_RECEIVED), [IN_SND_RST] = A(CLOSED),
                       [IN_RCV_SYN] = A(SYN_RECEIVED), [IN_RCV_SYNACK] = A(ESTABLISHED),
                       [IN_RCV_RST] = A(CLOSED)},
    [TCPS_SYN_RECEIVED] = {[IN_SND_FIN] = A(FIN_WAIT_1), [IN_SND_RST] = A(CLOSED),
                           [IN_RCV_SYNACK] = A(ESTABLISHED), [IN_RCV_ACK_SYN] = A(ESTABLISHED),
                           [IN_RCV_FIN] = A(CLOSE_WAIT), [IN_RCV_RST] = A(CLOSED)},
    [TCPS_ESTABLISHED] = {[IN_SND_FIN] = A(FIN_WAIT_1), [IN_SND_RST] = A(CLOSED),
                          [IN_RCV_FIN] = A(CLOSE_WAIT), [IN_RCV_RST] = A(CLOSED)},
    [TCPS_CLOSE_WAIT] = {[IN_SND_FIN] = A(LAST_ACK), [IN_SND_RST] = A(CLOSED),
                         [IN_RCV_RST] = A(CLOSED)},
    [TCPS_FIN_WAIT_1] = {[IN_SND_RST] = A(CLOSED), [IN_RCV_ACK_FIN] = A(FIN_WAIT_2),
                         [IN_RCV_FIN] = A(CLOSING), [IN_RCV_RST] = A(CLOSED)},
    [TCPS_CLOSING] = {[IN_SND_RST] = A(CLOSED), [IN_RCV_ACK_FIN] = A(TIME_WAIT),
                      [IN_RCV_RST] = A(CLOSED)},
    [TCPS_LAST_ACK] = {[IN_SND_RST] = A(CLOSED), [IN_RCV_ACK_FIN] = A(CLOSED),
                       [IN_RCV_RST] = A(CLOSED)},
    [TCPS_FIN_WAIT_2] = {[IN_SND_RST] = A(CLOSED), [IN_RCV_FIN] = A(TIME_WAIT),
                         [IN_RCV_RST] = A(CLOSED)},
    [TCPS_TIME_WAIT] = {[IN_SND_RST] = A(CLOSED), [IN_RCV_RST] = A(CLOSED),
                        [IN_TIMEOUT] = A(CLOSED)},
};
#undef A

static int tcps__arc(int state, enum tcps__input in)
{
    uint8_t n = tcps__next[state][in];
    return n ? n - 1 : TCPS__SAME;
}

/* ---- connections ----
 * Memory is what a capture of millions of connections costs: a connection is
 * 128 bytes, stored in fixed chunks (no copying, no doubling slack); IPv6
 * address pairs live in a side table; the hindsight log is one shared arena
 * of 16-byte entries linked per connection (and their times beside them when
 * a TIME_WAIT timer is configured). What few connections need lives in side
 * maps keyed by the connection's index: hindsight evidence (t->afters) and a
 * hindsight timeline once asked for (t->xs). */
typedef struct tcps__peer {
    uint32_t isn;     /* sequence number of its SYN */
    uint32_t snd_nxt; /* highest sequence end it sent (SYN and FIN count one) */
    uint32_t max_ack; /* highest ACK it sent: what it proved it received */
    uint32_t fin_seq; /* sequence number of its FIN */
    /* last window it advertised, scaled when known (65535 << 14 at most) */
    uint32_t win : 30;
    uint32_t win_known : 1; /* win is a real scaled value */
    uint32_t pend_fin_acks : 1; /* see pend_fin */
    uint32_t entered; /* frame where the state was entered */
    uint32_t entered_ms; /* ... and when, in ms since the connection's first segment */
    uint32_t last_us;    /* its previous segment: when (us since the first segment) */
    uint32_t last_hash;  /* ... and a hash of its seq, ack, len, window and flags */
    /* The rest in 4 bytes: state, the most used, whole. */
    uint8_t state;
    uint8_t ended : 1; /* the connection is over for this endpoint */
    /* With a known vantage, this is the far end and the near end's FIN is in
     * flight to it (pend_fin_acks: that segment also acknowledged its FIN). */
    uint8_t pend_fin : 1;
    uint8_t cert : 2;
    uint8_t wscale : 4; /* window scale option of its SYN, capped; TCPS__NO_WSCALE none */
    uint8_t proof : 2;  /* confirmed once it ACKs the peer's: 0 nothing, 1 SYN, 2 FIN */
    uint8_t has_isn : 1, has_nxt : 1, has_ack : 1, has_fin : 1, has_last : 1;
    uint8_t passive : 1;  /* entered SYN_RECEIVED from LISTEN */
    uint8_t pend_syn : 1; /* peer's SYN in flight: it sent a bare SYN before receiving it */
    uint8_t sent_synack : 1;
    uint8_t syn_covered : 1, fin_covered : 1;
    /* hindsight: it has a log entry marked TCPS__E_SYN_ORD, ... (its first
     * SYN, first FIN, first ACK covering the peer's SYN and FIN) */
    uint8_t has_syn_ord : 1, has_fin_ord : 1, has_ack_syn_ord : 1, has_ack_fin_ord : 1;
} tcps__peer;

enum { TCPS__PROOF_NONE, TCPS__PROOF_SYN, TCPS__PROOF_FIN };
#define TCPS__MAX_WSCALE 14 /* RFC 7323 2.3: larger shifts are taken as 14 */
#define TCPS__NO_WSCALE 15

/* A significant segment kept for the hindsight replay, in 16 bytes. Its time
 * (ms since the connection's first segment) matters only to a TIME_WAIT
 * timer: it is kept beside it, in tchunks, only when one is configured.
 *
 * Entries of a connection are linked backwards (appending writes nothing but
 * the new entry: no cache miss on an old one), the connection keeping its
 * last (log_tail) and that one's frame (log_frame). An entry keeps its frame
 * and its link as differences from its predecessor in the connection, and its
 * payload length, in narrow fields; when one does not fit (a gap of 2^20
 * frames or 2^19 - 1 entries, 4 KiB of payload, any modular difference) the
 * entry is wide: all three are whole in the slot just before it (tcps__wide),
 * 32 bytes for that entry. The replay reads no other flags than FIN, SYN, RST
 * and ACK. */
typedef struct tcps__entry {
    uint32_t seq, ack;
    /* dframe (20 bits): frame - its predecessor's frame (mod 2^32), 0 for the
     * first; len (12 bits, the top): payload */
    uint32_t fl;
    uint16_t dprev;   /* index - its predecessor's index (low 16 bits; 0 = first) */
    uint8_t dprev_hi; /* ... its 3 high bits; TCPS__E_WIDE; flags (tcps__eflags()) << 4 */
    uint8_t bits; /* TCPS__E_SERVER, TCPS__E_LOST, RST verdict in TCPS__E_RST, marks */
} tcps__entry;

#define TCPS__E_WIDE 8 /* dframe, len and dprev are in the slot before (tcps__wide) */

/* The slot before a wide entry. */
typedef struct tcps__wide {
    uint32_t dframe; /* frame - its predecessor's frame (mod 2^32) */
    uint32_t prev;   /* its predecessor's index + 1; 0 = first */
    uint32_t len;    /* payload, saturated at 65535 */
    uint32_t unused;
} tcps__wide;

typedef union tcps__slot {
    tcps__entry e;
    tcps__wide w;
} tcps__slot;

#define TCPS__DFRAME_MAX ((1u << 20) - 1)
#define TCPS__DPREV_MAX ((1u << 19) - 1)
#define TCPS__LEN_MAX ((1u << 12) - 1)

_Static_assert(sizeof(tcps__entry) == 16 && sizeof(tcps__slot) == 16, "a log slot is 16 bytes");

/* An entry decoded for the replay. */
typedef struct tcps__item {
    uint32_t frame, seq, ack, time_ms;
    uint16_t len;
    uint8_t flags, bits;
} tcps__item;

/* TCPS_FIN, TCPS_SYN, TCPS_RST and TCPS_ACK in 4 bits, and back. */
static inline uint32_t tcps__eflags(uint8_t f)
{
    return (uint32_t)(f & 7u) | (uint32_t)((f >> 1) & 8u);
}
static inline uint8_t tcps__flags_of(const tcps__entry *e)
{
    unsigned f = e->dprev_hi >> 4;
    return (uint8_t)((f & 7u) | ((f & 8u) << 1));
}

enum {
    TCPS__E_SERVER = 1, /* sent by the server */
    TCPS__E_LOST = 2,   /* never delivered: what it acknowledged was retransmitted */
    TCPS__E_RST = 12,   /* RST verdict of pass 1: 0 ignored, 4 challenge, 8 accepted */
    TCPS__E_RST_SHIFT = 2,
    /* Marks of the sender's entries the hindsight bookkeeping refers to (the
     * connection keeps only whether it has one: has_syn_ord, ...): */
    TCPS__E_SYN_ORD = 16,     /* its first SYN (or its SYN with a new ISN) */
    TCPS__E_FIN_ORD = 32,     /* its first FIN */
    TCPS__E_ACK_SYN_ORD = 64, /* its first ACK covering the peer's SYN */
    TCPS__E_ACK_FIN_ORD = 128 /* its first ACK covering the peer's FIN */
};

/* A hindsight state change: endpoint's state from (frame, pos) on; pos 0 =
 * before the frame, 1 = after it, 2 = between it and the next one. */
typedef struct tcps__point {
    uint32_t frame;
    uint8_t pos, endpoint, state, ended;
} tcps__point;

#define TCPS__MAX_LOG 64
#define TCPS__MAX_POINTS 200

/* What few connections have lives in side maps keyed by the connection's
 * index (open addressing). Hindsight evidence, in t->afters: the peer's ACK
 * did not cover endpoint `who`'s SYN or FIN (what) until after frame `after`
 * (no entry, or 0: covered at once). */
typedef struct tcps__after_ent {
    uint32_t key; /* connection index + 1; 0 = empty slot */
    uint32_t after;
    uint8_t sel; /* who << 1 | what */
} tcps__after_ent;

enum { TCPS__AFTER_SYN, TCPS__AFTER_FIN };

/* A hindsight timeline, in t->xs, made by the first tcps_hindsight() query
 * of a connection with evidence. */
typedef struct tcps__extra {
    uint32_t key; /* connection index + 1; 0 = empty slot */
    uint8_t ntl, captl;
    uint8_t hs_init[2]; /* hindsight states before the first segment */
    tcps__point *tl;    /* valid if the connection's hs_valid */
} tcps__extra;

/* Fields in the order a segment reads them (the tuple, the peers, what the
 * record needs), the hindsight bookkeeping last; chunks are cache-line
 * aligned. */
typedef struct tcps__conn {
    uint32_t a[2]; /* IPv4 addresses (network order bytes), or a[0] = IPv6 pair index */
    uint32_t zone;
    uint16_t port[2];
    uint8_t family, roles_assumed;
    uint8_t hs_valid : 1, hs_overflow : 1;
    uint8_t hs_differs : 1; /* evidence seen: hindsight may differ from causal */
    uint8_t hs_after : 1;   /* it has entries in t->afters */
    uint8_t nlog;
    uint32_t last_frame;
    uint32_t events; /* union of its events (TCPS_EVENT_COUNT <= 32) */
    uint32_t first_frame;
    uint64_t base_ns; /* capture time of its first segment */
    uint32_t log_tail; /* hindsight log: its last entry's index + 1, 0 = empty */
    tcps__peer p[2];   /* TCPS_CLIENT, TCPS_SERVER */
    uint32_t log_frame; /* frame of its last log entry */
} tcps__conn;

_Static_assert(TCPS_EVENT_COUNT <= 32, "tcps__conn.events holds every event bit");
/* Two cache lines: a segment touches both ends' state and sequence space. */
_Static_assert(sizeof(tcps__peer) == 40, "tcps__peer is 40 bytes");
_Static_assert(sizeof(tcps__conn) == 128, "tcps__conn is 128 bytes");

#define TCPS__CHUNK 1024  /* connections per chunk */
#define TCPS__ECHUNK 4096 /* log entries per chunk */

struct tcps_tracker {
    tcps_config cfg;
    tcps__conn **chunks; /* conn_id = index + 1 */
    size_t nconns, nchunks;
    uint64_t *slots; /* open addressing: hash tag << 32 | conn index + 1; 0 = empty */
    size_t nslots, used;
    /* Direct-mapped cache of slot values by hash, once the table outgrows
     * the CPU caches: the connections in progress are found without
     * touching the big table. An entry whose tuple matches is always its
     * current connection (a new one for a tuple overwrites it). */
    uint64_t *recent;
    uint8_t (*v6)[2][16]; /* IPv6 address pairs */
    size_t nv6, capv6;
    tcps__slot **echunks; /* hindsight log arena (entries, and wide entries' slots before) */
    uint32_t **tchunks;    /* the entries' times, with a TIME_WAIT timer; else NULL */
    size_t nentries, nechunks;
    tcps__extra *xs; /* hindsight timelines */
    size_t nxs, xused;
    tcps__after_ent *afters; /* hindsight evidence */
    size_t nafters, aused;
};

static tcps__conn *tcps__conn_at(const tcps_tracker *t, size_t i)
{
    return &t->chunks[i / TCPS__CHUNK][i % TCPS__CHUNK];
}

static tcps__slot *tcps__slot_at(const tcps_tracker *t, uint32_t i)
{
    return &t->echunks[i / TCPS__ECHUNK][i % TCPS__ECHUNK];
}

static tcps__entry *tcps__entry_at(const tcps_tracker *t, uint32_t i)
{
    return &tcps__slot_at(t, i)->e;
}

/* The index + 1 of the predecessor of entry i - 1 (0: none), and its
 * dframe in *dframe unless NULL. */
static uint32_t tcps__prev(const tcps_tracker *t, uint32_t i, uint32_t *dframe)
{
    const tcps__entry *e = tcps__entry_at(t, i - 1);
    if (e->dprev_hi & TCPS__E_WIDE) {
        const tcps__wide *w = &tcps__slot_at(t, i - 2)->w;
        if (dframe)
            *dframe = w->dframe;
        return w->prev;
    }
    if (dframe)
        *dframe = e->fl & TCPS__DFRAME_MAX;
    uint32_t d = e->dprev | (uint32_t)(e->dprev_hi & 7u) << 16;
    return d ? i - d : 0;
}

/* Time of s since the connection's first segment, saturated. */
static uint32_t tcps__rel(const tcps__conn *c, uint64_t ns, uint64_t unit)
{
    uint64_t d = ns > c->base_ns ? (ns - c->base_ns) / unit : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static size_t tcps__map_home(uint32_t key, size_t n)
{
    return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 32) & (n - 1);
}

/* Grows a side map (t->xs, t->afters): open addressing over *n slots of size
 * bytes whose first member is a uint32_t key, 0 = empty. Returns the slots
 * rehashed into twice as many (64 at first) and updates *n, or NULL when out
 * of memory (the map is then as it was). */
static void *tcps__map_grow(void *slots, size_t *n, size_t size)
{
    size_t m = *n ? *n * 2 : 64;
    char *fresh = calloc(m, size);
    if (!fresh)
        return NULL;
    for (size_t i = 0; i < *n; i++) {
        const char *slot = (const char *)slots + i * size;
        uint32_t key, taken;
        memcpy(&key, slot, sizeof(key));
        if (!key)
            continue;
        size_t k = tcps__map_home(key, m);
        while (memcpy(&taken, fresh + k * size, sizeof(taken)), taken)
            k = (k + 1) & (m - 1);
        memcpy(fresh + k * size, slot, size);
    }
    free(slots);
    *n = m;
    return fresh;
}

/* The side entry of connection idx, or NULL if it has none. */
static tcps__extra *tcps__extra_find(const tcps_tracker *t, uint32_t idx)
{
    if (!t->nxs)
        return NULL;
    for (size_t i = tcps__map_home(idx + 1, t->nxs);; i = (i + 1) & (t->nxs - 1)) {
        if (t->xs[i].key == idx + 1)
            return &t->xs[i];
        if (t->xs[i].key == 0)
            return NULL;
    }
}

/* The side entry of connection idx, made (zeroed) if it has none; NULL when
 * out of memory. Pointers into the map last until the next one is made. */
static tcps__extra *tcps__extra_get(tcps_tracker *t, uint32_t idx)
{
    tcps__extra *e = tcps__extra_find(t, idx);
    if (e)
        return e;
    if ((t->xused + 1) * 4 > t->nxs * 3) {
        tcps__extra *xs = tcps__map_grow(t->xs, &t->nxs, sizeof(*xs));
        if (!xs)
            return NULL;
        t->xs = xs;
    }
    size_t i = tcps__map_home(idx + 1, t->nxs);
    while (t->xs[i].key)
        i = (i + 1) & (t->nxs - 1);
    t->xused++;
    t->xs[i].key = idx + 1;
    return &t->xs[i];
}

/* The evidence slot of (idx, sel), or the empty slot where it would go;
 * NULL if the map is empty. */
static tcps__after_ent *tcps__after_slot(const tcps_tracker *t, uint32_t idx, int sel)
{
    if (!t->nafters)
        return NULL;
    for (size_t i = tcps__map_home(idx + 1, t->nafters);; i = (i + 1) & (t->nafters - 1)) {
        tcps__after_ent *e = &t->afters[i];
        if (e->key == 0 || (e->key == idx + 1 && e->sel == sel))
            return e;
    }
}

/* Evidence: endpoint who's SYN or FIN (what) reached its peer after frame
 * (0: at once). Out of memory, the connection's hindsight becomes unknown. */
static void tcps__set_after(tcps_tracker *t, tcps__conn *c, uint32_t idx, int who, int what,
                            uint32_t frame)
{
    int sel = who << 1 | what;
    tcps__after_ent *e;
    if (!frame) {
        if (c->hs_after && (e = tcps__after_slot(t, idx, sel)) && e->key)
            e->after = 0;
        return;
    }
    if ((t->aused + 1) * 4 > t->nafters * 3) {
        tcps__after_ent *m = tcps__map_grow(t->afters, &t->nafters, sizeof(*m));
        if (!m) {
            c->hs_overflow = 1;
            return;
        }
        t->afters = m;
    }
    e = tcps__after_slot(t, idx, sel);
    if (!e->key) {
        e->key = idx + 1;
        e->sel = (uint8_t)sel;
        t->aused++;
    }
    e->after = frame;
    c->hs_after = 1;
}

/* The evidence of (idx, who, what), as tcps__set_after() left it. */
static uint32_t tcps__get_after(const tcps_tracker *t, const tcps__conn *c, uint32_t idx,
                                int who, int what)
{
    const tcps__after_ent *e = c->hs_after ? tcps__after_slot(t, idx, who << 1 | what) : NULL;
    return e && e->key ? e->after : 0;
}

void tcps_config_init(tcps_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->midstream = 1;
    cfg->vantage = TCPS_VANTAGE_UNKNOWN;
    cfg->hindsight = 1;
}

tcps_tracker *tcps_new(const tcps_config *cfg)
{
    tcps_tracker *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (cfg)
        t->cfg = *cfg;
    else
        tcps_config_init(&t->cfg);
    return t;
}

void tcps_free(tcps_tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nxs; i++)
        free(t->xs[i].tl);
    free(t->xs);
    free(t->afters);
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    for (size_t i = 0; i < t->nechunks; i++) {
        free(t->echunks[i]);
        if (t->tchunks)
            free(t->tchunks[i]);
    }
    free(t->tchunks);
    free(t->chunks);
    free(t->echunks);
    free(t->slots);
    free(t->recent);
    free(t->v6);
    free(t);
}

size_t tcps_conn_count(const tcps_tracker *t)
{
    return t ? t->nconns : 0;
}

static size_t tcps__addr_len(uint8_t family)
{
    return family == 6 ? 16 : 4;
}

static TCPS__HOT uint64_t tcps__mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* One endpoint folded into 64 bits: address words and port. */
static inline uint64_t tcps__end_key(const uint8_t *a, uint8_t family, uint16_t port)
{
    uint32_t w[4];
    if (family != 6) {
        uint32_t v4;
        memcpy(&v4, a, 4);
        return ((uint64_t)v4 << 16) | port;
    }
    memcpy(w, a, 16);
    return ((uint64_t)(w[0] ^ w[1] * 31u ^ w[2] * 961u ^ w[3] * 29791u) << 16) | port;
}

/* Symmetric in the two endpoints: both directions find the connection. Only
 * where a connection sits in the table depends on it, never an outcome. */
static inline uint64_t tcps__hash_keys(uint64_t ka, uint64_t kb, uint8_t family, uint32_t zone)
{
    uint64_t lo = ka < kb ? ka : kb, hi = ka < kb ? kb : ka;
    uint64_t h = (lo * 0x9e3779b97f4a7c15ULL + hi) ^ ((uint64_t)zone << 8 | family);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static inline uint64_t tcps__hash_tuple(const uint8_t *a, uint16_t pa, const uint8_t *b,
                                        uint16_t pb, uint8_t family, uint32_t zone)
{
    return tcps__hash_keys(tcps__end_key(a, family, pa), tcps__end_key(b, family, pb), family,
                           zone);
}

static const uint8_t *tcps__addr(const tcps_tracker *t, const tcps__conn *c, int who)
{
    return c->family == 6 ? t->v6[c->a[0]][who] : (const uint8_t *)&c->a[who];
}

/* Which end of c sent s: TCPS_CLIENT, TCPS_SERVER, or -1 if s is not c's. */
static inline int tcps__match(const tcps_tracker *t, const tcps__conn *c, const tcps_segment *s)
{
    if (c->family != s->family || c->zone != s->zone)
        return -1;
    if (s->family == 4) {
        uint32_t src, dst;
        memcpy(&src, s->src, 4);
        memcpy(&dst, s->dst, 4);
        if (c->port[0] == s->sport && c->port[1] == s->dport && c->a[0] == src && c->a[1] == dst)
            return 0;
        if (c->port[1] == s->sport && c->port[0] == s->dport && c->a[1] == src && c->a[0] == dst)
            return 1;
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (c->port[i] == s->sport && c->port[!i] == s->dport &&
            memcmp(tcps__addr(t, c, i), s->src, 16) == 0 &&
            memcmp(tcps__addr(t, c, !i), s->dst, 16) == 0)
            return i;
    }
    return -1;
}

/* The slot of s's connection (h: its tcps__hash_seg()), or the empty slot
 * where it would go; *sender is tcps__match() of the connection found. A
 * slot keeps the hash's high 32 bits (the tag) beside the index, so other
 * connections are not touched, and the tag alone places it: growing the
 * table reads no connection. */
static TCPS__HOT uint64_t *tcps__find_slot(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                                           int *sender)
{
    if (!t->nslots)
        return NULL;
    size_t mask = t->nslots - 1;
    uint32_t tg = (uint32_t)(h >> 32);
    for (size_t i = (size_t)tg & mask;; i = (i + 1) & mask) {
        uint64_t v = t->slots[i];
        if (v == 0)
            return &t->slots[i];
        if ((uint32_t)(v >> 32) == tg &&
            (*sender = tcps__match(t, tcps__conn_at(t, (uint32_t)v - 1), s)) >= 0)
            return &t->slots[i];
    }
}

static TCPS__HOT uint64_t tcps__hash_seg(const tcps_segment *s)
{
    return tcps__hash_tuple(s->src, s->sport, s->dst, s->dport, s->family, s->zone);
}

#define TCPS__RECENT (1u << 15) /* entries of t->recent: 256 KiB */

/* The slot value (tag << 32 | index + 1) of s's connection, 0 if none;
 * *sender as tcps__match(). */
static TCPS__HOT uint64_t tcps__find(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                                     int *sender)
{
    uint64_t *r = t->recent ? &t->recent[h & (TCPS__RECENT - 1)] : NULL;
    if (r && *r && (uint32_t)(*r >> 32) == (uint32_t)(h >> 32) &&
        (*sender = tcps__match(t, tcps__conn_at(t, (uint32_t)*r - 1), s)) >= 0)
        return *r;
    uint64_t *slot = tcps__find_slot(t, s, h, sender);
    if (!slot || !*slot)
        return 0;
    if (r)
        *r = *slot;
    return *slot;
}

static int tcps__grow_slots(tcps_tracker *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    uint64_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->slots[i])
            continue;
        size_t k = (size_t)(t->slots[i] >> 32) & (n - 1); /* the tag places it */
        while (slots[k])
            k = (k + 1) & (n - 1);
        slots[k] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    if (!t->recent && n >= 4 * TCPS__RECENT)
        t->recent = calloc(TCPS__RECENT, sizeof(*t->recent)); /* NULL: not used */
    return 0;
}

/* The peers of c (zeroed by the caller) before s. */
static void tcps__init_peers(tcps__conn *c, const tcps_segment *s, int server_state)
{
    for (int i = 0; i < 2; i++) {
        tcps__peer *p = &c->p[i];
        p->wscale = TCPS__NO_WSCALE;
        p->entered = s->frame;
        p->cert = TCPS_CERT_ASSUMED;
    }
    c->p[TCPS_CLIENT].state = TCPS_CLOSED;
    c->p[TCPS_SERVER].state = (uint8_t)server_state;
}

/* Appends a connection for s with client = sender if sender_is_client;
 * returns its index, or -1 when out of memory. */
static long tcps__new_conn(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                           int sender_is_client)
{
    if (t->nconns >= UINT32_MAX - 1)
        return -1;
    if ((t->used + 1) * 4 > t->nslots * 3 && tcps__grow_slots(t) < 0)
        return -1;
    if (t->nconns == t->nchunks * TCPS__CHUNK) {
        tcps__conn **ch = realloc(t->chunks, (t->nchunks + 1) * sizeof(*ch));
        if (!ch)
            return -1;
        t->chunks = ch;
        if (!(ch[t->nchunks] = aligned_alloc(64, TCPS__CHUNK * sizeof(tcps__conn))))
            return -1;
        t->nchunks++;
    }
    int ci = sender_is_client ? 0 : 1;
    uint32_t v6 = 0;
    if (s->family == 6) {
        if (t->nv6 == t->capv6) {
            size_t n = t->capv6 ? t->capv6 * 2 : 64;
            void *nv = realloc(t->v6, n * sizeof(*t->v6));
            if (!nv)
                return -1;
            t->v6 = nv;
            t->capv6 = n;
        }
        v6 = (uint32_t)t->nv6++;
        memcpy(t->v6[v6][ci], s->src, 16);
        memcpy(t->v6[v6][!ci], s->dst, 16);
    }
    int sender;
    uint32_t tag = (uint32_t)(h >> 32);
    uint64_t *slot = tcps__find_slot(t, s, h, &sender);
    if (*slot == 0)
        t->used++;
    long idx = (long)t->nconns++;
    tcps__conn *c = tcps__conn_at(t, (size_t)idx);
    *slot = (uint64_t)tag << 32 | ((uint32_t)idx + 1);
    if (t->recent)
        t->recent[h & (TCPS__RECENT - 1)] = *slot;
    memset(c, 0, sizeof(*c));
    c->family = s->family;
    c->zone = s->zone;
    if (s->family == 6) {
        c->a[0] = v6;
    } else {
        memcpy(&c->a[ci], s->src, 4);
        memcpy(&c->a[!ci], s->dst, 4);
    }
    c->port[ci] = s->sport;
    c->port[!ci] = s->dport;
    c->first_frame = s->frame;
    c->base_ns = s->time_ns;
    tcps__init_peers(c, s, TCPS_LISTEN);
    return idx;
}

/* ---- per-segment context ---- */
typedef struct tcps__ctx {
    const tcps_segment *seg;
    tcps__conn *c;
    tcps__peer *snd, *rcv;
    uint64_t ev;
    uint32_t end; /* seq + len + SYN + FIN */
    int replay;   /* hindsight replay: record state changes in tl->tl */
    tcps__extra *tl; /* replay: where the timeline goes */
    int8_t rst;   /* replay: the RST verdict of pass 1 (data is not replayed) */
    uint8_t pos;  /* where a change is recorded: 0 before, 1 after, 2 between */
    uint32_t at;  /* frame a change is recorded at */
    uint32_t id;  /* connection index */
    uint64_t h;   /* tcps__hash_seg(seg) */
    uint8_t far;  /* with a known vantage: the far endpoint + 1; 0 unknown (and in replays) */
} tcps__ctx;

static void tcps__point_add(tcps__ctx *x, const tcps__peer *p)
{
    tcps__conn *c = x->c;
    tcps__extra *h = x->tl;
    if (h->ntl >= TCPS__MAX_POINTS) {
        c->hs_overflow = 1;
        return;
    }
    if (h->ntl == h->captl) {
        uint8_t n = h->captl ? (uint8_t)(h->captl * 2 > TCPS__MAX_POINTS ? TCPS__MAX_POINTS
                                                                        : h->captl * 2)
                             : 8;
        tcps__point *tl = realloc(h->tl, n * sizeof(*tl));
        if (!tl) {
            c->hs_overflow = 1;
            return;
        }
        h->tl = tl;
        h->captl = n;
    }
    tcps__point *pt = &h->tl[h->ntl++];
    pt->frame = x->at;
    pt->pos = x->pos;
    pt->endpoint = (uint8_t)(p == &c->p[TCPS_SERVER]);
    pt->state = p->state;
    pt->ended = p->ended;
}

/* Moves endpoint p to state next with certainty cert. A move to a lower rank
 * is refused (reported as unexpected): within one connection no state goes
 * backwards. */
static void tcps__set(tcps__ctx *x, tcps__peer *p, int next, int cert)
{
    if (next == TCPS__SAME || p->ended)
        return;
    int ended = (next == TCPS_CLOSED) || (next == TCPS_LISTEN && p->state == TCPS_SYN_RECEIVED);
    if (tcps__rank((unsigned)next, ended) < tcps__rank(p->state, 0)) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        return;
    }
    if (next != p->state || ended) {
        p->entered = x->seg->frame;
        p->entered_ms = tcps__rel(x->c, x->seg->time_ns, 1000000u);
        p->proof = TCPS__PROOF_NONE;
    }
    int changed = next != p->state || ended != p->ended;
    p->state = (uint8_t)next;
    p->cert = (uint8_t)cert;
    p->ended = (uint8_t)ended;
    if (changed && x->replay)
        tcps__point_add(x, p);
}

static void tcps__apply(tcps__ctx *x, tcps__peer *p, enum tcps__input in)
{
    int sending = in <= IN_SND_RST;
    tcps__set(x, p, tcps__arc(p->state, in), sending ? TCPS_CERT_OBSERVED : TCPS_CERT_INFERRED);
}

/* Inferred state entered on receipt of the peer's SYN or FIN (proof);
 * confirmed once p acknowledges it. */
static void tcps__receive(tcps__ctx *x, tcps__peer *p, enum tcps__input in, int proof)
{
    int before = p->state;
    tcps__apply(x, p, in);
    if (p->state != before && !p->ended)
        p->proof = (uint8_t)proof;
}

/* ACK acceptable for an endpoint that sent a SYN: SND.UNA < SEG.ACK <= SND.NXT
 * (RFC 9293 3.10.7.3). */
static int tcps__acks_syn(const tcps__peer *p, uint32_t ack)
{
    return p->has_isn && TCPS__SEQ_GT(ack, p->isn) && TCPS__SEQ_LEQ(ack, p->snd_nxt);
}

static int tcps__acks_fin(const tcps__peer *p, const tcps_segment *s)
{
    return p->has_fin && (s->flags & TCPS_ACK) && TCPS__SEQ_GEQ(s->ack, p->fin_seq + 1);
}

static void tcps__note_syn(tcps__peer *p, const tcps_segment *s, uint32_t end)
{
    p->isn = s->seq;
    p->has_isn = 1;
    p->snd_nxt = end;
    p->has_nxt = 1;
    p->wscale = s->wscale < 0                   ? TCPS__NO_WSCALE
                : s->wscale > TCPS__MAX_WSCALE ? TCPS__MAX_WSCALE
                                               : (uint8_t)s->wscale;
}

/* ---- the sender: what its segment proves about itself ---- */

static void tcps__send_syn(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    if (S->state == TCPS_SYN_SENT) {
        if (S->has_isn && s->seq == S->isn) {
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYN);
        } else {
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_SYN_NEW_ISN);
            tcps__note_syn(S, s, x->end);
        }
        return;
    }
    if (S->has_isn && s->seq == S->isn) { /* a SYN seen again after progress */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYN) | TCPS_EVENT_BIT(TCPS_EV_REORDERED);
        return;
    }
    if (S->state == TCPS_LISTEN && R->state == TCPS_SYN_SENT) {
        /* 3.10.7.3: both sent a bare SYN; S had not received R's SYN yet. */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_OPEN);
        S->pend_syn = 1;
    }
    tcps__note_syn(S, s, x->end);
    tcps__apply(x, S, IN_SND_SYN);
}

static void tcps__send_synack(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    int same_isn = S->has_isn && s->seq == S->isn;
    if (S->sent_synack && same_isn) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYNACK);
        return;
    }
    S->sent_synack = 1;
    if (S->state == TCPS_LISTEN || S->state == TCPS_SYN_SENT) {
        if (!tcps__acks_syn(R, s->ack))
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_BAD_ACK);
        S->passive = (S->state == TCPS_LISTEN);
        S->pend_syn = 0; /* its ACK proves it received R's SYN */
        tcps__note_syn(S, s, x->end);
        tcps__apply(x, S, IN_SND_SYNACK);
    } else if (S->state == TCPS_SYN_RECEIVED && same_isn) {
        S->cert = TCPS_CERT_OBSERVED; /* simultaneous open: its own SYN-ACK */
    } else if (!same_isn) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
    }
}

static void tcps__send_fin(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    uint32_t fin_seq = s->seq + s->len + ((s->flags & TCPS_SYN) ? 1u : 0u);
    if (S->has_fin) {
        if (fin_seq == S->fin_seq)
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN);
        else
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        return;
    }
    if (S->ended || S->state == TCPS_TIME_WAIT) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        return;
    }
    S->fin_seq = fin_seq;
    S->has_fin = 1;
    if (S->state < TCPS_SYN_RECEIVED) {
        /* A FIN before S was synchronized: its handshake is missing. */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_UNSEEN);
        tcps__set(x, S, TCPS_ESTABLISHED, TCPS_CERT_INFERRED);
    }
    int acked = tcps__acks_fin(R, s);
    if (R->has_fin && !acked && S->state == TCPS_CLOSE_WAIT) {
        /* S sent its FIN before R's FIN, assumed delivered, reached it: the
         * FINs crossed. S went FIN_WAIT_1, and R's FIN in flight takes it to
         * CLOSING (3.10.7.4 eighth). Shown at once, so S never moves back. */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE);
        tcps__set(x, S, TCPS_CLOSING, TCPS_CERT_INFERRED);
        S->proof = TCPS__PROOF_FIN;
        return;
    }
    if (!R->has_fin)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_ACTIVE_CLOSE);
    else if (!acked)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE);
    else if (R->state == TCPS_FIN_WAIT_1)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_PASSIVE_CLOSE) | TCPS_EVENT_BIT(TCPS_EV_THREE_WAY_CLOSE);
    else
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_PASSIVE_CLOSE);
    tcps__apply(x, S, IN_SND_FIN); /* 3.10.4: ESTABLISHED -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK */
}

/* RFC 5961 section 3.2 on the receiver R of an RST in a synchronized state:
 * 1 exact (accept), 0 in window (challenge ACK), -1 outside (ignore). */
static int tcps__rst_check(const tcps__ctx *x)
{
    const tcps__peer *S = x->snd, *R = x->rcv;
    uint32_t seq = x->seg->seq;
    if (!S->has_nxt && !R->has_ack)
        return 1; /* nothing to check against (midstream) */
    if ((S->has_nxt && seq == S->snd_nxt) || (R->has_ack && seq == R->max_ack))
        return 1;
    /* Linux also takes RCV.NXT - 1 once the FIN was received. */
    if (S->has_fin && seq == S->fin_seq &&
        (R->state == TCPS_CLOSE_WAIT || R->state == TCPS_CLOSING || R->state == TCPS_LAST_ACK))
        return 1;
    uint32_t left = R->has_ack ? R->max_ack : S->snd_nxt;
    uint32_t wnd = R->win_known ? R->win : (uint32_t)R->win << 14;
    if (wnd == 0)
        wnd = 1;
    if (TCPS__SEQ_GEQ(seq, left) && TCPS__SEQ_LT(seq, left + wnd))
        return 0;
    return -1;
}

static void tcps__reset(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    int verdict;
    if (x->replay) {
        verdict = x->rst;
    } else if (R->ended) {
        verdict = 1;
    } else if (R->state == TCPS_SYN_SENT) {
        /* 3.10.7.3 first: acceptable only if it acknowledges the SYN. */
        verdict = ((s->flags & TCPS_ACK) && tcps__acks_syn(R, s->ack)) ? 1 : -1;
        if (verdict == 1 && S->state == TCPS_LISTEN)
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_REFUSED);
    } else if (R->state == TCPS_LISTEN) {
        verdict = 1; /* 3.10.7.2 first: ignored by a listener; S aborted */
    } else {
        verdict = tcps__rst_check(x);
    }
    if (verdict < 0) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_RESET_IGNORED);
        return;
    }
    if (verdict == 0) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_RESET_CHALLENGE);
        return;
    }
    x->ev |= TCPS_EVENT_BIT(TCPS_EV_RESET_ACCEPTED);
    tcps__apply(x, S, IN_SND_RST);
    if (R->state == TCPS_LISTEN) {
        R->ended = 1; /* the listener stays; this connection is over for it */
        if (x->replay)
            tcps__point_add(x, R);
    } else if (R->state == TCPS_SYN_RECEIVED && R->passive) {
        /* 3.10.7.4 second: a passive SYN-RECEIVED returns to LISTEN. */
        tcps__set(x, R, TCPS_LISTEN, TCPS_CERT_INFERRED);
    } else {
        tcps__apply(x, R, IN_RCV_RST);
    }
}

/* Keep-alives and zero-window probes: a byte at most, at SND.UNA - 1 (as
 * Linux and BSD send them, 3.8.4) or, for a window probe, at SND.NXT. */
static TCPS__HOT void tcps__probes(tcps__ctx *x)
{
    const tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    if ((s->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST)) || s->len > 1 || !S->has_nxt)
        return;
    int below = (s->seq == S->snd_nxt - 1) || (R->has_ack && s->seq == R->max_ack - 1);
    int zero_win = R->has_last && R->win == 0;
    if (zero_win && (below || (s->len == 1 && s->seq == S->snd_nxt)))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_ZERO_WINDOW_PROBE);
    else if (below)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_KEEPALIVE);
}

/* What S's ACK proves it had received, and the bookkeeping of its sequence
 * space. */
static TCPS__HOT void tcps__sender_acks(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    if (!(s->flags & TCPS_ACK))
        return;
    if (!S->has_ack || TCPS__SEQ_GT(s->ack, S->max_ack)) {
        S->max_ack = s->ack;
        S->has_ack = 1;
    }
    if (R->has_nxt && TCPS__SEQ_GT(s->ack, R->snd_nxt) && !(s->flags & TCPS_RST)) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_ACKED_UNSEEN);
        R->snd_nxt = s->ack;
    }
    if (S->cert == TCPS_CERT_INFERRED &&
        ((S->proof == TCPS__PROOF_SYN && R->has_isn && TCPS__SEQ_GT(s->ack, R->isn)) ||
         (S->proof == TCPS__PROOF_FIN && R->has_fin && TCPS__SEQ_GT(s->ack, R->fin_seq))))
        S->cert = TCPS_CERT_CONFIRMED;
}

/* ---- the receiver: R takes the segment (delivery assumed) ---- */
static TCPS__HOT void tcps__deliver(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    uint8_t f = s->flags;
    if (R->ended)
        return;
    /* With a known vantage, a FIN the near end sends was captured as it left:
     * it reaches the far end later, when the far end's ACK or the near end's
     * next segment shows (tcps__between()), with what it acknowledged. */
    int defer = x->far && R == &x->c->p[x->far - 1] && (f & TCPS_FIN) && S->has_fin &&
                !(x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) &&
                R->state >= TCPS_SYN_RECEIVED;
    if ((f & TCPS_SYN) && !(f & TCPS_ACK) && R->state == TCPS_SYN_SENT && S->has_isn &&
        !(x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYN)))
        tcps__receive(x, R, IN_RCV_SYN, TCPS__PROOF_SYN); /* SYNs crossed */
    if (f & TCPS_ACK) {
        if ((f & TCPS_SYN) && R->state == TCPS_SYN_SENT) {
            if (tcps__acks_syn(R, s->ack))
                tcps__receive(x, R, IN_RCV_SYNACK, TCPS__PROOF_SYN);
        } else if (R->state == TCPS_SYN_RECEIVED && tcps__acks_syn(R, s->ack)) {
            if (f & TCPS_SYN)
                tcps__receive(x, R, IN_RCV_SYNACK, TCPS__PROOF_SYN);
            else
                tcps__apply(x, R, IN_RCV_ACK_SYN);
        }
        if (tcps__acks_fin(R, s) && !defer)
            tcps__apply(x, R, IN_RCV_ACK_FIN); /* nothing to acknowledge: stays inferred */
    }
    if (defer) {
        R->pend_fin = 1;
        R->pend_fin_acks = (uint8_t)tcps__acks_fin(R, s);
        return;
    }
    if ((f & TCPS_FIN) && S->has_fin && (x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) == 0) {
        if (R->state == TCPS_FIN_WAIT_1 && !tcps__acks_fin(R, s))
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE);
        if (R->state < TCPS_SYN_RECEIVED)
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        else
            tcps__receive(x, R, IN_RCV_FIN, TCPS__PROOF_FIN);
    }
}

/* A bare ACK from SYN_SENT to a listener: the SYN-ACK it answers is not in
 * the capture. Between the frames the listener answered (LISTEN ->
 * SYN_RECEIVED, 3.10.7.2 third) and the sender took it (SYN_SENT ->
 * ESTABLISHED, 3.10.7.3 fourth); this ACK then completes the handshake. */
static void tcps__unseen_synack(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    if ((s->flags & (TCPS_SYN | TCPS_ACK | TCPS_RST)) != TCPS_ACK || S->ended || R->ended ||
        S->state != TCPS_SYN_SENT || R->state != TCPS_LISTEN)
        return;
    x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_UNSEEN);
    R->isn = s->ack - 1;
    R->snd_nxt = s->ack;
    R->has_isn = R->has_nxt = 1;
    R->passive = 1;
    R->sent_synack = 1;
    tcps__set(x, R, TCPS_SYN_RECEIVED, TCPS_CERT_INFERRED);
    tcps__set(x, S, TCPS_ESTABLISHED, TCPS_CERT_INFERRED);
}

/* The near end's FIN, in flight to the far end F (pend_fin), arrives: before
 * F's segment that acknowledges it, or before the near end's next segment
 * (in order). */
static void tcps__pending_fin(tcps__ctx *x, tcps__peer *F)
{
    tcps__peer *N = x->snd == F ? x->rcv : x->snd;
    if (x->snd == F && !tcps__acks_fin(N, x->seg))
        return; /* F sent this without having it: still in flight */
    F->pend_fin = 0;
    if (F->ended)
        return;
    if (F->pend_fin_acks)
        tcps__apply(x, F, IN_RCV_ACK_FIN);
    else if (F->state == TCPS_FIN_WAIT_1)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE);
    tcps__receive(x, F, IN_RCV_FIN, TCPS__PROOF_FIN);
}

/* Timers and in-flight SYNs and FINs between the previous segment and this one. */
static void tcps__between(const tcps_tracker *t, tcps__ctx *x)
{
    for (int i = 0; i < 2; i++) {
        tcps__peer *p = &x->c->p[i];
        if (p->state == TCPS_TIME_WAIT && t->cfg.time_wait_ns &&
            tcps__rel(x->c, x->seg->time_ns, 1000000u) >=
                (uint64_t)p->entered_ms + t->cfg.time_wait_ns / 1000000u) {
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_TIME_WAIT_EXPIRED);
            tcps__apply(x, p, IN_TIMEOUT);
        }
        if (p->pend_syn && p->state == TCPS_SYN_SENT && !p->ended) {
            tcps__receive(x, p, IN_RCV_SYN, TCPS__PROOF_SYN);
        }
        p->pend_syn = 0;
        if (p->pend_fin)
            tcps__pending_fin(x, p);
    }
    tcps__unseen_synack(x);
}

static TCPS__HOT uint32_t tcps__seg_hash(const tcps_segment *s)
{
    uint64_t h = tcps__mix(((uint64_t)s->seq << 32 | s->ack) ^
                           tcps__mix((uint64_t)s->len << 24 | (uint64_t)s->win << 8 | s->flags));
    return (uint32_t)(h ^ (h >> 32));
}

static TCPS__HOT void tcps__bookkeep(tcps__ctx *x)
{
    tcps__peer *S = x->snd;
    const tcps_segment *s = x->seg;
    if (!S->has_nxt || TCPS__SEQ_GT(x->end, S->snd_nxt)) {
        S->snd_nxt = x->end;
        S->has_nxt = 1;
    }
    int scaled = (s->flags & TCPS_SYN) == 0 && S->wscale != TCPS__NO_WSCALE &&
                 x->rcv->wscale != TCPS__NO_WSCALE;
    S->win = scaled ? (uint32_t)s->win << S->wscale : s->win;
    S->win_known = (s->flags & TCPS_SYN) || scaled || (S->has_isn && x->rcv->has_isn);
    S->last_hash = tcps__seg_hash(s);
    S->last_us = tcps__rel(x->c, s->time_ns, 1000u);
    S->has_last = 1;
}

/* The same segment captured twice: identical, within a millisecond (a
 * retransmission waits at least an RTO; pure ACKs repeat legitimately). */
static int tcps__is_duplicate(const tcps__ctx *x)
{
    const tcps__peer *S = x->snd;
    const tcps_segment *s = x->seg;
    return S->has_last && (s->len > 0 || (s->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST))) &&
           tcps__rel(x->c, s->time_ns, 1000u) - S->last_us < 1000u &&
           tcps__seg_hash(s) == S->last_hash;
}

/* A SYN or SYN-ACK on a known tuple: does it open a new connection? */
static int tcps__opens_new(const tcps__conn *c, int sender, const tcps_segment *s)
{
    const tcps__peer *S = &c->p[sender], *R = &c->p[!sender];
    if (!(s->flags & TCPS_SYN) || (s->flags & (TCPS_RST | TCPS_FIN)))
        return 0;
    if (S->has_isn && s->seq == S->isn)
        return 0; /* retransmitted or reordered */
    if (s->flags & TCPS_ACK) /* SYN-ACK: only once both ends are done */
        return (S->ended || S->state == TCPS_TIME_WAIT) && (R->ended || R->state == TCPS_TIME_WAIT);
    if (S->state == TCPS_SYN_SENT && !S->ended)
        return 0; /* same attempt, new ISN */
    if (S->state == TCPS_LISTEN && !S->ended && R->state == TCPS_SYN_SENT)
        return 0; /* simultaneous open */
    return 1;
}

/* Roles without a SYN: the SYN-ACK's sender is the server; else the end with
 * a well-known port, else the lower port (assumed). */
static int tcps__sender_is_client_guess(const tcps_segment *s, int *assumed)
{
    *assumed = 0;
    if ((s->flags & (TCPS_SYN | TCPS_ACK)) == TCPS_SYN)
        return 1;
    if ((s->flags & (TCPS_SYN | TCPS_ACK)) == (TCPS_SYN | TCPS_ACK))
        return 0;
    *assumed = 1;
    int swk = s->sport < 1024, dwk = s->dport < 1024;
    if (swk != dwk)
        return dwk;
    return s->sport > s->dport;
}

/* First segment of a connection that did not start with a SYN. */
static void tcps__pickup(tcps__ctx *x)
{
    tcps__conn *c = x->c;
    const tcps_segment *s = x->seg;
    if ((s->flags & (TCPS_SYN | TCPS_ACK)) == (TCPS_SYN | TCPS_ACK)) {
        /* A SYN-ACK: the client's SYN is not in the capture. */
        tcps__peer *C = x->rcv;
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_UNSEEN);
        C->isn = s->ack - 1;
        C->has_isn = 1;
        C->snd_nxt = s->ack;
        C->has_nxt = 1;
        tcps__set(x, C, TCPS_SYN_SENT, TCPS_CERT_INFERRED);
        return;
    }
    x->ev |= TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM);
    for (int i = 0; i < 2; i++) {
        c->p[i].state = TCPS_ESTABLISHED;
        c->p[i].cert = TCPS_CERT_ASSUMED;
    }
}

static void tcps__end_time_wait(tcps__conn *c, const tcps_segment *s)
{
    for (int i = 0; i < 2; i++) {
        tcps__peer *p = &c->p[i];
        if (p->state == TCPS_TIME_WAIT && !p->ended) {
            p->state = TCPS_CLOSED;
            p->ended = 1;
            p->entered = s->frame;
            p->entered_ms = tcps__rel(c, s->time_ns, 1000000u);
        }
    }
}

/* The connection of s (slot value and sender from tcps__find(), 0 when
 * none), or a new one. */
static tcps__conn *tcps__lookup(tcps_tracker *t, const tcps_segment *s, tcps__ctx *x, int bad,
                                uint64_t found, int sender)
{
    tcps__conn *c = found ? tcps__conn_at(t, (uint32_t)found - 1) : NULL;
    x->id = c ? (uint32_t)found - 1 : 0;
    int fresh = 0, reuse = 0;
    if (!c && bad)
        return NULL; /* an invalid segment creates no connection (no TCB at either end) */
    if (!c || tcps__opens_new(c, sender, s)) {
        int assumed;
        int is_client = tcps__sender_is_client_guess(s, &assumed);
        if (!c && !(s->flags & TCPS_SYN) && !t->cfg.midstream)
            return NULL;
        reuse = (c != NULL);
        if (reuse) /* RFC 1122 4.2.2.13: a SYN ends the old incarnation's TIME_WAIT */
            tcps__end_time_wait(c, s);
        long idx = tcps__new_conn(t, s, x->h, is_client);
        if (idx < 0)
            return NULL;
        x->id = (uint32_t)idx;
        c = tcps__conn_at(t, (size_t)idx);
        c->roles_assumed = (uint8_t)assumed;
        sender = is_client ? TCPS_CLIENT : TCPS_SERVER;
        fresh = 1;
    }
    x->c = c;
    x->snd = &c->p[sender];
    x->rcv = &c->p[!sender];
    if (fresh) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_NEW_CONNECTION);
        if (reuse)
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_PORT_REUSE);
        if ((s->flags & (TCPS_SYN | TCPS_ACK)) != TCPS_SYN)
            tcps__pickup(x);
    }
    return c;
}

static int tcps__bad_flags(uint8_t f)
{
    if ((f & TCPS_SYN) && (f & (TCPS_FIN | TCPS_RST)))
        return 1;                                  /* SYN+FIN, SYN+RST */
    return (f & (TCPS_SYN | TCPS_ACK | TCPS_RST)) == 0; /* no SYN, ACK or RST */
}

static void tcps__fill(const tcps__ctx *x, tcps_record *out)
{
    const tcps__conn *c = x->c;
    for (int i = 0; i < 2; i++) {
        out->after[i] = c->p[i].state;
        out->cert[i] = c->p[i].cert;
        out->ended[i] = c->p[i].ended;
        out->entered[i] = c->p[i].entered;
    }
    out->events = x->ev;
    out->sender = (uint8_t)(x->snd == &c->p[TCPS_SERVER]);
    out->roles_assumed = c->roles_assumed;
}

/* Both ends synchronized and neither closed. */
static int tcps__established(const uint8_t st[2], const uint8_t ended[2])
{
    /* every state from ESTABLISHED on has at least its rank */
    return !ended[0] && !ended[1] && st[0] >= TCPS_ESTABLISHED && st[1] >= TCPS_ESTABLISHED;
}

/* A sender still in LISTEN or SYN_SENT sends an ACK without SYN: the capture
 * lacks handshake segments. It acknowledged the peer, so both were
 * synchronized (3.10.7.3 fourth, 3.10.7.4 fifth). */
static TCPS__HOT void tcps__infer_handshake(tcps__ctx *x)
{
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    if ((s->flags & (TCPS_SYN | TCPS_ACK)) != TCPS_ACK || S->ended || R->ended)
        return;
    if (S->state == TCPS_SYN_SENT || (S->state == TCPS_LISTEN && tcps__acks_syn(R, s->ack))) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_UNSEEN);
        if (!R->has_isn && S->state == TCPS_SYN_SENT) {
            R->isn = s->ack - 1;
            R->has_isn = 1;
        }
        tcps__set(x, S, TCPS_ESTABLISHED, TCPS_CERT_INFERRED);
        if (R->state < TCPS_ESTABLISHED)
            tcps__set(x, R, TCPS_ESTABLISHED, TCPS_CERT_INFERRED);
    }
}

/* The sender's side of one well-formed segment. Returns 1 if the receiver's
 * side is still to do (everything but an RST, which does both). */
static TCPS__HOT int tcps__send(tcps__ctx *x)
{
    tcps__peer *S = x->snd;
    const tcps_segment *seg = x->seg;
    uint8_t f = seg->flags;
    if (S->has_fin && seg->len > 0 && !(f & TCPS_SYN) &&
        TCPS__SEQ_GT(seg->seq + seg->len, S->fin_seq))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_DATA_AFTER_FIN);
    tcps__sender_acks(x);
    if (f & TCPS_RST) {
        tcps__reset(x);
        return 0;
    }
    tcps__infer_handshake(x);
    if ((f & (TCPS_SYN | TCPS_ACK)) == TCPS_SYN)
        tcps__send_syn(x);
    else if (f & TCPS_SYN)
        tcps__send_synack(x);
    if (f & TCPS_FIN)
        tcps__send_fin(x);
    tcps__probes(x);
    return 1;
}

/* ---- hindsight ---- */

/* Room in the log arena for need more slots; -1 (hs_overflow) when out of
 * memory. Kept out of tcps__log_add(), called once in 4096 entries. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static int tcps__log_grow(tcps_tracker *t, tcps__conn *c, unsigned need)
{
    while (t->nentries + need > t->nechunks * TCPS__ECHUNK) {
        tcps__slot **ch = realloc(t->echunks, (t->nechunks + 1) * sizeof(*ch));
        if (!ch) {
            c->hs_overflow = 1;
            return -1;
        }
        t->echunks = ch;
        if (t->cfg.time_wait_ns) {
            uint32_t **tc = realloc(t->tchunks, (t->nechunks + 1) * sizeof(*tc));
            if (!tc) {
                c->hs_overflow = 1;
                return -1;
            }
            t->tchunks = tc;
            if (!(tc[t->nechunks] = malloc(TCPS__ECHUNK * sizeof(uint32_t)))) {
                c->hs_overflow = 1;
                return -1;
            }
        }
        if (!(ch[t->nechunks] = malloc(TCPS__ECHUNK * sizeof(tcps__slot)))) {
            if (t->tchunks)
                free(t->tchunks[t->nechunks]);
            c->hs_overflow = 1;
            return -1;
        }
        t->nechunks++;
    }
    return 0;
}

/* Appends s to connection c's log; returns its ordinal, or -1.
 * Indexes name 2^32 - 2 slots and a wide entry takes two: the log overflows
 * (hs_overflow: hindsight unknown) where the 20-byte entries of b936442 did
 * (2^32 - 2 entries) if none is wide, one entry earlier per wide one, never
 * below 2^31 - 1 entries: only once the arena holds 64 GiB. */
static int tcps__log_add(tcps_tracker *t, tcps__conn *c, const tcps_segment *s, int sender)
{
    uint32_t len = s->len;
    uint32_t prev = c->log_tail;
    uint32_t dframe = prev ? s->frame - c->log_frame : 0;
    /* an index + 1 is at most nentries + 2 < 2^32 here */
    uint32_t dprev = prev ? (uint32_t)t->nentries + 1 - prev : 0;
    unsigned wide = len > TCPS__LEN_MAX || dframe > TCPS__DFRAME_MAX || dprev > TCPS__DPREV_MAX;
    if (c->nlog >= TCPS__MAX_LOG || t->nentries + wide >= UINT32_MAX - 1) {
        c->hs_overflow = 1;
        return -1;
    }
    if (t->nentries + wide >= t->nechunks * TCPS__ECHUNK && tcps__log_grow(t, c, wide + 1) < 0)
        return -1;
    uint32_t i = (uint32_t)t->nentries;
    if (wide) {
        tcps__slot_at(t, i)->w = (tcps__wide){dframe, prev, len > UINT16_MAX ? UINT16_MAX : len, 0};
        i++;
        dframe = len = dprev = 0;
    }
    t->nentries = (size_t)i + 1;
    tcps__entry *e = tcps__entry_at(t, i);
    e->seq = s->seq;
    e->ack = s->ack;
    e->fl = dframe | len << 20;
    e->dprev = (uint16_t)dprev;
    e->dprev_hi = (uint8_t)(dprev >> 16 | (wide ? TCPS__E_WIDE : 0u) | tcps__eflags(s->flags) << 4);
    e->bits = sender ? TCPS__E_SERVER : 0;
    if (t->tchunks)
        t->tchunks[i / TCPS__ECHUNK][i % TCPS__ECHUNK] = tcps__rel(c, s->time_ns, 1000000u);
    c->log_tail = i + 1;
    c->log_frame = s->frame;
    return c->nlog++;
}

/* Connection c's log, in order and decoded, into ents (at most
 * TCPS__MAX_LOG), times 0 without a TIME_WAIT timer. */
static int tcps__log_list(const tcps_tracker *t, const tcps__conn *c, tcps__item *ents)
{
    int n = 0;
    uint32_t frame = c->log_frame;
    for (uint32_t i = c->log_tail, next; i && n < TCPS__MAX_LOG; i = next, n++) {
        const tcps__entry *e = tcps__entry_at(t, i - 1);
        uint32_t dframe;
        tcps__item *it = &ents[n];
        next = tcps__prev(t, i, &dframe);
        it->frame = frame;
        it->seq = e->seq;
        it->ack = e->ack;
        it->time_ms = t->tchunks ? t->tchunks[(i - 1) / TCPS__ECHUNK][(i - 1) % TCPS__ECHUNK] : 0;
        it->len = (uint16_t)((e->dprev_hi & TCPS__E_WIDE) ? tcps__slot_at(t, i - 2)->w.len
                                                          : e->fl >> 20);
        it->flags = tcps__flags_of(e);
        it->bits = e->bits;
        frame -= dframe;
    }
    for (int k = 0; k < n / 2; k++) { /* walked from the last: reverse */
        tcps__item it = ents[k];
        ents[k] = ents[n - 1 - k];
        ents[n - 1 - k] = it;
    }
    return n;
}

/* The entry of c sent by endpoint who with mark (TCPS__E_SYN_ORD, ...), or
 * NULL. Rare (retransmissions): walks the log. */
static tcps__entry *tcps__log_marked(tcps_tracker *t, const tcps__conn *c, int who, uint8_t mark)
{
    for (uint32_t i = c->log_tail; i; i = tcps__prev(t, i, NULL)) {
        tcps__entry *e = tcps__entry_at(t, i - 1);
        if ((e->bits & mark) && (e->bits & TCPS__E_SERVER) == (who ? TCPS__E_SERVER : 0))
            return e;
    }
    return NULL;
}

/* The entry e (tcps__log_marked(), NULL is fine) was never delivered; its
 * mark goes (the next such entry is marked again). */
static void tcps__mark_lost(tcps__conn *c, tcps__entry *e, uint8_t mark)
{
    if (e) {
        e->bits = (uint8_t)((e->bits | TCPS__E_LOST) & ~mark);
        c->hs_differs = 1;
    }
}

/* What the segment s shows about the receipt of endpoint rw's earlier SYN
 * and FIN: covered by its ACK (acks: it has one), or not received when it
 * was sent (evidence, after this frame). */
static TCPS__HOT void tcps__coverage(tcps_tracker *t, tcps__conn *c, uint32_t id, int rw,
                                     const tcps_segment *s, int acks)
{
    tcps__peer *R = &c->p[rw];
    if (R->has_syn_ord && !R->syn_covered) {
        if (acks && TCPS__SEQ_GT(s->ack, R->isn)) {
            R->syn_covered = 1;
        } else {
            tcps__set_after(t, c, id, rw, TCPS__AFTER_SYN, s->frame);
            c->hs_differs = 1;
        }
    }
    if (R->has_fin_ord && !R->fin_covered) {
        if (acks && TCPS__SEQ_GEQ(s->ack, R->fin_seq + 1)) {
            R->fin_covered = 1;
        } else {
            tcps__set_after(t, c, id, rw, TCPS__AFTER_FIN, s->frame);
            c->hs_differs = 1;
        }
    }
}

/* What the sender's segment shows about the receipt of the peer's earlier
 * SYN and FIN (not covered by its ACK yet: not received when it sent this),
 * and about the peer's ACKs (a retransmitted SYN-ACK or FIN, or a SYN retried
 * after the SYN-ACK, was not acknowledged: that ACK or SYN-ACK was lost). */
static void tcps__evidence(tcps_tracker *t, tcps__ctx *x)
{
    tcps__conn *c = x->c;
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    int acks = (s->flags & TCPS_ACK) != 0;
    if (s->flags & TCPS_RST)
        return;
    int rw = R == &c->p[TCPS_SERVER];
    tcps__coverage(t, c, x->id, rw, s, acks);
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYNACK)) && R->has_ack_syn_ord) {
        tcps__mark_lost(c, tcps__log_marked(t, c, rw, TCPS__E_ACK_SYN_ORD), TCPS__E_ACK_SYN_ORD);
        R->has_ack_syn_ord = 0; /* the next covering ACK is logged again */
    }
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) && R->has_ack_fin_ord) {
        tcps__mark_lost(c, tcps__log_marked(t, c, rw, TCPS__E_ACK_FIN_ORD), TCPS__E_ACK_FIN_ORD);
        R->has_ack_fin_ord = 0;
    }
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYN)) && R->has_syn_ord &&
        !S->syn_covered) {
        tcps__entry *e = tcps__log_marked(t, c, rw, TCPS__E_SYN_ORD);
        if (e && (tcps__flags_of(e) & TCPS_ACK)) {
            tcps__mark_lost(c, e, TCPS__E_SYN_ORD);
            R->has_syn_ord = 0;
        }
    }
}

/* Keeps the segments a replay needs: SYN, FIN, RST, the first ACK covering
 * the peer's SYN or FIN, and any that changed a state. */
static void tcps__log(tcps_tracker *t, tcps__ctx *x, const tcps_record *r)
{
    tcps__conn *c = x->c;
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    int sender = (S == &c->p[TCPS_SERVER]);
    c->hs_valid = 0;
    if (c->hs_overflow)
        return;
    tcps__evidence(t, x);
    int acks = (s->flags & TCPS_ACK) && !(s->flags & TCPS_RST);
    int ack_syn = acks && !S->has_ack_syn_ord && R->has_isn && TCPS__SEQ_GT(s->ack, R->isn);
    int ack_fin = acks && !S->has_ack_fin_ord && R->has_fin &&
                  TCPS__SEQ_GEQ(s->ack, R->fin_seq + 1);
    int changed = memcmp(r->before, r->after, 2) != 0 || memcmp(r->ended_before, r->ended, 2);
    if (!(s->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST)) && !ack_syn && !ack_fin && !changed &&
        !(r->events & TCPS_EVENT_BIT(TCPS_EV_NEW_CONNECTION)))
        return;
    if (tcps__log_add(t, c, s, sender) < 0)
        return;
    uint8_t marks = 0;
    if ((s->flags & TCPS_SYN) &&
        (!S->has_syn_ord || (r->events & TCPS_EVENT_BIT(TCPS_EV_SYN_NEW_ISN)))) {
        if (S->has_syn_ord) { /* a new ISN: this SYN is the one that counts */
            tcps__entry *old = tcps__log_marked(t, c, sender, TCPS__E_SYN_ORD);
            if (old)
                old->bits = (uint8_t)(old->bits & ~TCPS__E_SYN_ORD);
        }
        marks |= TCPS__E_SYN_ORD;
        S->has_syn_ord = 1;
        S->syn_covered = 0;
        tcps__set_after(t, c, x->id, sender, TCPS__AFTER_SYN, 0);
    }
    if ((s->flags & TCPS_FIN) && !S->has_fin_ord && S->has_fin) {
        marks |= TCPS__E_FIN_ORD;
        S->has_fin_ord = 1;
        S->fin_covered = 0;
    }
    if (s->flags & TCPS_RST) {
        int v = (r->events & TCPS_EVENT_BIT(TCPS_EV_RESET_ACCEPTED))    ? 2
                : (r->events & TCPS_EVENT_BIT(TCPS_EV_RESET_CHALLENGE)) ? 1
                                                                         : 0;
        marks |= (uint8_t)(v << TCPS__E_RST_SHIFT);
    }
    if (ack_syn) {
        marks |= TCPS__E_ACK_SYN_ORD;
        S->has_ack_syn_ord = 1;
    }
    if (ack_fin) {
        marks |= TCPS__E_ACK_FIN_ORD;
        S->has_ack_fin_ord = 1;
    }
    tcps__entry_at(t, c->log_tail - 1)->bits |= marks;
}

static void tcps__entry_seg(const tcps_tracker *t, const tcps__conn *c, const tcps__item *e,
                            tcps_segment *s)
{
    size_t n = tcps__addr_len(c->family);
    int who = e->bits & TCPS__E_SERVER ? 1 : 0;
    memset(s, 0, sizeof(*s));
    s->family = c->family;
    memcpy(s->src, tcps__addr(t, c, who), n);
    memcpy(s->dst, tcps__addr(t, c, !who), n);
    s->sport = c->port[who];
    s->dport = c->port[!who];
    s->zone = c->zone;
    s->seq = e->seq;
    s->ack = e->ack;
    s->len = e->len;
    s->flags = e->flags;
    s->wscale = -1;
    s->time_ns = c->base_ns + (uint64_t)e->time_ms * 1000000u;
    s->frame = e->frame;
}

static void tcps__replay_ctx(tcps__ctx *x, tcps__conn *r, const tcps__item *e,
                             const tcps_segment *seg)
{
    int who = e->bits & TCPS__E_SERVER ? 1 : 0;
    memset(x, 0, sizeof(*x));
    x->c = r;
    x->seg = seg;
    x->snd = &r->p[who];
    x->rcv = &r->p[!who];
    x->end = seg->seq + seg->len + ((seg->flags & TCPS_SYN) ? 1u : 0u) +
             ((seg->flags & TCPS_FIN) ? 1u : 0u);
    x->replay = 1;
    x->rst = (int8_t)(((e->bits & TCPS__E_RST) >> TCPS__E_RST_SHIFT) - 1);
}

/* The frame after which entry e of connection c (index idx) reached its
 * receiver (0: at once). */
static uint32_t tcps__after(const tcps_tracker *t, const tcps__conn *c, uint32_t idx,
                            const tcps__item *e)
{
    int who = e->bits & TCPS__E_SERVER ? 1 : 0;
    if (e->bits & TCPS__E_SYN_ORD)
        return tcps__get_after(t, c, idx, who, TCPS__AFTER_SYN);
    if (e->bits & TCPS__E_FIN_ORD)
        return tcps__get_after(t, c, idx, who, TCPS__AFTER_FIN);
    return 0;
}

typedef struct tcps__replay_state {
    const tcps_tracker *t;
    const tcps__conn *c;
    tcps__extra *x; /* c's timeline */
    uint32_t after[TCPS__MAX_LOG]; /* tcps__after() of each entry */
    tcps__conn *r;
    tcps__item *ents;
    int n;
    uint8_t pending[TCPS__MAX_LOG];
} tcps__replay_state;

/* Delivers the deferred entries due before (frame, pos 1), oldest first. */
static void tcps__replay_due(tcps__replay_state *st, uint32_t frame)
{
    for (;;) {
        int best = -1;
        uint32_t best_after = 0;
        for (int i = 0; i < st->n; i++) {
            uint32_t after = st->after[i];
            if (st->pending[i] && after < frame && (best < 0 || after < best_after)) {
                best = i;
                best_after = after;
            }
        }
        if (best < 0)
            return;
        st->pending[best] = 0;
        tcps_segment seg;
        tcps__ctx x;
        tcps__entry_seg(st->t, st->c, &st->ents[best], &seg);
        tcps__replay_ctx(&x, st->r, &st->ents[best], &seg);
        x.tl = st->x;
        x.at = best_after;
        x.pos = 2;
        tcps__deliver(&x);
    }
}

/* Replays connection c's log into its hindsight timeline h->tl (h: its side
 * entry). */
static int tcps__replay(const tcps_tracker *t, tcps__conn *c, uint32_t idx, tcps__extra *h)
{
    tcps__conn r;
    tcps__item ents[TCPS__MAX_LOG];
    tcps__replay_state st;
    memset(&r, 0, sizeof(r));
    memset(&st, 0, sizeof(st));
    st.t = t;
    st.c = c;
    st.x = h;
    st.r = &r;
    st.ents = ents;
    st.n = tcps__log_list(t, c, ents);
    for (int i = 0; i < st.n; i++)
        st.after[i] = tcps__after(t, c, idx, &ents[i]);
    r.family = c->family;
    r.zone = c->zone;
    memcpy(r.a, c->a, sizeof(r.a));
    memcpy(r.port, c->port, sizeof(r.port));
    r.base_ns = c->base_ns;
    h->ntl = 0; /* the buffer is reused */
    if (st.n == 0)
        return -1;
    tcps_segment first;
    tcps__entry_seg(t, c, &ents[0], &first);
    /* No listener (refused) or an active open (simultaneous): never LISTEN. */
    int no_listen = (c->events & (TCPS_EVENT_BIT(TCPS_EV_REFUSED) |
                                  TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_OPEN))) != 0;
    tcps__init_peers(&r, &first, no_listen ? TCPS_CLOSED : TCPS_LISTEN);
    h->hs_init[TCPS_CLIENT] = TCPS_CLOSED;
    h->hs_init[TCPS_SERVER] = no_listen ? TCPS_CLOSED : TCPS_LISTEN;
    for (int i = 0; i < st.n; i++) {
        const tcps__item *e = &ents[i];
        tcps_segment seg;
        tcps__ctx x;
        tcps__replay_due(&st, e->frame);
        tcps__entry_seg(t, c, e, &seg);
        tcps__replay_ctx(&x, &r, e, &seg);
        x.tl = h;
        x.at = e->frame;
        if (i == 0 && (seg.flags & (TCPS_SYN | TCPS_ACK)) != TCPS_SYN) {
            r.roles_assumed = c->roles_assumed;
            tcps__pickup(&x);
            if (x.ev & TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM)) /* states set, not moved */
                h->hs_init[TCPS_CLIENT] = h->hs_init[TCPS_SERVER] = TCPS_ESTABLISHED;
        }
        tcps__between(t, &x);
        x.pos = 1;
        if (tcps__bad_flags(seg.flags))
            continue;
        if (tcps__send(&x)) {
            if (st.after[i])
                st.pending[i] = 1;
            else if (!(e->bits & TCPS__E_LOST))
                tcps__deliver(&x);
        }
        tcps__bookkeep(&x);
    }
    tcps__replay_due(&st, UINT32_MAX);
    return r.hs_overflow ? -1 : 0;
}

int tcps_hindsight(tcps_tracker *t, uint32_t conn_id, uint32_t frame, uint8_t before[2],
                   uint8_t after[2])
{
    if (!t || !t->cfg.hindsight || conn_id == 0 || conn_id > t->nconns)
        return 0;
    tcps__conn *c = tcps__conn_at(t, conn_id - 1);
    if (c->hs_overflow || frame < c->first_frame)
        return 0;
    if (!c->hs_differs &&
        !(c->events & (TCPS_EVENT_BIT(TCPS_EV_REFUSED) | TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_OPEN))))
        return 2; /* no evidence: hindsight is the causal record */
    tcps__extra *h = c->hs_valid ? tcps__extra_find(t, conn_id - 1)
                                 : tcps__extra_get(t, conn_id - 1);
    if (!h) {
        c->hs_overflow = 1; /* out of memory */
        return 0;
    }
    if (!c->hs_valid) {
        if (tcps__replay(t, c, conn_id - 1, h) < 0) {
            c->hs_overflow = 1;
            return 0;
        }
        c->hs_valid = 1;
    }
    for (int k = 0; k < 2; k++)
        before[k] = after[k] = h->hs_init[k];
    for (uint16_t i = 0; i < h->ntl; i++) {
        const tcps__point *p = &h->tl[i];
        if (p->frame > frame || (p->frame == frame && p->pos == 2))
            break;
        after[p->endpoint] = p->state;
        if (p->frame < frame || p->pos == 0)
            before[p->endpoint] = p->state;
    }
    return 1;
}

/* Time of ns since the connection's first segment in us, saturated
 * (tcps__rel(c, ns, 1000u)). */
static inline uint32_t tcps__rel_us(const tcps__conn *c, uint64_t ns)
{
    uint64_t d = ns > c->base_ns ? (ns - c->base_ns) / 1000u : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The common case in one pass: an ACK without SYN, FIN or RST while both
 * ends are ESTABLISHED and no FIN is in flight. It does what tcps_process()
 * does for such a segment (tcps__between() has nothing to do, no state
 * moves, tcps__deliver() has no effect), in the same order. */
#ifndef TCPS_NO_FAST_PATH
static void tcps__fast(tcps_tracker *t, tcps__conn *c, uint32_t id, int sender,
                       const tcps_segment *s, tcps_record *out)
{
    tcps__peer *S = &c->p[sender], *R = &c->p[!sender];
    uint64_t ev = 0;
    uint32_t hash = tcps__seg_hash(s), now_us = tcps__rel_us(c, s->time_ns);
    S->pend_syn = R->pend_syn = 0;
    out->cert_before[0] = c->p[0].cert;
    out->cert_before[1] = c->p[1].cert;
    /* tcps__is_duplicate() */
    if (S->has_last && s->len > 0 && now_us - S->last_us < 1000u && hash == S->last_hash)
        ev |= TCPS_EVENT_BIT(TCPS_EV_DUPLICATE);
    /* tcps__send() */
    if (S->has_fin && s->len > 0 && TCPS__SEQ_GT(s->seq + s->len, S->fin_seq))
        ev |= TCPS_EVENT_BIT(TCPS_EV_DATA_AFTER_FIN);
    if (!S->has_ack || TCPS__SEQ_GT(s->ack, S->max_ack)) { /* tcps__sender_acks() */
        S->max_ack = s->ack;
        S->has_ack = 1;
    }
    if (R->has_nxt && TCPS__SEQ_GT(s->ack, R->snd_nxt)) {
        ev |= TCPS_EVENT_BIT(TCPS_EV_ACKED_UNSEEN);
        R->snd_nxt = s->ack;
    }
    if (S->cert == TCPS_CERT_INFERRED &&
        ((S->proof == TCPS__PROOF_SYN && R->has_isn && TCPS__SEQ_GT(s->ack, R->isn)) ||
         (S->proof == TCPS__PROOF_FIN && R->has_fin && TCPS__SEQ_GT(s->ack, R->fin_seq))))
        S->cert = TCPS_CERT_CONFIRMED;
    if (s->len <= 1 && S->has_nxt) { /* tcps__probes() */
        int below = (s->seq == S->snd_nxt - 1) || (R->has_ack && s->seq == R->max_ack - 1);
        int zero_win = R->has_last && R->win == 0;
        if (zero_win && (below || (s->len == 1 && s->seq == S->snd_nxt)))
            ev |= TCPS_EVENT_BIT(TCPS_EV_ZERO_WINDOW_PROBE);
        else if (below)
            ev |= TCPS_EVENT_BIT(TCPS_EV_KEEPALIVE);
    }
    /* tcps__deliver(): an ACK of R's FIN has no arc from ESTABLISHED. */
    uint32_t end = s->seq + s->len; /* tcps__bookkeep() */
    if (!S->has_nxt || TCPS__SEQ_GT(end, S->snd_nxt)) {
        S->snd_nxt = end;
        S->has_nxt = 1;
    }
    int scaled = S->wscale != TCPS__NO_WSCALE && R->wscale != TCPS__NO_WSCALE;
    S->win = scaled ? (uint32_t)s->win << S->wscale : s->win;
    S->win_known = scaled || (S->has_isn && R->has_isn);
    S->last_hash = hash;
    S->last_us = now_us;
    S->has_last = 1;
    /* tcps__fill() */
    out->conn_id = id + 1;
    out->before[0] = out->before[1] = out->after[0] = out->after[1] = TCPS_ESTABLISHED;
    out->cert[0] = c->p[0].cert;
    out->cert[1] = c->p[1].cert;
    out->entered[0] = c->p[0].entered;
    out->entered[1] = c->p[1].entered;
    out->events = ev;
    out->sender = (uint8_t)sender;
    out->roles_assumed = c->roles_assumed;
    c->events |= ev;
    c->last_frame = s->frame;
    if (!t->cfg.hindsight)
        return;
    /* tcps__log(): no SYN, FIN or RST, no retransmission event, no change */
    c->hs_valid = 0;
    if (c->hs_overflow)
        return;
    tcps__coverage(t, c, id, !sender, s, 1); /* tcps__evidence() */
    int ack_syn = !S->has_ack_syn_ord && R->has_isn && TCPS__SEQ_GT(s->ack, R->isn);
    int ack_fin = !S->has_ack_fin_ord && R->has_fin && TCPS__SEQ_GEQ(s->ack, R->fin_seq + 1);
    if (!ack_syn && !ack_fin)
        return;
    if (tcps__log_add(t, c, s, sender) < 0)
        return;
    S->has_ack_syn_ord |= (uint8_t)ack_syn;
    S->has_ack_fin_ord |= (uint8_t)ack_fin;
    tcps__entry_at(t, c->log_tail - 1)->bits |=
        (uint8_t)((ack_syn ? TCPS__E_ACK_SYN_ORD : 0) | (ack_fin ? TCPS__E_ACK_FIN_ORD : 0));
}
#endif

/* tcps_process() for everything but the fast path (tcps__fast()): h, found
 * and sender as tcps__find() gave them. */
static TCPS__HOT int tcps__process(tcps_tracker *t, const tcps_segment *seg, tcps_record *out,
                                    uint64_t h, uint64_t found, int sender)
{
    tcps__ctx x;
    memset(&x, 0, sizeof(x));
    x.seg = seg;
    x.h = h;
    x.far = t->cfg.vantage == TCPS_VANTAGE_CLIENT   ? 1 + TCPS_SERVER
            : t->cfg.vantage == TCPS_VANTAGE_SERVER ? 1 + TCPS_CLIENT
                                                     : 0;
    x.end = seg->seq + seg->len + ((seg->flags & TCPS_SYN) ? 1u : 0u) +
            ((seg->flags & TCPS_FIN) ? 1u : 0u);
    int bad = tcps__bad_flags(seg->flags);
    if (!tcps__lookup(t, seg, &x, bad, found, sender)) {
        if (bad)
            out->events = TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS);
        return 0;
    }
    tcps__conn *c = x.c;
    out->conn_id = x.id + 1;
    /* tcps__between() has nothing to do without an in-flight SYN, a running
     * TIME_WAIT timer or a sender still in SYN_SENT */
    if (c->p[0].pend_syn || c->p[1].pend_syn || c->p[0].pend_fin || c->p[1].pend_fin ||
        x.snd->state == TCPS_SYN_SENT ||
        (t->cfg.time_wait_ns &&
         (c->p[0].state == TCPS_TIME_WAIT || c->p[1].state == TCPS_TIME_WAIT)))
        tcps__between(t, &x);
    for (int i = 0; i < 2; i++) {
        out->before[i] = c->p[i].state;
        out->cert_before[i] = c->p[i].cert;
        out->ended_before[i] = c->p[i].ended;
    }
    if (bad) {
        x.ev |= TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS); /* no state effect (3.10.7.4 fifth) */
    } else {
        if (tcps__is_duplicate(&x))
            x.ev |= TCPS_EVENT_BIT(TCPS_EV_DUPLICATE); /* processing is idempotent */
        if (tcps__send(&x))
            tcps__deliver(&x);
        tcps__bookkeep(&x);
    }
    tcps__fill(&x, out);
    if (!tcps__established(out->before, out->ended_before) &&
        tcps__established(out->after, out->ended) && !(x.ev & TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM)))
        x.ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_COMPLETE);
    c->events |= x.ev;
    c->last_frame = seg->frame;
    out->events = x.ev;
    if (t->cfg.hindsight)
        tcps__log(t, &x, out);
    return 1;
}

int tcps_process(tcps_tracker *t, const tcps_segment *seg, tcps_record *out)
{
    memset(out, 0, sizeof(*out));
    if (!t || !seg || (seg->family != 4 && seg->family != 6))
        return 0;
    int sender = -1;
    uint64_t h = tcps__hash_seg(seg);
    uint64_t found = tcps__find(t, seg, h, &sender);
#ifndef TCPS_NO_FAST_PATH /* -DTCPS_NO_FAST_PATH: every segment takes the general path */
    if (found && (seg->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST | TCPS_ACK)) == TCPS_ACK) {
        uint32_t id = (uint32_t)found - 1;
        tcps__conn *c = tcps__conn_at(t, id);
        const tcps__peer *p = c->p;
        if (p[0].state == TCPS_ESTABLISHED && p[1].state == TCPS_ESTABLISHED && !p[0].ended &&
            !p[1].ended && !p[0].pend_fin && !p[1].pend_fin) {
            tcps__fast(t, c, id, sender, seg, out);
            return 1;
        }
    }
#endif
    return tcps__process(t, seg, out, h, found, sender);
}

uint64_t tcps_time_wait_ns(const tcps_tracker *t)
{
    return t ? t->cfg.time_wait_ns : 0;
}

int tcps_state_at(const tcps_tracker *t, int state, uint64_t *entered_ns, uint64_t at_ns)
{
    uint64_t tw = tcps_time_wait_ns(t);
    if (state == TCPS_TIME_WAIT && tw && at_ns && *entered_ns <= UINT64_MAX - tw &&
        at_ns >= *entered_ns + tw) {
        *entered_ns += tw;
        return TCPS_CLOSED;
    }
    return state;
}

int tcps_conn_get(const tcps_tracker *t, size_t i, uint64_t now_ns, tcps_conn_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!t || i >= t->nconns)
        return 0;
    const tcps__conn *c = tcps__conn_at(t, i);
    size_t n = tcps__addr_len(c->family);
    out->conn_id = (uint32_t)i + 1;
    out->family = c->family;
    memcpy(out->addr[0], tcps__addr(t, c, 0), n);
    memcpy(out->addr[1], tcps__addr(t, c, 1), n);
    out->port[0] = c->port[0];
    out->port[1] = c->port[1];
    out->zone = c->zone;
    out->events = c->events;
    out->first_frame = c->first_frame;
    out->last_frame = c->last_frame;
    out->roles_assumed = c->roles_assumed;
    for (int k = 0; k < 2; k++) {
        const tcps__peer *p = &c->p[k];
        out->state[k] = p->state;
        out->cert[k] = p->cert;
        out->entered[k] = p->entered;
        out->entered_ns[k] = c->base_ns + (uint64_t)p->entered_ms * 1000000u;
        out->state[k] = (uint8_t)tcps_state_at(t, p->state, &out->entered_ns[k], now_ns);
    }
    return 1;
}
