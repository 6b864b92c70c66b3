/* diagram.c: the RFC 9293 state diagram (section 3.3.2, figure 5) as data,
 * the progress rank of states, and tcps__move(): every state change of an
 * endpoint goes through it, so every change the tracker makes is an arc (or,
 * for segments the capture lacks, a path) of this table, and never moves an
 * endpoint back to a lower rank. */
#include "tcps_internal.h"

/* Progress order of states for one endpoint within one connection. */
static const signed char tcps__rank_of[TCPS_STATE_COUNT] = {
    [TCPS_CLOSED] = 0,      [TCPS_LISTEN] = 1,     [TCPS_SYN_SENT] = 2,
    [TCPS_SYN_RECEIVED] = 3, [TCPS_ESTABLISHED] = 4, [TCPS_FIN_WAIT_1] = 5,
    [TCPS_CLOSE_WAIT] = 5,  [TCPS_FIN_WAIT_2] = 6, [TCPS_CLOSING] = 6,
    [TCPS_LAST_ACK] = 6,    [TCPS_TIME_WAIT] = 7,
};

int tcps__rank(unsigned s, int ended)
{
    return (ended && s <= TCPS_LISTEN) ? 8 : tcps__rank_of[s];
}

int tcps_state_rank(int s, int ended)
{
    if (s < 0 || s >= TCPS_STATE_COUNT)
        return -1;
    return tcps__rank((unsigned)s, ended);
}

/* An entry is the next state + 1 (0 = no arc: the state is unchanged), with
 * TCPS__END when the move ends the connection for that endpoint. */
#define TCPS__END 0x80
#define A(st) (TCPS_##st + 1)
#define E(st) (TCPS__END | (TCPS_##st + 1))

static const uint8_t tcps__next[TCPS_STATE_COUNT][IN_COUNT] = {
    /* A [state] row lists the arcs leaving it; unlisted inputs keep the state. */
    [TCPS_CLOSED] = {[IN_SND_SYN] = A(SYN_SENT), [IN_SND_RST] = E(CLOSED),
                     [IN_HANDSHAKE_UNSEEN] = A(ESTABLISHED), [IN_PICKUP] = A(ESTABLISHED)},
    [TCPS_LISTEN] = {[IN_SND_SYN] = A(SYN_SENT), [IN_SND_SYNACK] = A(SYN_RECEIVED),
                     [IN_SND_RST] = E(CLOSED),
                     /* 3.10.7.2 first: the listener stays; this connection is over for it */
                     [IN_RCV_RST] = E(LISTEN),
                     [IN_HANDSHAKE_UNSEEN] = A(ESTABLISHED), [IN_PICKUP] = A(ESTABLISHED)},
    /* IN_GONE (every state from SYN_SENT on): an RST without ACK answering a
     * segment shows its sender had no connection any more when that segment
     * came (3.10.7.1): closed unseen, by the application (3.10.4 in SYN-SENT),
     * a timer (Linux: orphan FIN-WAIT-2, retransmissions) or an abort. */
    [TCPS_SYN_SENT] = {[IN_SND_SYNACK] = A(SYN_RECEIVED), [IN_SND_RST] = E(CLOSED),
                       [IN_RCV_SYN] = A(SYN_RECEIVED), [IN_RCV_SYNACK] = A(ESTABLISHED),
                       [IN_RCV_RST] = E(CLOSED), [IN_HANDSHAKE_UNSEEN] = A(ESTABLISHED),
                       [IN_GONE] = E(CLOSED)},
    [TCPS_SYN_RECEIVED] = {[IN_SND_FIN] = A(FIN_WAIT_1), [IN_SND_RST] = E(CLOSED),
                           [IN_RCV_SYNACK] = A(ESTABLISHED), [IN_RCV_ACK_SYN] = A(ESTABLISHED),
                           [IN_RCV_FIN] = A(CLOSE_WAIT), [IN_RCV_RST] = E(CLOSED),
                           [IN_RCV_RST_PASSIVE] = E(LISTEN),
                           [IN_HANDSHAKE_UNSEEN] = A(ESTABLISHED), [IN_GONE] = E(CLOSED)},
    [TCPS_ESTABLISHED] = {[IN_SND_FIN] = A(FIN_WAIT_1), [IN_SND_RST] = E(CLOSED),
                          [IN_RCV_FIN] = A(CLOSE_WAIT), [IN_RCV_RST] = E(CLOSED),
                          [IN_GONE] = E(CLOSED)},
    /* IN_FIN_CROSSED: an endpoint taken to have received the peer's FIN
     * (CLOSE_WAIT) shows with its own FIN that it had not. It was
     * ESTABLISHED: the record revises its previous state (event revised) and
     * shows the path ESTABLISHED -> FIN_WAIT_1 -> CLOSING. */
    [TCPS_CLOSE_WAIT] = {[IN_SND_FIN] = A(LAST_ACK), [IN_SND_RST] = E(CLOSED),
                         [IN_RCV_RST] = E(CLOSED), [IN_FIN_CROSSED] = A(CLOSING),
                         [IN_GONE] = E(CLOSED)},
    [TCPS_FIN_WAIT_1] = {[IN_SND_RST] = E(CLOSED), [IN_RCV_ACK_FIN] = A(FIN_WAIT_2),
                         [IN_RCV_FIN] = A(CLOSING), [IN_RCV_RST] = E(CLOSED),
                         [IN_GONE] = E(CLOSED)},
    [TCPS_CLOSING] = {[IN_SND_RST] = E(CLOSED), [IN_RCV_ACK_FIN] = A(TIME_WAIT),
                      [IN_RCV_RST] = E(CLOSED), [IN_GONE] = E(CLOSED)},
    [TCPS_LAST_ACK] = {[IN_SND_RST] = E(CLOSED), [IN_RCV_ACK_FIN] = E(CLOSED),
                       [IN_RCV_RST] = E(CLOSED), [IN_GONE] = E(CLOSED)},
    [TCPS_FIN_WAIT_2] = {[IN_SND_RST] = E(CLOSED), [IN_RCV_FIN] = A(TIME_WAIT),
                         [IN_RCV_RST] = E(CLOSED), [IN_GONE] = E(CLOSED)},
    [TCPS_TIME_WAIT] = {[IN_SND_RST] = E(CLOSED), [IN_RCV_RST] = E(CLOSED),
                        [IN_TIMEOUT] = E(CLOSED), [IN_GONE] = E(CLOSED)},
};
#undef A
#undef E

int tcps__move(tcps__conn *c, tcps__peer *p, enum tcps__input in, int cert,
               const tcps_segment *s)
{
    uint8_t n = tcps__next[p->state][in];
    if (!n || p->ended)
        return 0;
    int next = (n & ~TCPS__END) - 1, ended = (n & TCPS__END) != 0;
    if (tcps__rank((unsigned)next, ended) < tcps__rank(p->state, 0))
        return -1;
    /* Entered here, unless a listener only lets go of this connection. */
    if (next != p->state || next == TCPS_CLOSED) {
        p->entered = s->frame;
        p->entered_ms = tcps__rel(c, s->time_ns, 1000000u);
        p->proof = TCPS__PROOF_NONE;
    }
    int changed = next != p->state || ended != p->ended;
    p->state = (uint8_t)next;
    p->cert = (uint8_t)cert;
    p->ended = (uint8_t)ended;
    return changed;
}
