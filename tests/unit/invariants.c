#include "invariants.h"

#include <stdlib.h>
#include <string.h>

/* Per connection and endpoint: last state, and the states it went through. */
typedef struct inv_conn {
    uint8_t last[2], last_ended[2];
    uint16_t seen[2]; /* bit per state */
    uint8_t valid;
} inv_conn;

struct inv_state {
    inv_conn *conns;
    size_t n;
};

inv_state *inv_new(void)
{
    return calloc(1, sizeof(inv_state));
}

void inv_free(inv_state *s)
{
    if (s) {
        free(s->conns);
        free(s);
    }
}

static inv_conn *inv_get(inv_state *s, uint32_t id)
{
    if (id == 0)
        return NULL;
    if (id > s->n) {
        size_t n = id * 2u;
        inv_conn *c = realloc(s->conns, n * sizeof(*c));
        if (!c)
            return NULL;
        memset(c + s->n, 0, (n - s->n) * sizeof(*c));
        s->conns = c;
        s->n = n;
    }
    return &s->conns[id - 1];
}

/* The arcs of RFC 9293's state diagram (section 3.3.2, figure 5) and of the
 * text of section 3.10, written here from the RFC, not from the tracker: a
 * bit per state an endpoint can move to in one step. CLOSED as a target is
 * an end (an RST, an abort, the last ACK, the TIME-WAIT timeout). */
#define B(st) (1u << TCPS_##st)
static const uint16_t inv_arcs[TCPS_STATE_COUNT] = {
    [TCPS_CLOSED] = B(LISTEN) | B(SYN_SENT),                      /* 3.10.1 OPEN */
    [TCPS_LISTEN] = B(SYN_RECEIVED) | B(SYN_SENT) | B(CLOSED),    /* 3.10.7.2, 3.10.2, 3.10.4 */
    [TCPS_SYN_SENT] = B(SYN_RECEIVED) | B(ESTABLISHED) | B(CLOSED), /* 3.10.7.3 */
    [TCPS_SYN_RECEIVED] = B(ESTABLISHED) | B(FIN_WAIT_1) | B(CLOSE_WAIT) | B(LISTEN) |
                          B(CLOSED), /* 3.10.7.4 fifth, 3.10.4, eighth, second */
    [TCPS_ESTABLISHED] = B(FIN_WAIT_1) | B(CLOSE_WAIT) | B(CLOSED),
    [TCPS_FIN_WAIT_1] = B(FIN_WAIT_2) | B(CLOSING) | B(TIME_WAIT) | B(CLOSED),
    [TCPS_FIN_WAIT_2] = B(TIME_WAIT) | B(CLOSED),
    [TCPS_CLOSE_WAIT] = B(LAST_ACK) | B(CLOSED),
    [TCPS_CLOSING] = B(TIME_WAIT) | B(CLOSED),
    [TCPS_LAST_ACK] = B(CLOSED),
    [TCPS_TIME_WAIT] = B(CLOSED),
};
#undef B

/* States reachable from a by a path of arcs that does not pass through
 * CLOSED (an end is an end; CLOSED leads on only as the starting state). */
static uint16_t inv_reach(int a)
{
    uint16_t seen = (uint16_t)(1u << a), todo = seen;
    while (todo) {
        int x = __builtin_ctz(todo);
        todo &= (uint16_t)(todo - 1);
        if (x == TCPS_CLOSED && x != a)
            continue;
        uint16_t next = (uint16_t)(inv_arcs[x] & ~seen);
        seen |= next;
        todo |= next;
    }
    return seen;
}

/* Can an endpoint in state a (ended ea) be in state b (ended eb) later within
 * the same connection? Ended: CLOSED after the connection, or a listener
 * that let go of it (LISTEN after an RST in LISTEN or SYN_RECEIVED). */
int inv_path(int a, int ea, int b, int eb)
{
    if (a == b && ea == eb)
        return 1;
    if (ea)
        return 0; /* nothing after an end */
    if (eb && b == TCPS_LISTEN)
        return a == TCPS_LISTEN || a == TCPS_SYN_RECEIVED;
    if (eb != (b == TCPS_CLOSED))
        return 0;
    return (inv_reach(a) >> b) & 1;
}

const char *inv_check(inv_state *s, const tcps_record *r)
{
    for (int i = 0; i < 2; i++) {
        if (r->before[i] >= TCPS_STATE_COUNT || r->after[i] >= TCPS_STATE_COUNT ||
            r->cert[i] >= TCPS_CERT_COUNT)
            return "state or certainty out of range";
    }
    if (r->sender > 1)
        return "sender out of range";
    inv_conn *c = inv_get(s, r->conn_id);
    if (!c)
        return "connection id 0";
    int revised = (r->events & TCPS_EVENT_BIT(TCPS_EV_REVISED)) != 0;
    for (int i = 0; i < 2; i++) {
        if (!inv_path(r->before[i], r->ended_before[i], r->after[i], r->ended[i]))
            return "a change within a frame that is no path of the RFC 9293 diagram";
        /* A revised previous state is the record saying the last one was wrong. */
        if (c->valid && !(revised && i == r->sender) &&
            !inv_path(c->last[i], c->last_ended[i], r->before[i], r->ended_before[i]))
            return "a change between frames that is no path of the RFC 9293 diagram";
        if (revised && i == r->sender && r->before[i] == c->last[i])
            return "event revised without a revised state";
        if (i != r->sender && r->after[i] != r->before[i] && r->cert[i] == TCPS_CERT_OBSERVED)
            return "the receiver's new state is marked observed";
        c->seen[i] |= (uint16_t)(1u << r->before[i]);
        if (r->after[i] == TCPS_LAST_ACK && !(c->seen[i] & (1u << TCPS_CLOSE_WAIT)) &&
            r->before[i] != TCPS_CLOSE_WAIT && r->before[i] != TCPS_LAST_ACK)
            return "LAST_ACK not after CLOSE_WAIT";
        if (r->after[i] == TCPS_TIME_WAIT &&
            !(c->seen[i] & ((1u << TCPS_FIN_WAIT_1) | (1u << TCPS_FIN_WAIT_2) |
                            (1u << TCPS_CLOSING) | (1u << TCPS_TIME_WAIT))))
            return "TIME_WAIT for an endpoint that never closed actively";
        c->seen[i] |= (uint16_t)(1u << r->after[i]);
        c->last[i] = r->after[i];
        c->last_ended[i] = r->ended[i];
    }
    c->valid = 1;
    return NULL;
}
