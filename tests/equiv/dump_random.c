/* dump_random.c: random inputs in the fuzz format (dump_random.h).
 *
 * The model produces absolute segments; each is then written as a fuzz
 * record with its sequence and acknowledgement numbers mostly relative to the
 * last ends the decoder keeps (a copy of the decoder runs alongside), so a
 * record decodes to exactly the segment the model made. */
#include "dump_random.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_decode.h"

#define NSLOT 10
#define HIST 4

enum { P_IDLE, P_SYN, P_SYNACK, P_EST };
enum { FIN = TCPS_FIN, SYN = TCPS_SYN, RST = TCPS_RST, PSH = TCPS_PSH, ACK = TCPS_ACK };

/* Tuples of the model: keys of fuzz_tuple() with two hosts and real ports. */
static const uint8_t slot_key[NSLOT] = {0, 1, 9, 18, 0x40, 0x41, 0x4a, 0x53, 0, 0x41};
static const uint16_t slot_zone[NSLOT] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
/* Odd tuples: a socket connected to itself, one host on two ports, port 0
 * at either end, an unknown family. */
static const uint8_t odd_key[] = {0x26, 0x20, 5, 7, 127, 0x66};

typedef struct rng {
    uint64_t s;
} rng;

typedef struct gseg {
    uint8_t side, flags; /* side 0 = the model's client */
    int ws;              /* window scale option, -1 if absent */
    uint32_t seq, ack, len;
    uint16_t win;
} gseg;

typedef struct gconn {
    uint8_t key, cdir, phase, simul;
    uint16_t zone; /* 0..511 */
    uint8_t fin[2], finacked[2];
    uint32_t isn[2], nxt[2];
    gseg hist[HIST];
    unsigned nhist;
    gseg pending;
    int has_pending;
} gconn;

typedef struct gen {
    rng r;
    fuzz_decoder dec;
    gconn c[NSLOT];
    uint8_t *out;
    uint64_t n, done;
} gen;

static uint64_t rnd(rng *r) /* splitmix64 */
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)(rnd(r) % n);
}

static int chance(rng *r, unsigned per_mille)
{
    return below(r, 1000) < per_mille;
}

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v);
    wr16(p + 2, v >> 16);
}

/* Time unit (bits 4-5 of the mode) and delta of the next record. */
static uint8_t time_step(rng *r, uint32_t *d)
{
    uint32_t k = below(r, 1000);
    if (k < 940) {
        *d = below(r, 3000); /* microseconds */
        return 0;
    }
    if (k < 980) {
        *d = below(r, 2000); /* milliseconds */
        return 1;
    }
    if (k < 995) {
        *d = 1 + below(r, 100); /* seconds: TIME_WAIT timers run out */
        return 2;
    }
    *d = below(r, 500); /* milliseconds backwards */
    return 3;
}

/* Writes segment s of tuple (key, zone, cdir) as the next record. Zones
 * above 1 take the window scale option's byte: their segments have none. */
static void emit_key(gen *g, unsigned key, unsigned zone, unsigned cdir, const gseg *s)
{
    if (g->done == g->n)
        return;
    rng *r = &g->r;
    uint8_t *p = g->out + FUZZ_HDR + g->done * FUZZ_REC;
    unsigned dir = (s->side ^ cdir) & 1;
    int rel_seq = chance(r, 900), rel_ack = chance(r, 900), ws = zone > 1 ? -1 : s->ws;
    uint32_t d;
    uint8_t mode = (uint8_t)((zone & 1) | (rel_seq ? 2 : 0) | (rel_ack ? 4 : 0));
    mode |= (uint8_t)(time_step(r, &d) << 4);
    if (ws >= 0)
        mode |= 8;
    if (chance(r, 10))
        mode |= 0x40; /* same frame as the previous record */
    if (chance(r, 5))
        mode |= FUZZ_M_CONN_NOW;
    p[0] = (uint8_t)(key | dir << 7);
    p[1] = mode;
    p[2] = s->flags;
    p[3] = (uint8_t)(ws >= 0 ? ws : (int)(zone >> 1));
    wr32(p + 4, rel_seq ? s->seq - g->dec.end[key][dir] : s->seq);
    wr32(p + 8, rel_ack ? s->ack - g->dec.end[key][!dir] : s->ack);
    wr32(p + 12, s->len);
    wr16(p + 16, s->win);
    wr16(p + 18, d);
    tcps_segment seg;
    fuzz_decode_next(&g->dec, p, &seg);
    g->done++;
}

static void emit(gen *g, const gconn *c, const gseg *s)
{
    emit_key(g, c->key, c->zone, c->cdir, s);
}

static void seg_set(gen *g, gseg *s, int side, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint32_t len)
{
    s->side = (uint8_t)side;
    s->flags = flags;
    s->seq = seq;
    s->ack = ack;
    s->len = len;
    s->ws = -1;
    s->win = chance(&g->r, 10) ? 0 : (uint16_t)(1000 + below(&g->r, 64536));
}

static int ws_option(rng *r)
{
    if (chance(r, 300))
        return -1;
    return chance(r, 20) ? 15 + (int)below(r, 6) : (int)below(r, 15);
}

static uint32_t data_len(rng *r)
{
    return chance(r, 10) ? 65536 + below(r, 1u << 20) : 1 + below(r, 1460);
}

/* A closed tuple: a new connection (SYN, or picked up midstream), or a stray
 * segment. */
static void step_idle(gen *g, gconn *c, gseg *s)
{
    rng *r = &g->r;
    uint32_t k = below(r, 100);
    c->cdir = (uint8_t)chance(r, 150);
    if (chance(r, 200)) { /* another tuple: unseen ones, hash probing, midstream pickup */
        unsigned h = below(r, 4), p = below(r, 5);
        c->key = (uint8_t)(h << 3 | p | (chance(r, 500) ? 0x40 : 0));
        c->zone = (uint16_t)(chance(r, 500) ? below(r, 512) : (uint32_t)chance(r, 300)); /* many tuples */
    }
    memset(c->fin, 0, sizeof(c->fin));
    memset(c->finacked, 0, sizeof(c->finacked));
    c->simul = 0;
    if (k < 85) {
        uint32_t tfo = chance(r, 40) ? 1 + below(r, 200) : 0;
        c->isn[0] = (uint32_t)rnd(r);
        c->nxt[0] = c->isn[0] + 1 + tfo;
        seg_set(g, s, 0, SYN, c->isn[0], 0, tfo);
        s->ws = ws_option(r);
        c->phase = P_SYN;
    } else if (k < 93) {
        c->nxt[0] = (uint32_t)rnd(r);
        c->nxt[1] = (uint32_t)rnd(r);
        c->isn[0] = c->nxt[0] - 1;
        c->isn[1] = c->nxt[1] - 1;
        c->phase = P_EST;
        seg_set(g, s, (int)below(r, 2), PSH | ACK, c->nxt[0], c->nxt[1], 0);
        if (s->side) {
            s->seq = c->nxt[1];
            s->ack = c->nxt[0];
        }
    } else {
        static const uint8_t stray[] = {RST, ACK, RST | ACK, FIN | ACK};
        seg_set(g, s, (int)below(r, 2), stray[below(r, 4)], (uint32_t)rnd(r), (uint32_t)rnd(r),
                0);
    }
}

/* The client's SYN was sent. */
static void step_syn(gen *g, gconn *c, gseg *s)
{
    rng *r = &g->r;
    uint32_t k = below(r, 100);
    if (k < 72 || (k >= 92 && k < 96)) {
        int simul = k >= 92;
        c->isn[1] = (uint32_t)rnd(r);
        c->nxt[1] = c->isn[1] + 1;
        seg_set(g, s, 1, simul ? SYN : SYN | ACK, c->isn[1], simul ? 0 : c->nxt[0], 0);
        s->ws = ws_option(r);
        c->simul = (uint8_t)simul;
        c->phase = P_SYNACK;
    } else if (k < 80) {
        seg_set(g, s, 1, RST | ACK, 0, c->nxt[0], 0); /* refused */
        c->phase = P_IDLE;
    } else if (k < 88) {
        seg_set(g, s, 0, SYN, c->isn[0], 0, c->nxt[0] - c->isn[0] - 1); /* retransmitted */
        s->ws = ws_option(r);
    } else if (k < 92) {
        c->isn[0] = (uint32_t)rnd(r); /* retried with a new ISN */
        c->nxt[0] = c->isn[0] + 1;
        seg_set(g, s, 0, SYN, c->isn[0], 0, 0);
    } else {
        seg_set(g, s, 0, RST, c->nxt[0], 0, 0);
        c->phase = P_IDLE;
    }
}

/* The server's SYN (-ACK) was sent. */
static void step_synack(gen *g, gconn *c, gseg *s)
{
    rng *r = &g->r;
    uint32_t k = below(r, 100);
    if (c->simul && k < 30) {
        seg_set(g, s, 0, SYN | ACK, c->isn[0], c->nxt[1], 0);
        c->simul = 0;
    } else if (k < 65) {
        seg_set(g, s, 0, ACK, c->nxt[0], c->nxt[1], 0);
        c->phase = P_EST;
    } else if (k < 78) {
        uint32_t len = data_len(r);
        seg_set(g, s, 0, PSH | ACK, c->nxt[0], c->nxt[1], len);
        c->nxt[0] += len;
        c->phase = P_EST;
    } else if (k < 88) {
        seg_set(g, s, 1, SYN | ACK, c->isn[1], c->nxt[0], 0);
    } else if (k < 92) {
        seg_set(g, s, 0, SYN, c->isn[0], 0, 0);
    } else if (k < 96) {
        uint32_t len = data_len(r);
        seg_set(g, s, 1, PSH | ACK, c->nxt[1], c->nxt[0], len);
        c->nxt[1] += len;
    } else {
        seg_set(g, s, 0, RST, c->nxt[0], 0, 0);
        c->phase = P_IDLE;
    }
}

/* A segment of side a after its FIN: ACKs, its FIN again, late data, RST. */
static void step_after_fin(gen *g, gconn *c, gseg *s, int a, uint32_t ack)
{
    rng *r = &g->r;
    uint32_t k = below(r, 100);
    if (k < 80) {
        seg_set(g, s, a, ACK, c->nxt[a], ack, 0);
    } else if (k < 92) {
        seg_set(g, s, a, FIN | ACK, c->nxt[a] - 1, ack, 0);
    } else if (k < 97) {
        seg_set(g, s, a, PSH | ACK, c->nxt[a], ack, data_len(r)); /* data after the FIN */
    } else {
        seg_set(g, s, a, chance(r, 500) ? RST : RST | ACK, c->nxt[a], ack, 0);
        c->phase = P_IDLE;
    }
}

/* Both ends up: data, ACKs, FINs, RSTs, keep-alives, window probes. */
static void step_est(gen *g, gconn *c, gseg *s)
{
    rng *r = &g->r;
    int a = (int)below(r, 2), b = !a;
    uint32_t ack = c->nxt[b] - (chance(r, 150) ? below(r, 3000) : 0);
    uint32_t k = below(r, 1000), len;
    if (c->fin[a]) {
        step_after_fin(g, c, s, a, ack);
    } else if (k < 450) {
        len = data_len(r);
        seg_set(g, s, a, PSH | ACK, c->nxt[a], ack, len);
        c->nxt[a] += len;
    } else if (k < 750) {
        seg_set(g, s, a, ACK, c->nxt[a], ack, 0);
    } else if (k < 830) {
        len = chance(r, 100) ? data_len(r) : 0;
        seg_set(g, s, a, FIN | ACK, c->nxt[a], ack, len);
        c->nxt[a] += len + 1;
        c->fin[a] = 1;
    } else if (k < 850) {
        seg_set(g, s, a, chance(r, 500) ? RST : RST | ACK, c->nxt[a], ack, 0);
        c->phase = P_IDLE;
    } else if (k < 880) {
        uint32_t off = k < 865 ? 1 + below(r, 5000) : (uint32_t)rnd(r);
        seg_set(g, s, a, RST, c->nxt[a] + off, 0, 0); /* in window but not exact, or off */
    } else if (k < 910) {
        seg_set(g, s, a, ACK, c->nxt[a] - 1, ack, below(r, 2)); /* keep-alive */
    } else if (k < 945) {
        seg_set(g, s, a, ACK, c->nxt[a], ack, k < 925 ? 0 : 1); /* zero window, probe */
        s->win = k < 925 ? 0 : s->win;
        c->nxt[a] += s->len && chance(r, 500) ? 1 : 0;
    } else if (k < 960) {
        seg_set(g, s, a, SYN, (uint32_t)rnd(r), 0, 0); /* SYN on a live tuple */
    } else if (k < 975) {
        seg_set(g, s, a, ACK, c->nxt[a], c->nxt[b] + 1 + below(r, 5000), 0); /* acks unseen */
    } else {
        seg_set(g, s, a, (uint8_t)(ACK | (rnd(r) & 0xe8)), c->nxt[a], ack, 0); /* URG ECE CWR */
    }
    if ((s->flags & ACK) && c->fin[b] && s->ack == c->nxt[b])
        c->finacked[b] = 1;
    if (c->finacked[0] && c->finacked[1] && chance(r, 800))
        c->phase = P_IDLE; /* closed: the tuple may be reused */
}

static void step(gen *g, gconn *c, gseg *s)
{
    switch (c->phase) {
    case P_IDLE: step_idle(g, c, s); break;
    case P_SYN: step_syn(g, c, s); break;
    case P_SYNACK: step_synack(g, c, s); break;
    default: step_est(g, c, s); break;
    }
}

/* A random segment on an odd tuple. */
static void odd_segment(gen *g)
{
    rng *r = &g->r;
    gseg s;
    unsigned key = odd_key[below(r, sizeof(odd_key))];
    seg_set(g, &s, (int)below(r, 2), (uint8_t)rnd(r), (uint32_t)rnd(r), (uint32_t)rnd(r),
            chance(r, 500) ? 0 : data_len(r));
    if (chance(r, 700)) { /* mostly near the tuple's last ends */
        s.seq = g->dec.end[key][s.side] + below(r, 3) - 1;
        s.ack = g->dec.end[key][!s.side];
    }
    s.ws = (s.flags & SYN) ? ws_option(r) : -1;
    emit_key(g, key, 0, 0, &s);
}

/* Some damage to a segment of the model. */
static void mutate(rng *r, gseg *s)
{
    switch (below(r, 5)) {
    case 0: s->flags = (uint8_t)rnd(r); break;
    case 1: s->flags ^= (uint8_t)(1u << below(r, 8)); break;
    case 2: s->seq += below(r, 4001) - 2000; break;
    case 3: s->ack = chance(r, 500) ? (uint32_t)rnd(r) : s->ack + below(r, 4001) - 2000; break;
    default: s->len = chance(r, 500) ? 0 : data_len(r); break;
    }
}

/* One step of one tuple: up to three records. */
static void gen_one(gen *g)
{
    rng *r = &g->r;
    gconn *c = &g->c[below(r, NSLOT)];
    gseg s;
    if (chance(r, 10)) {
        odd_segment(g);
        return;
    }
    if (c->nhist && chance(r, 30)) { /* retransmission of a recent segment */
        emit(g, c, &c->hist[below(r, c->nhist < HIST ? c->nhist : HIST)]);
        return;
    }
    step(g, c, &s);
    c->hist[c->nhist++ % HIST] = s;
    if (chance(r, 30))
        return; /* lost before the capture point */
    if (!c->has_pending && chance(r, 30)) {
        c->pending = s; /* held back: captured after later segments */
        c->has_pending = 1;
        return;
    }
    if (chance(r, 30))
        mutate(r, &s);
    emit(g, c, &s);
    if (chance(r, 30))
        emit(g, c, &s); /* duplicated */
    if (c->has_pending && chance(r, 500)) {
        emit(g, c, &c->pending);
        c->has_pending = 0;
    }
}

uint8_t *random_input(uint64_t n, uint64_t seed, size_t *size)
{
    gen *g = calloc(1, sizeof(*g));
    if (!g || n > (SIZE_MAX - FUZZ_HDR) / FUZZ_REC)
        goto fail;
    *size = FUZZ_HDR + (size_t)n * FUZZ_REC;
    g->out = malloc(*size);
    if (!g->out)
        goto fail;
    g->n = n;
    g->r.s = seed;
    for (int i = 0; i < NSLOT; i++) {
        g->c[i].key = slot_key[i];
        g->c[i].zone = slot_zone[i];
    }
    /* config: any; queries: hindsight and connections at the end */
    g->out[0] = (uint8_t)(rnd(&g->r) & 0x3f);
    g->out[1] = FUZZ_Q_HINDSIGHT_END | FUZZ_Q_CONN_END;
    wr16(g->out + 2, below(&g->r, 65536));
    fuzz_decode_start(&g->dec, g->out);
    while (g->done < g->n)
        gen_one(g);
    uint8_t *out = g->out;
    free(g);
    return out;
fail:
    free(g);
    return NULL;
}
