/* mem_tracker.c: the tracker's memory on big inputs, measured with glibc's
 * mallinfo2() (bytes allocated and not freed, chunk overhead included).
 *
 *   mem_tracker halfopen N...      N SYNs from distinct tuples, never answered,
 *                                  then N SYN + SYN-ACK pairs; for each N
 *   mem_tracker wrap WRAPS         one connection sending 65,000-byte segments
 *                                  until its sequence numbers wrapped WRAPS times
 *
 * halfopen fails when a connection costs more than --max-conn bytes at any N,
 * or when the cost per connection at the largest N exceeds the one at the
 * smallest by more than 25% (growth must be linear). wrap fails when memory
 * grows by more than --max-growth bytes between the end of the handshake and
 * the end, or when a record is not the expected state or carries an anomaly.
 * --no-measure runs the same inputs without the memory checks (for a build
 * with sanitizers, whose allocator mallinfo2() does not see).
 * Prints the figures; exit status 0 pass, 1 fail, 2 usage, 77 no mallinfo2.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpstate.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1
static long long heap_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return (long long)(m.uordblks + m.hblkhd);
}
#else
static long long heap_bytes(void)
{
    return -1;
}
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void seg_init(tcps_segment *s, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
    memset(s, 0, sizeof(*s));
    s->family = 4;
    memcpy(s->src, &src, 4);
    memcpy(s->dst, &dst, 4);
    s->sport = sport;
    s->dport = dport;
    s->wscale = -1;
    s->win = 65535;
}

/* Bytes per connection for n half-open connections (with_synack: the server
 * answered with a SYN-ACK, the client never completed). */
static double halfopen(size_t n, int with_synack, double *secs)
{
    long long before = heap_bytes();
    tcps_tracker *t = tcps_new(NULL);
    tcps_record r;
    uint32_t frame = 0;
    double t0 = now_s();
    for (size_t k = 0; k < n; k++) {
        tcps_segment s;
        uint32_t src = 0x0a000001u + (uint32_t)(k / 50000) * 0x100u; /* host order is fine */
        seg_init(&s, src, 0x0aff0001u, (uint16_t)(1024 + k % 50000), 80);
        s.flags = TCPS_SYN;
        s.seq = (uint32_t)k * 7919u;
        s.time_ns = 1000000000ull + k * 10000ull;
        s.frame = ++frame;
        tcps_process(t, &s, &r);
        if (with_synack) {
            tcps_segment a;
            seg_init(&a, 0x0aff0001u, src, 80, (uint16_t)(1024 + k % 50000));
            a.flags = TCPS_SYN | TCPS_ACK;
            a.seq = (uint32_t)k * 104729u;
            a.ack = s.seq + 1;
            a.time_ns = s.time_ns + 1000;
            a.frame = ++frame;
            tcps_process(t, &a, &r);
        }
    }
    *secs = now_s() - t0;
    long long after = heap_bytes();
    size_t count = tcps_conn_count(t);
    tcps_free(t);
    if (count != n) {
        fprintf(stderr, "mem_tracker: %zu connections tracked, expected %zu\n", count, n);
        return -1;
    }
    return (double)(after - before) / (double)n;
}

static int run_halfopen(int argc, char **argv, double max_conn)
{
    int bad = 0;
    for (int mode = 0; mode < 2; mode++) {
        double first = 0, last = 0;
        for (int i = 0; i < argc; i++) {
            size_t n = (size_t)strtoull(argv[i], NULL, 10);
            double secs;
            double per = n ? halfopen(n, mode, &secs) : -1;
            if (per < 0)
                return 1;
            printf("tracker, %zu half-open connections (%s): %.1f bytes per connection, "
                   "%.0f MB, %.0f ns per segment\n",
                   n, mode ? "SYN + SYN-ACK" : "SYN only", per, per * (double)n / 1e6,
                   secs * 1e9 / (double)(n * (mode ? 2 : 1)));
            if (per > max_conn) {
                printf("FAIL: more than %.0f bytes per connection\n", max_conn);
                bad = 1;
            }
            if (i == 0)
                first = per;
            last = per;
        }
        if (argc > 1 && last > first * 1.25) {
            printf("FAIL: not linear: %.1f bytes per connection at the largest size, %.1f at "
                   "the smallest\n", last, first);
            bad = 1;
        }
    }
    return bad;
}

/* One connection wrapping its sequence numbers `wraps` times. */
static int run_wrap(int wraps, double max_growth)
{
    const uint64_t allowed = TCPS_EVENT_BIT(TCPS_EV_NEW_CONNECTION) |
                             TCPS_EVENT_BIT(TCPS_EV_HANDSHAKE_COMPLETE);
    const uint32_t cli = 0x0a000001u, srv = 0x0a000002u, mss = 65000;
    uint32_t isn = 0xffffffffu - 1000000u, sisn = 3000000000u, seq, frame = 0;
    uint64_t t_ns = 1000000000ull;
    tcps_tracker *t = tcps_new(NULL);
    tcps_segment c, s;
    tcps_record r;
    int bad = 0;
    seg_init(&c, cli, srv, 40000, 80);
    seg_init(&s, srv, cli, 80, 40000);
#define FEED(seg, fl, sq, ak, ln)                                                                  \
    do {                                                                                           \
        (seg).flags = (fl);                                                                        \
        (seg).seq = (sq);                                                                          \
        (seg).ack = (ak);                                                                          \
        (seg).len = (ln);                                                                          \
        (seg).time_ns = (t_ns += 20000);                                                           \
        (seg).frame = ++frame;                                                                     \
        if (!tcps_process(t, &(seg), &r)) {                                                        \
            printf("FAIL: frame %u not tracked\n", frame);                                         \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

    FEED(c, TCPS_SYN, isn, 0, 0);
    FEED(s, TCPS_SYN | TCPS_ACK, sisn, isn + 1, 0);
    FEED(c, TCPS_ACK, isn + 1, sisn + 1, 0);
    long long base = heap_bytes();
    double t0 = now_s();
    uint64_t total = (uint64_t)wraps << 32, sent = 0;
    uint32_t wrapped = 0;
    seq = isn + 1;
    for (uint64_t k = 1; sent < total; k++) {
        FEED(c, TCPS_ACK | TCPS_PSH, seq, sisn + 1, mss);
        if (r.after[0] != TCPS_ESTABLISHED || r.after[1] != TCPS_ESTABLISHED ||
            (r.events & ~allowed)) {
            printf("FAIL: frame %u: %s/%s, events %llx\n", frame, tcps_state_name(r.after[0]),
                   tcps_state_name(r.after[1]), (unsigned long long)r.events);
            bad = 1;
            break;
        }
        if (seq + mss < seq)
            wrapped++;
        seq += mss;
        sent += mss;
        if (k % 2 == 0)
            FEED(s, TCPS_ACK, sisn + 1, seq, 0);
    }
    double secs = now_s() - t0;
    long long growth = heap_bytes() - base;
    FEED(c, TCPS_FIN | TCPS_ACK, seq, sisn + 1, 0);
    FEED(s, TCPS_FIN | TCPS_ACK, sisn + 1, seq + 1, 0);
    FEED(c, TCPS_ACK, seq + 1, sisn + 2, 0);
    if (r.after[0] != TCPS_TIME_WAIT || r.after[1] != TCPS_CLOSED || tcps_conn_count(t) != 1) {
        printf("FAIL: after the close: %s/%s, %zu connections\n", tcps_state_name(r.after[0]),
               tcps_state_name(r.after[1]), tcps_conn_count(t));
        bad = 1;
    }
    uint8_t hb[2], ha[2];
    if (!tcps_hindsight(t, r.conn_id, frame, hb, ha)) {
        printf("FAIL: no hindsight for the last frame\n");
        bad = 1;
    }
    printf("tracker, one connection, sequence numbers wrapped %u times: %u frames, memory "
           "growth after the handshake %lld bytes, %.0f ns per segment\n",
           wrapped, frame, growth, secs * 1e9 / frame);
    if (growth > max_growth) {
        printf("FAIL: memory grew by more than %.0f bytes\n", max_growth);
        bad = 1;
    }
    tcps_free(t);
    return bad;
#undef FEED
}

int main(int argc, char **argv)
{
    double max_conn = 512, max_growth = 4096;
    int i = 1, measure = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--no-measure") == 0) {
            measure = 0;
            i--;
        } else if (strcmp(argv[i], "--max-conn") == 0)
            max_conn = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--max-growth") == 0)
            max_growth = atof(argv[i + 1]);
        else
            break;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: mem_tracker [--max-conn B] [--max-growth B] halfopen N... | "
                        "wrap WRAPS\n");
        return 2;
    }
    if (!measure) {
        max_conn = max_growth = 1e300;
        printf("mem_tracker: memory not measured (--no-measure): figures below are not bytes\n");
    } else if (heap_bytes() < 0) {
        printf("mem_tracker: mallinfo2() not available: skipped\n");
        return 77;
    }
    if (strcmp(argv[i], "halfopen") == 0)
        return run_halfopen(argc - i - 1, argv + i + 1, max_conn);
    if (strcmp(argv[i], "wrap") == 0)
        return run_wrap(atoi(argv[i + 1]), max_growth);
    fprintf(stderr, "mem_tracker: unknown mode %s\n", argv[i]);
    return 2;
}
