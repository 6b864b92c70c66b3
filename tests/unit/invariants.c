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
    for (int i = 0; i < 2; i++) {
        int rb = tcps_state_rank(r->before[i], r->ended_before[i]);
        int ra = tcps_state_rank(r->after[i], r->ended[i]);
        if (ra < rb)
            return "a state moved backwards within a frame";
        if (c->valid && rb < tcps_state_rank(c->last[i], c->last_ended[i]))
            return "a state moved backwards between frames";
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
