/* hindsight.c: what later segments show about earlier ones.
 *
 * Each connection keeps a log of its significant segments (SYN, FIN, RST, the
 * first ACK covering the peer's SYN or FIN, and any that changed a state) and
 * the evidence that one reached its receiver later than it was captured (the
 * receiver's ACK did not cover it yet), or never (what it acknowledged was
 * retransmitted). tcps_hindsight() replays the log through the same state
 * machine (segment.c) with those deliveries moved, into a timeline of states.
 */
#include "tcps_internal.h"

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

void tcps__point_add(tcps__ctx *x, const tcps__peer *p)
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
            const tcps__entry *e = tcps__log_marked(t, c, rw, TCPS__E_FIN_ORD);
            if (acks && e && s->ack == e->seq)
                c->hs_fin_unarrived = (uint8_t)(c->hs_fin_unarrived | (1u << rw));
            else
                c->hs_fin_unarrived = (uint8_t)(c->hs_fin_unarrived & ~(1u << rw));
            tcps__set_after(t, c, id, rw, TCPS__AFTER_FIN, s->frame);
            c->hs_differs = 1;
        }
    }
}

/* The sender (index sw) sends its SYN-ACK or FIN again, and its peer has
 * acknowledged no copy of it yet: the copy logged never arrived (a client in
 * SYN-SENT acknowledges a SYN-ACK at once, 3.10.7.3 fourth; a FIN is
 * processed once, 3.10.7.4). The mark goes; tcps__log() puts it on this copy,
 * the one that counts. */
static void tcps__sent_again(tcps_tracker *t, tcps__ctx *x, int sw)
{
    tcps__conn *c = x->c;
    tcps__peer *S = x->snd;
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYNACK)) &&
        !(x->ev & TCPS_EVENT_BIT(TCPS_EV_REORDERED)) && !x->rcv->has_ack_syn_ord &&
        S->has_syn_ord && !S->syn_covered) {
        tcps__mark_lost(c, tcps__log_marked(t, c, sw, TCPS__E_SYN_ORD), TCPS__E_SYN_ORD);
        S->has_syn_ord = 0;
    }
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) && S->has_fin_ord &&
        !S->fin_covered) {
        tcps__mark_lost(c, tcps__log_marked(t, c, sw, TCPS__E_FIN_ORD), TCPS__E_FIN_ORD);
        S->has_fin_ord = 0;
    }
}

/* What the sender's segment shows about the receipt of the peer's earlier
 * SYN and FIN (not covered by its ACK yet: not received when it sent this),
 * and about the peer's ACKs (a retransmitted SYN-ACK or FIN, or a SYN retried
 * after the SYN-ACK, was not acknowledged: that ACK or SYN-ACK was lost). */
static void tcps__evidence(tcps_tracker *t, tcps__ctx *x)
{
    tcps__conn *c = x->c;
    tcps__peer *R = x->rcv;
    const tcps_segment *s = x->seg;
    int acks = (s->flags & TCPS_ACK) != 0;
    int rw = R == &c->p[TCPS_SERVER];
    if (s->flags & TCPS_RST) {
        /* An RST's ACK field changes nothing at R (3.10.7.4 first), but an
         * abort's RST carries the sender's RCV.NXT (Linux, 3.10.5 with ACK):
         * one short of R's FIN shows that FIN had not reached it. */
        if (acks && R->has_fin_ord && !R->fin_covered && TCPS__SEQ_LT(s->ack, R->fin_seq + 1)) {
            tcps__set_after(t, c, x->id, rw, TCPS__AFTER_FIN, s->frame);
            c->hs_differs = 1;
        }
        return;
    }
    /* An old copy (a SYN once its sender acknowledged the peer's: a retried
     * SYN before that is news): its ACK tells what its sender had back then,
     * and it proves nothing lost (a reordered FIN never gets below). */
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_REORDERED)) &&
        (!(s->flags & TCPS_SYN) || x->snd->has_ack_syn_ord))
        return;
    tcps__coverage(t, c, x->id, rw, s, acks);
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_REVISED)) && R->has_fin_ord) {
        /* The sender's FIN shows R's FIN had not reached it: it did after. */
        tcps__set_after(t, c, x->id, rw, TCPS__AFTER_FIN, s->frame);
        c->hs_differs = 1;
    }
    if (x->ev & TCPS_EVENT_BIT(TCPS_EV_DUPLICATE))
        return; /* the network's copy, not a retransmission: nothing was lost */
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYNACK)) &&
        !(x->ev & TCPS_EVENT_BIT(TCPS_EV_REORDERED)) && R->has_ack_syn_ord) {
        tcps__mark_lost(c, tcps__log_marked(t, c, rw, TCPS__E_ACK_SYN_ORD), TCPS__E_ACK_SYN_ORD);
        R->has_ack_syn_ord = 0; /* the next covering ACK is logged again */
    }
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) && R->has_ack_fin_ord) {
        tcps__mark_lost(c, tcps__log_marked(t, c, rw, TCPS__E_ACK_FIN_ORD), TCPS__E_ACK_FIN_ORD);
        R->has_ack_fin_ord = 0;
    }
    tcps__sent_again(t, x, !rw);
    if ((x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_SYN)) && R->has_syn_ord &&
        !R->syn_covered) { /* S never acknowledged R's SYN-ACK: it did not get it */
        tcps__entry *e = tcps__log_marked(t, c, rw, TCPS__E_SYN_ORD);
        if (e && (tcps__flags_of(e) & TCPS_ACK)) {
            tcps__mark_lost(c, e, TCPS__E_SYN_ORD);
            R->has_syn_ord = 0;
        }
    }
}

/* S's RST without ACK, sequence seq, answers the latest segment of endpoint
 * rw that acknowledged seq (Linux, as 3.10.7.1: <SEQ=SEG.ACK><CTL=RST>): S
 * had no connection when it came, and took nothing from it. The answered
 * segment is marked if it is logged: rw's latest but for RSTs, nothing but
 * an RST sent after it. */
static void tcps__reject(tcps_tracker *t, tcps__conn *c, int rw, uint32_t seq)
{
    const tcps__peer *R = &c->p[rw];
    for (uint32_t i = c->log_tail; i; i = tcps__prev(t, i, NULL)) {
        tcps__entry *e = tcps__entry_at(t, i - 1);
        if ((e->bits & TCPS__E_SERVER) != (rw ? TCPS__E_SERVER : 0))
            continue;
        uint8_t f = tcps__flags_of(e);
        if (f & TCPS_RST)
            continue; /* nothing answers an RST */
        uint32_t len = (e->dprev_hi & TCPS__E_WIDE) ? tcps__slot_at(t, i - 2)->w.len : e->fl >> 20;
        uint32_t end = e->seq + len + ((f & TCPS_SYN) ? 1u : 0u) + ((f & TCPS_FIN) ? 1u : 0u);
        const tcps__peer *S = &c->p[!rw];
        if (S->has_ack && TCPS__SEQ_GEQ(S->max_ack, end) && end != e->seq)
            return; /* S acknowledged it: it came while S had a connection */
        if ((f & TCPS_ACK) && e->ack == seq && R->has_nxt &&
            TCPS__SEQ_GEQ(end, R->snd_nxt)) {
            e->bits |= TCPS__E_REJECTED;
            c->hs_differs = 1;
        }
        return; /* only the peer's latest logged segment can be the one */
    }
}

/* Keeps the segments a replay needs: SYN, FIN, RST, the first ACK covering
 * the peer's SYN or FIN, and any that changed a state. */
/* The marks of S's ACK in s: its first covering R's SYN, its first covering
 * R's FIN (an RST's ACK field acknowledges nothing). */
static TCPS__HOT uint8_t tcps__ack_marks(const tcps__peer *S, const tcps__peer *R,
                                         const tcps_segment *s)
{
    uint8_t m = 0;
    if (!(s->flags & TCPS_ACK) || (s->flags & TCPS_RST))
        return 0;
    if (!S->has_ack_syn_ord && R->has_isn && TCPS__SEQ_GT(s->ack, R->isn))
        m |= TCPS__E_ACK_SYN_ORD;
    if (!S->has_ack_fin_ord && R->has_fin && TCPS__SEQ_GEQ(s->ack, R->fin_seq + 1))
        m |= TCPS__E_ACK_FIN_ORD;
    return m;
}

/* Marks the entry just logged, and notes that S has one with those marks. */
static TCPS__HOT void tcps__log_marks(tcps_tracker *t, const tcps__conn *c, tcps__peer *S,
                                      uint8_t marks)
{
    if (marks & TCPS__E_ACK_SYN_ORD)
        S->has_ack_syn_ord = 1;
    if (marks & TCPS__E_ACK_FIN_ORD)
        S->has_ack_fin_ord = 1;
    tcps__entry_at(t, c->log_tail - 1)->bits |= marks;
}

/* s comes from the sender of an RST its receiver did not accept, and is
 * its first segment after it (not an RST): logged, it shows in the replay
 * that the RST was not its own. */
static TCPS__HOT int tcps__after_rst(tcps__conn *c, int sender, const tcps_segment *s)
{
    if (!c->hs_rst_open || c->hs_rst_who != sender || (s->flags & TCPS_RST))
        return 0;
    c->hs_rst_open = 0;
    return 1;
}

void tcps__log_ack(tcps_tracker *t, tcps__ctx *x)
{
    tcps__conn *c = x->c;
    c->hs_valid = 0;
    if (c->hs_overflow)
        return;
    int sender = x->snd == &c->p[TCPS_SERVER];
    tcps__coverage(t, c, x->id, !sender, x->seg, 1);
    uint8_t marks = tcps__ack_marks(x->snd, x->rcv, x->seg);
    int after_rst = tcps__after_rst(c, sender, x->seg);
    if ((marks || after_rst) && tcps__log_add(t, c, x->seg, sender) >= 0)
        tcps__log_marks(t, c, x->snd, marks);
}

void tcps__log(tcps_tracker *t, tcps__ctx *x, const tcps_record *r)
{
    tcps__conn *c = x->c;
    tcps__peer *S = x->snd, *R = x->rcv;
    const tcps_segment *s = x->seg;
    int sender = (S == &c->p[TCPS_SERVER]);
    c->hs_valid = 0;
    if (c->hs_overflow)
        return;
    tcps__evidence(t, x);
    uint8_t acked = tcps__ack_marks(S, R, s);
    int changed = r->before[0] != r->after[0] || r->before[1] != r->after[1] ||
                  r->ended_before[0] != r->ended[0] || r->ended_before[1] != r->ended[1];
    if (!(s->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST)) && !acked && !changed &&
        !tcps__after_rst(c, sender, s) && !(r->events & TCPS_EVENT_BIT(TCPS_EV_NEW_CONNECTION)))
        return;
    if (!(s->flags & TCPS_RST) && c->hs_rst_who == sender)
        c->hs_rst_open = 0;
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
        tcps__set_after(t, c, x->id, sender, TCPS__AFTER_FIN, 0);
    }
    if ((s->flags & (TCPS_RST | TCPS_ACK)) == TCPS_RST)
        tcps__reject(t, c, !sender, s->seq);
    if (s->flags & TCPS_RST) {
        int v = (r->events & TCPS_EVENT_BIT(TCPS_EV_RESET_ACCEPTED))    ? 2
                : (r->events & TCPS_EVENT_BIT(TCPS_EV_RESET_CHALLENGE)) ? 1
                                                                         : 0;
        marks |= (uint8_t)(v << TCPS__E_RST_SHIFT);
        if (TCPS__HAVE_ESTABLISHED(r->before[sender]) && !r->ended_before[sender]) {
            /* did S send it? its later segments will tell (tcps__after_rst) */
            c->hs_rst_open = 1;
            c->hs_rst_who = (uint8_t)sender;
            c->hs_differs = 1;
        }
    }
    tcps__log_marks(t, c, S, marks | acked);
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
    uint8_t closed[TCPS__MAX_LOG]; /* its receiver had closed: it arrives late (tcps__closed_before()) */
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
        if (seg.flags & TCPS_RST)
            tcps__replay_segment(st->t, &x, 1); /* the receiver's side of an RST */
        else
            tcps__replay_deliver(&x);
    }
}

/* Endpoint who (1: the server) has an entry after entry i that is no RST,
 * nor a SYN (a SYN of this connection seen after entry i is an old copy: a
 * new SYN would open a new connection). */
static int tcps__sends_after(const tcps__item *ents, int n, int i, int who)
{
    for (int j = i + 1; j < n; j++)
        if (!(ents[j].flags & (TCPS_RST | TCPS_SYN)) && !(ents[j].bits & TCPS__E_SERVER) == !who)
            return 1;
    return 0;
}

/* The frame after which entry i arrived at a receiver that had closed (0:
 * no such evidence). Its receiver's later RST without
 * ACK at a sequence number below i's ACK answers an earlier segment (Linux:
 * data or a FIN reaching a socket closed for reading is answered by an RST,
 * <SEQ=SEG.ACK><CTL=RST>, 3.10.7.1); its RST with an ACK short of i's end
 * shows i had not arrived. If that receiver sent nothing but RSTs between i
 * and it, nor after it, it had closed before i came: i arrives after that
 * RST. */
static uint32_t tcps__closed_before(const tcps__item *ents, int n, int i)
{
    const tcps__item *e = &ents[i];
    int rw = (e->bits & TCPS__E_SERVER) ? 0 : 1; /* i's receiver, 1: the server */
    if ((e->flags & (TCPS_RST | TCPS_ACK)) != TCPS_ACK)
        return 0;
    for (int j = i + 1; j < n; j++) {
        const tcps__item *r = &ents[j];
        if (((r->bits & TCPS__E_SERVER) ? 1 : 0) != rw)
            continue;
        if ((r->flags & (TCPS_RST | TCPS_ACK)) == (TCPS_RST | TCPS_ACK)) {
            /* an abort's RST carries its RCV.NXT (Linux): short of i's end,
             * i had not arrived */
            uint32_t end = e->seq + e->len + ((e->flags & TCPS_FIN) ? 1u : 0u);
            if (end != e->seq && TCPS__SEQ_LT(r->ack, end))
                return tcps__sends_after(ents, n, j, rw) ? 0 : r->frame;
            return 0;
        }
        if (!(r->flags & TCPS_RST))
            return 0; /* it was there after i was sent */
        if (TCPS__SEQ_LT(r->seq, e->ack))
            return tcps__sends_after(ents, n, j, rw) ? 0 : r->frame;
    }
    return 0;
}

/* Entry i, marked rejected (tcps__reject()): was the RST that marked it, the
 * peer's first later RST without ACK at its ACK number, the peer's own? A
 * peer that goes on sending (not RSTs) after it had a connection all along:
 * the RST was forged, and rejected nothing (RFC 5961 3). */
static int tcps__rejected_by_own(const tcps__item *ents, int n, int i)
{
    int peer = !(ents[i].bits & TCPS__E_SERVER);
    for (int j = i + 1; j < n; j++)
        if ((ents[j].flags & (TCPS_RST | TCPS_ACK)) == TCPS_RST &&
            !(ents[j].bits & TCPS__E_SERVER) == !peer && ents[j].seq == ents[i].ack)
            return !tcps__sends_after(ents, n, j, peer);
    return 1;
}

/* Entry i, when an RST its receiver accepted: the receiver's segments
 * logged after it (no RST) were sent before it arrived, so it arrived after
 * the last of them (the segments crossed); otherwise after (unchanged). */
static uint32_t tcps__rst_after(const tcps__item *ents, int n, int i, uint32_t after)
{
    if (!(ents[i].flags & TCPS_RST) || (ents[i].bits & TCPS__E_RST) != (2 << TCPS__E_RST_SHIFT))
        return after;
    for (int j = n - 1; j > i; j--)
        if (!(ents[j].flags & TCPS_RST) && ((ents[j].bits ^ ents[i].bits) & TCPS__E_SERVER))
            return ents[j].frame;
    return after;
}

/* Entry i is an RST; its sender's FIN, still in flight (pending), comes
 * before it in the sender's sequence space or not. The receiver checks an RST
 * against what it received in order (3.10.7.4 first, RFC 5961 3.2): an RST
 * above the FIN is taken only after the FIN, so the FIN arrives first; an RST
 * at or below the FIN's sequence number that closes a receiver which sends
 * nothing after it shows the FIN never arrived (after it, that RST would
 * have been below the window). */
static void tcps__replay_fin_vs_rst(tcps__replay_state *st, int i)
{
    const tcps__item *r = &st->ents[i];
    for (int j = 0; j < i; j++) {
        const tcps__item *f = &st->ents[j];
        if (!st->pending[j] || !(f->flags & TCPS_FIN) ||
            ((f->bits ^ r->bits) & TCPS__E_SERVER) != 0)
            continue;
        if (TCPS__SEQ_GT(r->seq, f->seq + f->len))
            st->after[j] = r->frame - 1; /* delivered just before the RST */
        else if (!tcps__sends_after(st->ents, st->n, i, !(r->bits & TCPS__E_SERVER)))
            st->pending[j] = 0;
    }
}

/* The receiver takes the segment without its FIN: its ACK only. */
static void tcps__replay_deliver_ack(tcps__ctx *x)
{
    const tcps_segment *seg = x->seg;
    tcps_segment a = *seg;
    a.flags &= (uint8_t)~TCPS_FIN;
    x->seg = &a;
    tcps__replay_deliver(x);
    x->seg = seg;
}

/* The receiver answered the segment with an RST without ACK. A socket
 * still there (synchronized) took its ACK first, as Linux does, then
 * refused its data or FIN (closed for reading, or a timewait socket in
 * FIN-WAIT-2): its RST closes it. One in SYN-SENT took nothing: it had
 * been closed (IN_GONE). */
static void tcps__replay_rejected(tcps__ctx *x)
{
    if (!TCPS__SYNCHRONIZED(x->rcv->state) || (x->seg->flags & TCPS_SYN)) {
        tcps__replay_gone(x);
        return;
    }
    tcps__replay_deliver_ack(x);
}

/* Entry e is a FIN whose whole segment had not arrived when the peer last
 * acknowledged without covering it (tcps__coverage()): its ACK field waits too. */
static int tcps__fin_unarrived(const tcps__conn *c, const tcps__item *e)
{
    return (e->bits & TCPS__E_FIN_ORD) && ((c->hs_fin_unarrived >> (e->bits & TCPS__E_SERVER)) & 1u);
}

/* The receiver takes the segment later (*pending); its ACK at once (ack_now:
 * only a FIN waits for the sequence space before it, 3.10.7.4 eighth), or with
 * it (a receiver closed before it came, tcps__closed_before()). */
static void tcps__replay_defer(tcps__ctx *x, uint8_t *pending, int ack_now)
{
    *pending = 1;
    if (ack_now && (x->seg->flags & (TCPS_FIN | TCPS_ACK)) == (TCPS_FIN | TCPS_ACK))
        tcps__replay_deliver_ack(x);
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
    for (int i = 0; i < st.n; i++) {
        uint32_t a = tcps__rst_after(ents, st.n, i, tcps__after(t, c, idx, &ents[i]));
        uint32_t gone = tcps__closed_before(ents, st.n, i);
        st.after[i] = gone > a ? gone : a;
        st.closed[i] = gone != 0;
    }
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
        if (e->flags & TCPS_RST)
            tcps__replay_fin_vs_rst(&st, i);
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
        int rejected = !(e->flags & TCPS_RST) && (e->bits & TCPS__E_RST) == TCPS__E_REJECTED &&
                       tcps__rejected_by_own(ents, st.n, i) && !st.closed[i];
        if (e->flags & TCPS_RST)
            x.rst_own = !tcps__sends_after(ents, st.n, i, (e->bits & TCPS__E_SERVER) != 0);
        if ((e->flags & TCPS_RST) && st.after[i]) {
            x.rst = -1; /* arrives later (tcps__rst_after()): its sender's side now */
            x.rst_own = 1;
            st.pending[i] = 1;
        }
        int rest = tcps__replay_segment(t, &x, !st.after[i] && !rejected &&
                                                   !(e->bits & TCPS__E_LOST));
        if (rest && rejected)
            tcps__replay_rejected(&x);
        else if (rest && st.after[i] && !(e->bits & TCPS__E_LOST))
            tcps__replay_defer(&x, &st.pending[i], !st.closed[i] && !tcps__fin_unarrived(c, e));
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
