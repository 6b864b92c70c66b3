/* oom_tracker.c: the tracker out of memory at every allocation in turn (issue #16).
 *
 * usage: oom_tracker CAPTURE...
 *        oom_tracker --many N      N connections made up here (see many())
 *
 * Reads the TCP segments of each capture (../common/pcapread.c), counts the tracker's
 * allocation calls C on a run without failures (tcps_new, every tcps_process, the
 * hindsight and connection queries of every frame, tcps_free), then runs again 2C times:
 * allocation call N fails (N = 1..C), alone and with every one after it. Every run must
 * end cleanly: tcps_new() NULL, or every segment either tracked with a record that keeps
 * ../unit/invariants.c or not tracked with a record zero but for events, every query
 * answering in range; and with no leak (built with ASan, whose LeakSanitizer fails the
 * program at exit) and no sanitizer report. The allocations fail through oom_hook.h,
 * force-included into the tracker's sources of this build. Prints per capture
 *   oom_tracker: CAPTURE: S segments, C allocation calls, R runs, T of them with untracked segments
 * and exits 1 on the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invariants.h"
#include "oom_hook.h"
#include "pcapread.h"
#include "tcpstate.h"

typedef struct {
    tcps_segment *segs;
    size_t n;
} capture;

static int load(const char *path, capture *c)
{
    char err[256];
    pcapread *r = pcapread_open(path, err, sizeof(err));
    size_t cap = 0;
    tcps_segment seg;

    memset(c, 0, sizeof(*c));
    if (!r) {
        fprintf(stderr, "oom_tracker: %s\n", err);
        return -1;
    }
    while (pcapread_next(r, &seg) > 0) {
        if (c->n == cap) {
            cap = cap ? cap * 2 : 256;
            tcps_segment *m = realloc(c->segs, cap * sizeof(*m));
            if (!m)
                break;
            c->segs = m;
        }
        c->segs[c->n++] = seg;
    }
    pcapread_close(r);
    return 0;
}

/* N connections, IPv4 and IPv6 in turn, each a handshake and a few data segments (every
 * 16th one a long exchange of 300 segments, past the hindsight log's cap), the time
 * going backwards now and then: the hash table, the IPv6 table, the chunks and the
 * timelines all grow. */
static int many(unsigned long n, capture *c)
{
    size_t cap = n * 5 + (n / 16 + 1) * 300;
    uint32_t frame = 0;
    uint64_t t = 1000000000;

    memset(c, 0, sizeof(*c));
    c->segs = calloc(cap, sizeof(*c->segs));
    if (!c->segs)
        return -1;
    for (unsigned long i = 0; i < n; i++) {
        size_t len = i % 16 == 0 ? 300 : 5;
        for (size_t k = 0; k < len && c->n < cap; k++) {
            tcps_segment *s = &c->segs[c->n++];
            int back = k % 2; /* server to client */
            s->family = i % 2 ? 6 : 4;
            s->src[0] = s->dst[0] = 10;
            s->src[3] = (uint8_t)(back ? 1 : 2);
            s->dst[3] = (uint8_t)(back ? 2 : 1);
            s->sport = back ? 80 : (uint16_t)(1024 + i);
            s->dport = back ? (uint16_t)(1024 + i) : 80;
            s->flags = k == 0 ? TCPS_SYN : k == 1 ? (TCPS_SYN | TCPS_ACK) : TCPS_ACK;
            s->seq = (back ? 5000u : 1000u) + (uint32_t)(k / 2) * 10 + (k > 1);
            s->ack = k == 0 ? 0 : (back ? 1001u : 5001u) + (uint32_t)((k - 1) / 2) * 10;
            s->len = k > 1 ? 10 : 0;
            s->win = 1000;
            s->wscale = -1;
            t = k % 97 == 96 ? t - 5000000 : t + 1000;
            s->time_ns = t;
            s->frame = ++frame;
        }
    }
    return 0;
}

static int fail(const char *path, unsigned long at, int persist, uint32_t frame, const char *what)
{
    fprintf(stderr, "oom_tracker: %s: allocation %lu failing%s: frame %u: %s\n", path, at,
            persist ? " (and every one after)" : "", frame, what);
    return -1;
}

static int zero_but_events(const tcps_record *r)
{
    tcps_record z;
    memset(&z, 0, sizeof(z));
    z.events = r->events;
    return memcmp(&z, r, sizeof(z)) == 0;
}

/* The queries of every frame: in range whatever the tracker kept. */
static const char *query_all(tcps_tracker *t, const capture *c)
{
    size_t n = tcps_conn_count(t);
    for (size_t i = 0; i < c->n; i++) {
        uint8_t b[2], a[2];
        int k = tcps_hindsight(t, (uint32_t)(i % (n + 1)) + 1, c->segs[i].frame, b, a);
        if (k < 0 || k > 2 || (k == 1 && (b[0] >= TCPS_STATE_COUNT || a[1] >= TCPS_STATE_COUNT)))
            return "hindsight out of range";
    }
    for (size_t i = 0; i < n; i++) {
        tcps_conn_info ci;
        if (!tcps_conn_get(t, i, 0, &ci))
            return "tcps_conn_get() fails on a counted connection";
    }
    return NULL;
}

static unsigned long last_calls; /* allocation calls of the last run */

/* One run: 0 fine, -1 failed; *untracked set if a segment was not tracked. */
static int run(const char *path, const capture *c, unsigned long at, int persist, int *untracked)
{
    tcps_config cfg;
    tcps_tracker *t;
    inv_state *inv = inv_new();
    const char *msg = NULL;
    uint32_t frame = 0;

    tcps_config_init(&cfg);
    oom_arm(at, persist);
    t = tcps_new(&cfg);
    for (size_t i = 0; t && inv && !msg && i < c->n; i++) {
        tcps_record rec;
        frame = c->segs[i].frame;
        if (tcps_process(t, &c->segs[i], &rec))
            msg = inv_check(inv, &rec);
        else if (!zero_but_events(&rec))
            msg = "an untracked segment's record is not zero";
        else
            *untracked = 1;
    }
    if (t && !msg)
        msg = query_all(t, c);
    tcps_free(t);
    last_calls = oom_calls();
    oom_arm(0, 0);
    inv_free(inv);
    return msg ? fail(path, at, persist, frame, msg) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oom_tracker CAPTURE...\n");
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        capture c;
        int untracked = 0;
        unsigned long calls, runs = 0, with_untracked = 0;
        if (strcmp(argv[a], "--many") == 0 && a + 1 < argc) {
            if (many(strtoul(argv[++a], NULL, 10), &c) != 0)
                return 2;
        } else if (load(argv[a], &c) != 0) {
            return 2;
        }
        if (run(argv[a], &c, 0, 0, &untracked) != 0)
            return 1;
        calls = last_calls;
        for (unsigned long n = 1; n <= calls; n++) {
            for (int persist = 0; persist < 2; persist++) {
                untracked = 0;
                if (run(argv[a], &c, n, persist, &untracked) != 0)
                    return 1;
                runs++;
                with_untracked += (unsigned long)untracked;
            }
        }
        printf("oom_tracker: %s: %zu segments, %lu allocation calls, %lu runs, %lu of them with "
               "untracked segments\n", argv[a], c.n, calls, runs, with_untracked);
        free(c.segs);
    }
    return 0;
}
