/* process.c: the public entry. tcps_process() finds a segment's connection
 * (or decides it opens a new one: a SYN on a finished tuple, RFC 1122
 * 4.2.2.13), then hands it to the state machine (segment.c): the fast path
 * for an ACK between two ESTABLISHED ends, the general path for the rest.
 * Also the connection queries: tcps_conn_get() and tcps_state_at(). */
#include "tcps_internal.h"

/* A bare SYN that its receiver R answers with an ACK, changing nothing: RFC
 * 5961 4.2 (3.10.7.4 fourth) in a synchronized state, when its sender S is
 * still in one too (a forged SYN: S's own socket could not send it); and a
 * client's TIME_WAIT, which has no listener to hand a new connection to (Linux:
 * tcp_timewait_state_process() TCP_TW_SYN, no listener: an ACK). */
int tcps__syn_challenged(const tcps__conn *c, int sender)
{
    const tcps__peer *S = &c->p[sender], *R = &c->p[!sender];
    if (R->ended || !TCPS__SYNCHRONIZED(R->state))
        return 0;
    if (R->state == TCPS_TIME_WAIT)
        return !R->passive && (!sender) == TCPS_CLIENT;
    return !S->ended && TCPS__SYNCHRONIZED(S->state) && S->state != TCPS_TIME_WAIT;
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
    if (tcps__syn_challenged(c, sender))
        return 0;
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

/* The old incarnation c of a reused tuple: an end in TIME_WAIT leaves it
 * (3.10.8: TIME-WAIT to CLOSED), its certainty unchanged: the SYN's receiver
 * (RFC 1122 4.2.2.13), or its sender if that end opened the old connection (a
 * client's connect() reusing its TIME-WAIT tuple). A passive end does not
 * connect from its listening port: a SYN from there leaves its TIME-WAIT alone
 * (forged, or another host's). */
static void tcps__end_time_wait(tcps__conn *c, const tcps_segment *s, int sender)
{
    for (int i = 0; i < 2; i++) {
        tcps__peer *p = &c->p[i];
        if (p->state == TCPS_TIME_WAIT && (i != sender || !p->passive))
            tcps__move(c, p, IN_TIMEOUT, p->cert, s);
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
            tcps__end_time_wait(c, s, sender);
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


/* A fresh per-segment context for seg (h: its tcps__hash_seg()). */
static TCPS__HOT void tcps__ctx_init(tcps__ctx *x, const tcps_segment *seg, uint64_t h)
{
    memset(x, 0, sizeof(*x));
    x->seg = seg;
    x->h = h;
    x->end = seg->seq + seg->len + ((seg->flags & TCPS_SYN) ? 1u : 0u) +
             ((seg->flags & TCPS_FIN) ? 1u : 0u);
}

/* Both ends ESTABLISHED, neither ended, no FIN in flight: an ACK without SYN,
 * FIN or RST takes the fast path (segment.c). */
static TCPS__HOT int tcps__fast_ok(const tcps__conn *c, const tcps_segment *seg)
{
    const tcps__peer *p = c->p;
    return (seg->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST | TCPS_ACK)) == TCPS_ACK &&
           p[0].state == TCPS_ESTABLISHED && p[1].state == TCPS_ESTABLISHED && !p[0].ended &&
           !p[1].ended && !p[0].pend_fin && !p[1].pend_fin;
}

int tcps_process(tcps_tracker *t, const tcps_segment *seg, tcps_record *out)
{
    memset(out, 0, sizeof(*out));
    if (!t || !seg || (seg->family != 4 && seg->family != 6))
        return 0;
    int sender = -1;
    tcps__ctx x;
    uint64_t h = tcps__hash_seg(seg);
    uint64_t found = tcps__find(t, seg, h, &sender);
    tcps__ctx_init(&x, seg, h);
#ifndef TCPS_NO_FAST_PATH /* -DTCPS_NO_FAST_PATH: every segment takes the general path */
    if (found && tcps__fast_ok(tcps__conn_at(t, (uint32_t)found - 1), seg)) {
        x.id = (uint32_t)found - 1;
        x.c = tcps__conn_at(t, x.id);
        x.snd = &x.c->p[sender];
        x.rcv = &x.c->p[!sender];
        out->conn_id = x.id + 1;
        tcps__fast(t, &x, out);
        return 1;
    }
#endif
    x.far = t->cfg.vantage == TCPS_VANTAGE_CLIENT   ? 1 + TCPS_SERVER
            : t->cfg.vantage == TCPS_VANTAGE_SERVER ? 1 + TCPS_CLIENT
                                                     : 0;
    int bad = tcps__bad_flags(seg->flags);
    if (!tcps__lookup(t, seg, &x, bad, found, sender)) {
        if (bad)
            out->events = TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS);
        return 0;
    }
    out->conn_id = x.id + 1;
    tcps__segment(t, &x, bad, out);
    return 1;
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

