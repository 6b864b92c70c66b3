/* segment.c: the state machine of one segment.
 *
 * A segment is first checked against its sender (what it sent proves its own
 * state: SYN, SYN-ACK, FIN, RST; its ACK proves what it had received), then
 * delivered to its receiver (assumed delivered unless later evidence
 * contradicts it). Every state change is an input of the RFC 9293 diagram
 * (diagram.c) given to tcps__step(); the few cases one arc cannot say
 * (simultaneous open and close, passive reset, midstream pickup, handshake
 * segments the capture lacks) are small functions here, giving inputs too.
 * The fast path for an ACK between ESTABLISHED ends (tcps__fast()) calls the
 * same helpers as the general path (tcps__segment()).
 */
#include "tcps_internal.h"

/* Endpoint p takes input in of the diagram (tcps__move()) with certainty
 * cert; a refused move (backwards) is reported as unexpected, and a replay
 * records the change in the hindsight timeline. */
static void tcps__step(tcps__ctx *x, tcps__peer *p, enum tcps__input in, int cert)
{
    int r = tcps__move(x->c, p, in, cert, x->seg);
    if (r < 0)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
    else if (r > 0 && x->replay)
        tcps__point_add(x, p);
}

/* Input in with the certainty its direction gives: observed for what p sent,
 * inferred for what it received. */
static void tcps__apply(tcps__ctx *x, tcps__peer *p, enum tcps__input in)
{
    tcps__step(x, p, in, in <= IN_SND_RST ? TCPS_CERT_OBSERVED : TCPS_CERT_INFERRED);
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
    if (tcps__syn_challenged(x->c, (int)(S - x->c->p))) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SYN_CHALLENGE); /* neither end changes */
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
        if (S->has_nxt && TCPS__SEQ_GT(S->snd_nxt, S->isn + 1u))
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_REORDERED); /* S sent data or a FIN since */
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
        if (fin_seq == S->fin_seq) {
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN);
            /* its ACK below one S sent already: a copy made before that one */
            if ((s->flags & TCPS_ACK) && S->has_ack && TCPS__SEQ_LT(s->ack, S->max_ack))
                x->ev |= TCPS_EVENT_BIT(TCPS_EV_REORDERED);
        } else
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        return;
    }
    if (S->ended || S->state == TCPS_TIME_WAIT) {
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_UNEXPECTED);
        return;
    }
    S->fin_seq = fin_seq;
    S->has_fin = 1;
    if (!TCPS__SYNCHRONIZED(S->state)) {
        /* A FIN before S was synchronized: its handshake is missing. */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_UNSEEN);
        tcps__step(x, S, IN_HANDSHAKE_UNSEEN, TCPS_CERT_INFERRED);
    }
    int acked = tcps__acks_fin(R, s);
    if (R->has_fin && !acked && S->state == TCPS_CLOSE_WAIT) {
        /* S sent its FIN before R's FIN, assumed delivered, reached it: the
         * FINs crossed. S was ESTABLISHED, not CLOSE_WAIT (no arc leads from
         * CLOSE_WAIT to CLOSING): the record revises its previous state. Its
         * FIN took it to FIN_WAIT_1 (3.10.4), and R's FIN in flight takes it
         * to CLOSING (3.10.7.4 eighth). */
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE) | TCPS_EVENT_BIT(TCPS_EV_REVISED);
        x->revised = 1 + TCPS_ESTABLISHED;
        tcps__step(x, S, IN_FIN_CROSSED, TCPS_CERT_INFERRED);
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
    if (R->ended) {
        verdict = 1;
    } else if (R->state == TCPS_SYN_SENT) {
        /* 3.10.7.3 first: acceptable only if it acknowledges the SYN. */
        verdict = ((s->flags & TCPS_ACK) && tcps__acks_syn(R, s->ack)) ? 1 : -1;
        if (verdict == 1 && S->state == TCPS_LISTEN)
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_REFUSED);
    } else if (R->state == TCPS_LISTEN) {
        verdict = 1; /* 3.10.7.2 first: ignored by a listener; S aborted */
    } else if (x->replay) {
        verdict = x->rst; /* the window check needs data the replay lacks: pass 1's */
    } else {
        verdict = tcps__rst_check(x);
    }
    if (verdict <= 0) {
        x->ev |= verdict < 0 ? TCPS_EVENT_BIT(TCPS_EV_RESET_IGNORED)
                             : TCPS_EVENT_BIT(TCPS_EV_RESET_CHALLENGE);
        /* R keeps its state. In hindsight, a synchronized S that sent
         * nothing after this RST is CLOSED all the same: it aborted (3.10.5)
         * or answered a segment with no connection left (3.10.7.1); Linux
         * sends no RST from a socket that stays. One that went on sending
         * did not send it (a forged RST, RFC 5961 3). */
        if (x->rst_own && TCPS__HAVE_ESTABLISHED(S->state))
            tcps__apply(x, S, IN_SND_RST);
        return;
    }
    x->ev |= TCPS_EVENT_BIT(TCPS_EV_RESET_ACCEPTED);
    /* In hindsight, an S that went on sending after it did not send it (a
     * forged RST, RFC 5961 3): only its receiver takes it. */
    if (!x->replay || x->rst_own)
        tcps__apply(x, S, IN_SND_RST);
    if (R->state == TCPS_LISTEN) {
        /* The listener stays; nothing shows more of it than before. */
        tcps__step(x, R, IN_RCV_RST, R->cert);
    } else if (R->state == TCPS_SYN_RECEIVED && R->passive) {
        tcps__apply(x, R, IN_RCV_RST_PASSIVE); /* back to LISTEN */
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
                TCPS__SYNCHRONIZED(R->state);
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
    /* A retransmitted FIN is taken only in a replay where the first copy was
     * lost (tcps__fin_again()): the receiver then has no FIN of the sender. */
    int fin_new = !(x->ev & TCPS_EVENT_BIT(TCPS_EV_RETRANSMITTED_FIN)) ||
                  (x->replay && !TCPS__HAVE_FIN(R->state));
    if ((f & TCPS_FIN) && S->has_fin && fin_new) {
        if (R->state == TCPS_FIN_WAIT_1 && !tcps__acks_fin(R, s))
            x->ev |= TCPS_EVENT_BIT(TCPS_EV_SIMULTANEOUS_CLOSE);
        if (!TCPS__SYNCHRONIZED(R->state))
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
    tcps__step(x, R, IN_SND_SYNACK, TCPS_CERT_INFERRED);
    tcps__step(x, S, IN_RCV_SYNACK, TCPS_CERT_INFERRED);
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
static TCPS__HOT int tcps__is_duplicate(const tcps__ctx *x)
{
    const tcps__peer *S = x->snd;
    const tcps_segment *s = x->seg;
    return S->has_last && (s->len > 0 || (s->flags & (TCPS_SYN | TCPS_FIN | TCPS_RST))) &&
           tcps__rel(x->c, s->time_ns, 1000u) - S->last_us < 1000u &&
           tcps__seg_hash(s) == S->last_hash;
}

/* First segment of a connection that did not start with a SYN. */
void tcps__pickup(tcps__ctx *x)
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
        tcps__step(x, C, IN_SND_SYN, TCPS_CERT_INFERRED); /* CLOSED -> SYN_SENT */
        return;
    }
    x->ev |= TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM);
    /* States set, not moved: a replay starts its timeline from them. */
    for (int i = 0; i < 2; i++)
        tcps__move(c, &c->p[i], IN_PICKUP, TCPS_CERT_ASSUMED, s);
}

int tcps__bad_flags(uint8_t f)
{
    if ((f & TCPS_SYN) && (f & (TCPS_FIN | TCPS_RST)))
        return 1;                                  /* SYN+FIN, SYN+RST */
    return (f & (TCPS_SYN | TCPS_ACK | TCPS_RST)) == 0; /* no SYN, ACK or RST */
}

static TCPS__HOT void tcps__fill(const tcps__ctx *x, tcps_record *out)
{
    const tcps__conn *c = x->c;
    for (int i = 0; i < 2; i++) {
        out->after[i] = c->p[i].state;
        out->cert[i] = c->p[i].cert;
        out->ended[i] = c->p[i].ended;
        out->entered[i] = c->p[i].entered;
    }
    out->sender = (uint8_t)(x->snd == &c->p[TCPS_SERVER]);
    out->roles_assumed = c->roles_assumed;
}

/* Both ends synchronized and neither closed. */
static int tcps__established(const uint8_t st[2], const uint8_t ended[2])
{
    /* every state from ESTABLISHED on has at least its rank */
    return !ended[0] && !ended[1] && TCPS__HAVE_ESTABLISHED(st[0]) &&
           TCPS__HAVE_ESTABLISHED(st[1]);
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
        tcps__step(x, S, IN_HANDSHAKE_UNSEEN, TCPS_CERT_INFERRED);
        tcps__step(x, R, IN_HANDSHAKE_UNSEEN, TCPS_CERT_INFERRED); /* no arc from ESTABLISHED on */
    }
}

static TCPS__HOT void tcps__data_after_fin(tcps__ctx *x)
{
    const tcps__peer *S = x->snd;
    const tcps_segment *s = x->seg;
    if (S->has_fin && s->len > 0 && !(s->flags & TCPS_SYN) &&
        TCPS__SEQ_GT(s->seq + s->len, S->fin_seq))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_DATA_AFTER_FIN);
}

/* The sender's side of one well-formed segment. Returns 1 if the receiver's
 * side is still to do (everything but an RST, which does both). */
static TCPS__HOT int tcps__send(tcps__ctx *x)
{
    const tcps_segment *seg = x->seg;
    uint8_t f = seg->flags;
    tcps__data_after_fin(x);
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


/* The states before the segment, after what happened between the frames. */
static TCPS__HOT void tcps__before(const tcps__ctx *x, tcps_record *out)
{
    const tcps__conn *c = x->c;
    for (int i = 0; i < 2; i++) {
        out->before[i] = c->p[i].state;
        out->cert_before[i] = c->p[i].cert;
        out->ended_before[i] = c->p[i].ended;
    }
}

/* What the sender proves, what the receiver takes, the sender's bookkeeping. */
static TCPS__HOT void tcps__take(tcps__ctx *x)
{
    if (tcps__is_duplicate(x))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_DUPLICATE); /* processing is idempotent */
    if (tcps__send(x))
        tcps__deliver(x);
    tcps__bookkeep(x);
}

/* The record's events and the connection's. */
static TCPS__HOT void tcps__finish(tcps__ctx *x, tcps_record *out)
{
    out->events = x->ev;
    x->c->events |= (uint32_t)x->ev;
    x->c->last_frame = x->seg->frame;
}

void tcps__segment(tcps_tracker *t, tcps__ctx *x, int bad, tcps_record *out)
{
    const tcps__conn *c = x->c;
    /* tcps__between() has nothing to do without an in-flight SYN or FIN, a
     * running TIME_WAIT timer or a sender still in SYN_SENT */
    if (c->p[0].pend_syn || c->p[1].pend_syn || c->p[0].pend_fin || c->p[1].pend_fin ||
        x->snd->state == TCPS_SYN_SENT ||
        (t->cfg.time_wait_ns &&
         (c->p[0].state == TCPS_TIME_WAIT || c->p[1].state == TCPS_TIME_WAIT)))
        tcps__between(t, x);
    tcps__before(x, out);
    if (bad)
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS); /* no state effect (3.10.7.4 fifth) */
    else
        tcps__take(x);
    tcps__fill(x, out);
    if (x->revised) /* the sender was not where the previous record showed it */
        out->before[out->sender] = (uint8_t)(x->revised - 1);
    if (!tcps__established(out->before, out->ended_before) &&
        tcps__established(out->after, out->ended) && !(x->ev & TCPS_EVENT_BIT(TCPS_EV_MIDSTREAM)))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_COMPLETE);
    tcps__finish(x, out);
    if (t->cfg.hindsight)
        tcps__log(t, x, out);
}

/* The fast path: an ACK without SYN, FIN or RST while both ends are
 * ESTABLISHED, neither ended, and no FIN is in flight (tcps_process() checks
 * it). Then tcps__between() only forgets in-flight SYNs, tcps__send() only
 * checks the ACK and probes (no flag to act on, no handshake to infer),
 * tcps__deliver() has no arc to take (ESTABLISHED has none for an ACK), and
 * nothing completes a handshake: the rest is tcps__segment()'s own helpers,
 * in the same order. */
void tcps__fast(tcps_tracker *t, tcps__ctx *x, tcps_record *out)
{
    x->c->p[0].pend_syn = x->c->p[1].pend_syn = 0;
    tcps__before(x, out);
    if (tcps__is_duplicate(x))
        x->ev |= TCPS_EVENT_BIT(TCPS_EV_DUPLICATE);
    tcps__data_after_fin(x);
    tcps__sender_acks(x);
    tcps__probes(x);
    tcps__bookkeep(x);
    tcps__fill(x, out);
    tcps__finish(x, out);
    if (t->cfg.hindsight)
        tcps__log_ack(t, x);
}

int tcps__replay_segment(const tcps_tracker *t, tcps__ctx *x, int deliver)
{
    int rest = 0;
    tcps__between(t, x);
    if (x->pos != 2) /* 2: a segment delivered late, after its frame */
        x->pos = 1;
    if (tcps__bad_flags(x->seg->flags))
        return 0;
    if (tcps__send(x)) {
        rest = 1;
        if (deliver)
            tcps__deliver(x);
    }
    tcps__bookkeep(x);
    return rest;
}

void tcps__replay_deliver(tcps__ctx *x)
{
    tcps__deliver(x);
}

void tcps__replay_gone(tcps__ctx *x)
{
    tcps__step(x, x->rcv, IN_GONE, TCPS_CERT_INFERRED);
}
