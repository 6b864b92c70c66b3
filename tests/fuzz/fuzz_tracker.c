/* fuzz_tracker.c: libFuzzer target for the tracker (tracker/tcpstate.h).
 *
 * The input is a configuration header and a sequence of fixed-size segment
 * records; every record is fed to tcps_process() and each resulting record
 * is checked against the invariants of tests/unit/invariants.c (no state
 * backwards within a connection, TIME_WAIT only for an active closer,
 * LAST_ACK only after CLOSE_WAIT, the receiver's new state never
 * "observed") and against the header's contract (connection ids, sender,
 * endpoints fixed at creation, hindsight known and never backwards). A
 * violation prints the frame and aborts, which libFuzzer reports as a crash
 * and the replay main (replay_main.c) as a failed input.
 *
 * The input format (a configuration header, then fixed-size segment
 * records) is in fuzz_decode.h, whose decoder this target shares with the
 * equivalence dump (tests/equiv/tcps_dump.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_decode.h"
#include "invariants.h"
#include "tcpstate.h"

#define FUZZ_MAX_RECS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Name of the input being run, for messages (set by the replay main). */
const char *fuzz_input_name = "(libFuzzer input)";

typedef struct fuzz_run {
    tcps_tracker *t;
    inv_state *inv;
    tcps_record *recs; /* per record fed; conn_id 0 = not tracked */
    tcps_segment *segs;
    size_t n;
} fuzz_run;

/* One record: the segment, the causal record, and the hindsight states
 * (2: no evidence, the causal ones). */
static void fuzz_print(const fuzz_run *r, size_t j)
{
    const tcps_segment *s = &r->segs[j];
    const tcps_record *c = &r->recs[j];
    uint8_t hb[2] = {0, 0}, ha[2] = {0, 0};
    int hs = c->conn_id ? tcps_hindsight(r->t, c->conn_id, s->frame, hb, ha) : 0;
    if (hs == 2) {
        memcpy(hb, c->before, 2);
        memcpy(ha, c->after, 2);
    }
    fprintf(stderr,
            "  %3zu frame %u %u:%u->%u zone %u flags %02x seq %u ack %u len %u win %u ws %d t %llu"
            " | conn %u %s %s/%s -> %s/%s ev %llx | hindsight(%d) %s/%s -> %s/%s\n",
            j, s->frame, s->family, s->sport, s->dport, s->zone, s->flags, s->seq, s->ack, s->len,
            s->win, s->wscale, (unsigned long long)s->time_ns, c->conn_id,
            c->sender ? "server" : "client", tcps_state_name(c->before[0]),
            tcps_state_name(c->before[1]), tcps_state_name(c->after[0]),
            tcps_state_name(c->after[1]), (unsigned long long)c->events, hs, tcps_state_name(hb[0]),
            tcps_state_name(hb[1]), tcps_state_name(ha[0]), tcps_state_name(ha[1]));
}

/* Prints the failing record and the earlier records of its connection, then
 * aborts. */
static void fuzz_fail(const fuzz_run *r, size_t i, const char *msg)
{
    uint32_t id = r->recs[i].conn_id;
    fprintf(stderr, "fuzz_tracker: %s: record %zu (connection %u): %s\n", fuzz_input_name, i, id,
            msg);
    for (size_t j = 0; j <= i && j < r->n; j++)
        if (r->recs[j].conn_id == id || j == i)
            fuzz_print(r, j);
    abort();
}

/* The connection of a record keeps the endpoints it was created with, and the
 * record's sender is the segment's source. */
static const char *fuzz_check_conn(const fuzz_run *r, const tcps_segment *s, const tcps_record *c)
{
    tcps_conn_info ci;
    size_t n = s->family == 6 ? 16 : 4;
    if (c->conn_id == 0 || c->conn_id > tcps_conn_count(r->t))
        return "connection id out of range";
    if (!tcps_conn_get(r->t, c->conn_id - 1, 0, &ci) || ci.conn_id != c->conn_id)
        return "tcps_conn_get() fails for a record's connection";
    if (ci.family != s->family || ci.zone != s->zone)
        return "connection family or zone differs from its segment's";
    int snd = c->sender;
    if (memcmp(ci.addr[snd], s->src, n) != 0 || memcmp(ci.addr[!snd], s->dst, n) != 0 ||
        ci.port[snd] != s->sport || ci.port[!snd] != s->dport)
        return "record's sender is not the segment's source";
    for (int i = 0; i < 2; i++) {
        if (c->entered[i] > s->frame)
            return "state entered in a later frame";
        if (c->ended[i] > 1 || c->ended_before[i] > 1 || c->cert_before[i] >= TCPS_CERT_COUNT)
            return "record flag out of range";
        if (ci.state[i] != c->after[i] || ci.cert[i] != c->cert[i] ||
            ci.entered[i] != c->entered[i])
            return "tcps_conn_get() differs from the record just made";
    }
    if (c->events >> TCPS_EVENT_COUNT)
        return "unknown event bit";
    return NULL;
}

/* Rank of a hindsight state (which has no "ended" flag): CLOSED after LISTEN
 * or later states, and LISTEN after SYN_RECEIVED or later, end the
 * connection for that endpoint. *seen is the highest rank so far. */
static int fuzz_hs_rank(int state, int *seen)
{
    int ended = (state == TCPS_CLOSED && *seen >= 1) || (state == TCPS_LISTEN && *seen >= 2);
    int r = tcps_state_rank(state, ended);
    if (r > *seen)
        *seen = r;
    return r;
}

/* Every frame's hindsight: in range, and never backwards within a
 * connection. Unknown (0) is allowed: the tracker gives up on a connection
 * whose log overflowed. */
static void fuzz_check_hindsight(const fuzz_run *r)
{
    uint32_t nconn = (uint32_t)tcps_conn_count(r->t);
    int(*last)[2] = calloc((size_t)nconn + 1, sizeof(*last));
    int(*prog)[2] = calloc((size_t)nconn + 1, sizeof(*prog));
    uint32_t *prev_frame = calloc((size_t)nconn + 1, sizeof(*prev_frame));
    if (!last || !prog || !prev_frame)
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        const tcps_record *c = &r->recs[i];
        uint32_t id = c->conn_id;
        uint8_t b[2] = {0, 0}, a[2] = {0, 0};
        if (id == 0)
            continue;
        int known = tcps_hindsight(r->t, id, r->segs[i].frame, b, a);
        if (known == 0)
            continue; /* unknown: allowed (log overflow, out of memory) */
        if (known == 2)
            continue; /* no evidence: the causal record, checked already */
        if (known != 1)
            fuzz_fail(r, i, "tcps_hindsight() returned an undocumented value");
        if (prev_frame[id] == r->segs[i].frame)
            continue; /* second TCP layer of one frame: same answer */
        prev_frame[id] = r->segs[i].frame;
        for (int k = 0; k < 2; k++) {
            if (b[k] >= TCPS_STATE_COUNT || a[k] >= TCPS_STATE_COUNT)
                fuzz_fail(r, i, "hindsight state out of range");
            int rb = fuzz_hs_rank(b[k], &prog[id][k]);
            int ra = fuzz_hs_rank(a[k], &prog[id][k]);
            if (rb < last[id][k] || ra < rb)
                fuzz_fail(r, i, "hindsight state moved backwards");
            last[id][k] = ra;
        }
    }
out:
    free(last);
    free(prog);
    free(prev_frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FUZZ_HDR)
        return 0;
    size_t nrec = (size - FUZZ_HDR) / FUZZ_REC;
    if (nrec > FUZZ_MAX_RECS)
        nrec = FUZZ_MAX_RECS;
    tcps_config cfg;
    fuzz_config(data, &cfg);
    uint8_t queries = data[1];
    fuzz_decoder dec;
    fuzz_decode_start(&dec, data);

    fuzz_run r;
    memset(&r, 0, sizeof(r));
    r.t = tcps_new(&cfg);
    r.inv = inv_new();
    r.recs = calloc(nrec + 1, sizeof(*r.recs));
    r.segs = calloc(nrec + 1, sizeof(*r.segs));
    if (!r.t || !r.inv || !r.recs || !r.segs)
        goto out;

    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *p = data + FUZZ_HDR + i * FUZZ_REC;
        uint8_t mode = p[1];
        tcps_segment *s = &r.segs[i];
        fuzz_decode_next(&dec, p, s);
        r.n = i + 1;

        tcps_record *c = &r.recs[i];
        if (!tcps_process(r.t, s, c)) {
            /* Not tracked: the record is zero but for the bad_flags event. */
            tcps_record z;
            memset(&z, 0, sizeof(z));
            z.events = c->events & TCPS_EVENT_BIT(TCPS_EV_BAD_FLAGS);
            if (memcmp(c, &z, sizeof(z)) != 0)
                fuzz_fail(&r, i, "untracked segment with a non-zero record");
            continue;
        }
        if (s->family != 4 && s->family != 6)
            fuzz_fail(&r, i, "segment of an unknown family tracked");
        const char *msg = inv_check(r.inv, c);
        if (!msg)
            msg = fuzz_check_conn(&r, s, c);
        if (msg)
            fuzz_fail(&r, i, msg);
        if (queries & 2) {
            uint8_t b[2], a[2];
            tcps_hindsight(r.t, c->conn_id, s->frame, b, a);
        }
        if (mode & 0x80) {
            tcps_conn_info ci;
            tcps_conn_get(r.t, (size_t)(s->seq % (tcps_conn_count(r.t) + 1)), dec.now, &ci);
        }
    }
    if ((queries & 1) && cfg.hindsight)
        fuzz_check_hindsight(&r);
    if (queries & 4) {
        tcps_conn_info ci;
        for (size_t k = 0; k <= tcps_conn_count(r.t); k++)
            tcps_conn_get(r.t, k, dec.now, &ci);
    }
    if (getenv("TCPS_FUZZ_TRACE")) { /* every record, for reading an input */
        fprintf(stderr, "%s:\n", fuzz_input_name);
        for (size_t j = 0; j < r.n; j++)
            fuzz_print(&r, j);
    }
out:
    tcps_free(r.t);
    inv_free(r.inv);
    free(r.recs);
    free(r.segs);
    return 0;
}
