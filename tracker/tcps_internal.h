/* tcps_internal.h: what the tracker's files share (private to tracker/).
 *
 * The tracker, a file per concern:
 *   tcpstate.h       the public contract (the only header users include)
 *   tcps_internal.h  this file: a connection and its two peers, the per-segment
 *                    context, sequence arithmetic, named predicates on states
 *   names.c          names of states, certainties and events; state ranks
 *   diagram.c        the RFC 9293 state diagram as a table, and tcps__move(): the
 *                    one function through which every state change goes
 *   conn_table.c     the connection table: tracker memory, tuple hash, lookup,
 *                    new connections, side maps keyed by connection
 *   segment.c        the state machine of one segment: what the sender proves,
 *                    what the receiver accepts, timers and in-flight segments
 *                    between frames, midstream pickup; the fast path for ACKs
 *                    between ESTABLISHED ends is built from the same helpers
 *   hindsight.c      the hindsight log, its evidence, and the replay
 *   process.c        the public entry: tcps_process(), connection identity
 *                    (new connection or not), tcps_conn_get(), tcps_state_at()
 */
#ifndef TCPS_INTERNAL_H
#define TCPS_INTERNAL_H

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

/* ---- named predicates on states (the enum is in BSD tcp_fsm.h order) ---- */
/* Synchronized: SYN_RECEIVED or later (RFC 9293 3.5). */
#define TCPS__SYNCHRONIZED(s) ((s) >= TCPS_SYN_RECEIVED)
/* ESTABLISHED or later: the handshake is complete for this end. */
#define TCPS__HAVE_ESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
/* States entered by receiving the peer's FIN. */
#define TCPS__HAVE_FIN(s)                                                              \
    ((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING || (s) == TCPS_LAST_ACK ||          \
     (s) == TCPS_TIME_WAIT)

/* tcps_state_rank() for a valid state (names.c). */
int tcps__rank(unsigned s, int ended);

/* ---- the RFC 9293 state diagram (diagram.c) ----
 * What one endpoint does on one input. */
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
    IN_RCV_RST_PASSIVE, /* 3.10.7.4 second: RST in a passively opened SYN-RECEIVED */
    IN_TIMEOUT,     /* 3.10.8 TIME-WAIT timeout */
    /* Not one arc but a path of them, over segments the capture lacks: */
    IN_HANDSHAKE_UNSEEN, /* the endpoint's handshake completed unseen */
    IN_PICKUP,           /* midstream: both ends taken as ESTABLISHED */
    IN_FIN_CROSSED,      /* its FIN crossed the peer's, taken as received */
    IN_GONE,             /* its RST without ACK answered this segment: it had no
                          * connection any more (3.10.7.1), closed unseen before */
    IN_COUNT
};
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
    /* on an entry that is no RST: its receiver answered it with an RST
     * without ACK (3.10.7.1): it had no connection, the segment took none */
    TCPS__E_REJECTED = 12,
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
    /* its latest logged entry is an RST that endpoint hs_rst_who sent from a
     * synchronized state and its receiver did not accept: that endpoint's
     * next segment, which shows the RST was not its own, is logged */
    uint8_t hs_rst_open : 1, hs_rst_who : 1;
    /* bit i: the peer's latest ACK not covering endpoint i's FIN acknowledged
     * all before the FIN's segment: that segment had not arrived, nor its ACK */
    uint8_t hs_fin_unarrived : 2;
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

static inline tcps__conn *tcps__conn_at(const tcps_tracker *t, size_t i)
{
    return &t->chunks[i / TCPS__CHUNK][i % TCPS__CHUNK];
}

static inline tcps__slot *tcps__slot_at(const tcps_tracker *t, uint32_t i)
{
    return &t->echunks[i / TCPS__ECHUNK][i % TCPS__ECHUNK];
}

static inline tcps__entry *tcps__entry_at(const tcps_tracker *t, uint32_t i)
{
    return &tcps__slot_at(t, i)->e;
}

/* Time of ns since the connection's first segment, in units of unit ns, saturated. */
static inline uint32_t tcps__rel(const tcps__conn *c, uint64_t ns, uint64_t unit)
{
    uint64_t d = ns > c->base_ns ? (ns - c->base_ns) / unit : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static inline uint64_t tcps__mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
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
    /* replay: its sender sent nothing after this RST its receiver did not
     * accept: it was its own, and closed it */
    int8_t rst_own;
    uint8_t pos;  /* where a change is recorded: 0 before, 1 after, 2 between */
    uint32_t at;  /* frame a change is recorded at */
    uint32_t id;  /* connection index */
    uint64_t h;   /* tcps__hash_seg(seg) */
    uint8_t far;  /* with a known vantage: the far endpoint + 1; 0 unknown (and in replays) */
    uint8_t revised; /* the sender's state before this segment, revised, + 1; 0 none */
} tcps__ctx;

/* ---- diagram.c ---- */
/* The one place an endpoint's state changes: p takes the arc (or path) of
 * the diagram for input in, with certainty cert, at segment s of c. Returns
 * 1 if p's state or end changed, 0 if the diagram has no arc for in (or p's
 * connection is over), -1 if refused: a move to a lower rank (within one
 * connection no state goes backwards). */
int tcps__move(tcps__conn *c, tcps__peer *p, enum tcps__input in, int cert,
               const tcps_segment *s);

/* ---- conn_table.c ---- */
uint64_t tcps__hash_seg(const tcps_segment *s);
/* The slot value (tag << 32 | index + 1) of s's connection, 0 if none;
 * *sender: TCPS_CLIENT or TCPS_SERVER, the end of it that sent s. */
uint64_t tcps__find(tcps_tracker *t, const tcps_segment *s, uint64_t h, int *sender);
/* Appends a connection for s (h: its hash) with client = sender if
 * sender_is_client; returns its index, or -1 when out of memory. */
long tcps__new_conn(tcps_tracker *t, const tcps_segment *s, uint64_t h, int sender_is_client);
/* The peers of c (zeroed by the caller) before s. */
void tcps__init_peers(tcps__conn *c, const tcps_segment *s, int server_state);
size_t tcps__addr_len(uint8_t family);
const uint8_t *tcps__addr(const tcps_tracker *t, const tcps__conn *c, int who);
/* Side maps keyed by a connection's index (open addressing). */
tcps__extra *tcps__extra_find(const tcps_tracker *t, uint32_t idx);
tcps__extra *tcps__extra_get(tcps_tracker *t, uint32_t idx);
void tcps__set_after(tcps_tracker *t, tcps__conn *c, uint32_t idx, int who, int what,
                     uint32_t frame);
uint32_t tcps__get_after(const tcps_tracker *t, const tcps__conn *c, uint32_t idx, int who,
                         int what);

/* ---- segment.c ---- */
/* One segment of an existing or new connection (x->c, x->snd, x->rcv set). */
int tcps__bad_flags(uint8_t f);
void tcps__pickup(tcps__ctx *x);
int tcps__syn_challenged(const tcps__conn *c, int sender);
/* A replayed segment (hindsight.c): what happened since the previous one,
 * its sender's side, and its receiver's if deliver. Returns 1 if its
 * receiver's side is to do (later, by tcps__replay_deliver(), unless it was
 * delivered now). */
int tcps__replay_segment(const tcps_tracker *t, tcps__ctx *x, int deliver);
void tcps__replay_deliver(tcps__ctx *x);
/* A replayed segment its receiver rejected (TCPS__E_REJECTED): it had closed unseen. */
void tcps__replay_gone(tcps__ctx *x);
/* The general path of tcps_process() for a segment of x->c, and the fast
 * path for an ACK between two ESTABLISHED ends (see segment.c). */
void tcps__segment(tcps_tracker *t, tcps__ctx *x, int bad, tcps_record *out);
void tcps__fast(tcps_tracker *t, tcps__ctx *x, tcps_record *out);

/* ---- hindsight.c ---- */
/* A replay's state change of p, into its hindsight timeline (x->tl). */
void tcps__point_add(tcps__ctx *x, const tcps__peer *p);

/* Keeps what the replay needs of the segment x just processed (record r). */
void tcps__log(tcps_tracker *t, tcps__ctx *x, const tcps_record *r);
/* The same for the fast path (segment.c): an ACK without SYN, FIN or RST that
 * moved no state, with no retransmission among its events. */
void tcps__log_ack(tcps_tracker *t, tcps__ctx *x);

#endif /* TCPS_INTERNAL_H */
