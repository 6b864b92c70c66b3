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
 * Input layout (all integers little-endian):
 *   header, FUZZ_HDR bytes:
 *     [0] config: bit 0 midstream OFF; bits 1-2 vantage (3 = unknown);
 *         bit 3 hindsight OFF; bits 4-5 TIME_WAIT: off, 1 ms, 60 s, 240 s
 *     [1] queries: bit 0 hindsight of every frame at the end; bit 1
 *         hindsight of the current frame while feeding; bit 2
 *         tcps_conn_get() of every connection at the end
 *     [2..3] start time, seconds
 *   then records of FUZZ_REC bytes:
 *     [0] tuple: bits 0-6 key (fuzz_tuple()), bit 7 direction (b -> a)
 *     [1] mode: bit 0 zone 1; bit 1 seq relative to the sender's last end;
 *         bit 2 ack relative to the receiver's last end; bit 3 window scale
 *         option present; bits 4-5 time unit of the delta (us, ms, s, ms
 *         backwards); bit 6 same frame number as the previous record (a
 *         second TCP layer of one frame); bit 7 tcps_conn_get() now
 *     [2] TCP flags
 *     [3] window scale shift (int8) with mode bit 3; else zone bits 1-8 (up
 *         to 512 zones: many distinct tuples, hash probing)
 *     [4..7] seq (absolute, or a signed delta)
 *     [8..11] ack (absolute, or a signed delta)
 *     [12..15] payload length
 *     [16..17] window
 *     [18..19] time delta
 * pcap2seed.py writes this format from captures.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariants.h"
#include "tcpstate.h"

#define FUZZ_HDR 4
#define FUZZ_REC 20
#define FUZZ_KEYS 128
#define FUZZ_MAX_RECS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Name of the input being run, for messages (set by the replay main). */
const char *fuzz_input_name = "(libFuzzer input)";

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The two endpoints of key k (0..127), as a (a) and b: IPv4 or IPv6 (bit 6);
 * a's host 1..4 (bits 3-4); b is a host of its own or a's host (bit 5);
 * a's port 40000 + (k & 7), except 7: port 0; b's port 80, except when
 * (k & 7) == 5: port 0, and 6: a's port (with bit 5: a connection to
 * itself). Key 127 has no valid family: never tracked. */
static void fuzz_tuple(unsigned k, int dir, tcps_segment *s)
{
    uint8_t a[16], b[16];
    unsigned p = k & 7;
    uint16_t pa = p == 7 ? 0 : (uint16_t)(40000 + p);
    uint16_t pb = p == 5 ? 0 : p == 6 ? pa : 80;
    size_t n = (k & 0x40) ? 16 : 4;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    if (n == 4) {
        a[0] = 10;
        a[3] = (uint8_t)(1 + ((k >> 3) & 3));
        b[0] = 10;
        b[2] = 1;
        b[3] = 1;
    } else {
        a[0] = b[0] = 0xfd;
        a[15] = (uint8_t)(1 + ((k >> 3) & 3));
        b[14] = 1;
        b[15] = 1;
    }
    if (k & 0x20)
        memcpy(b, a, sizeof(b));
    s->family = k == 127 ? 5 : (n == 4 ? 4 : 6);
    memcpy(dir ? s->src : s->dst, b, sizeof(b));
    memcpy(dir ? s->dst : s->src, a, sizeof(a));
    s->sport = dir ? pb : pa;
    s->dport = dir ? pa : pb;
}

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

static void fuzz_config(const uint8_t *h, tcps_config *cfg)
{
    static const uint64_t tw[4] = {0, 1000000ull, 60000000000ull, 240000000000ull};
    tcps_config_init(cfg);
    cfg->midstream = !(h[0] & 1);
    cfg->vantage = (tcps_vantage)(((h[0] >> 1) & 3) % 3);
    cfg->hindsight = !(h[0] & 8);
    cfg->time_wait_ns = tw[(h[0] >> 4) & 3];
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
    uint64_t now = (uint64_t)rd16(data + 2) * 1000000000ull;

    fuzz_run r;
    memset(&r, 0, sizeof(r));
    r.t = tcps_new(&cfg);
    r.inv = inv_new();
    r.recs = calloc(nrec + 1, sizeof(*r.recs));
    r.segs = calloc(nrec + 1, sizeof(*r.segs));
    static uint32_t end[FUZZ_KEYS][2]; /* last sequence end per key and direction */
    memset(end, 0, sizeof(end));
    if (!r.t || !r.inv || !r.recs || !r.segs)
        goto out;

    uint32_t frame = 0;
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *p = data + FUZZ_HDR + i * FUZZ_REC;
        unsigned key = p[0] & 0x7f;
        int dir = p[0] >> 7;
        uint8_t mode = p[1];
        tcps_segment *s = &r.segs[i];
        memset(s, 0, sizeof(*s));
        fuzz_tuple(key, dir, s);
        s->zone = (mode & 1) | ((mode & 8) ? 0u : (uint32_t)p[3] << 1);
        s->flags = p[2];
        s->wscale = (mode & 8) ? (int8_t)p[3] : -1;
        s->seq = rd32(p + 4) + ((mode & 2) ? end[key][dir] : 0);
        s->ack = rd32(p + 8) + ((mode & 4) ? end[key][!dir] : 0);
        s->len = rd32(p + 12);
        s->win = rd16(p + 16);
        uint64_t d = rd16(p + 18);
        switch ((mode >> 4) & 3) {
        case 0: now += d * 1000u; break;
        case 1: now += d * 1000000u; break;
        case 2: now += d * 1000000000u; break;
        default: now = now > d * 1000000u ? now - d * 1000000u : 0; break;
        }
        s->time_ns = now;
        if (!(mode & 0x40) || frame == 0)
            frame++;
        s->frame = frame;
        end[key][dir] = s->seq + s->len + ((s->flags & TCPS_SYN) ? 1u : 0u) +
                        ((s->flags & TCPS_FIN) ? 1u : 0u);
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
            tcps_conn_get(r.t, (size_t)(s->seq % (tcps_conn_count(r.t) + 1)), now, &ci);
        }
    }
    if ((queries & 1) && cfg.hindsight)
        fuzz_check_hindsight(&r);
    if (queries & 4) {
        tcps_conn_info ci;
        for (size_t k = 0; k <= tcps_conn_count(r.t); k++)
            tcps_conn_get(r.t, k, now, &ci);
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
