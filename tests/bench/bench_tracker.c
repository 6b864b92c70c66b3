/* bench_tracker: the tracker alone, on one core.
 *
 * usage: bench_tracker [options]                  generated workloads, 3 sizes
 *        bench_tracker [options] CAPTURE.pcap [REPEAT]
 * options:
 *   --repeat N      runs per workload, the best is printed (default 3)
 *   --sizes A,B,C   connections of the lifecycle workloads (default
 *                   100000,400000,1600000; 10,000 open at once)
 *   --flood A,B,C   half-open connections of the SYN floods (default
 *                   250000,1000000,4000000)
 *   --open N        lifecycle connections open at once (default 10000)
 *   --data N        extra data rounds per lifecycle (default 0; each adds a
 *                   data segment and its ACK in both directions)
 *   --no-hindsight  skip the hindsight queries
 *   --no-log        trackers without the hindsight log (tcps_config.hindsight 0)
 *   --only KIND     only the lifecycles or the synflood workloads
 * A size of 0 skips that workload.
 *
 * Without a capture it generates, in memory, the workloads of
 * tests/bench/gen_capture.py (the same segments, frame numbers and times):
 *   lifecycles: every connection a full lifecycle, interleaved round-robin
 *     with 10,000 open at once: handshake, a data segment and its ACK each
 *     way, then one of seven ends (client close, server close, three-way
 *     close, simultaneous close, RST abort, refused, half-close with data
 *     after the FIN); 9.4 segments a connection.
 *   synflood: SYNs from distinct addresses, each answered by a SYN-ACK and
 *     never completed.
 * Segments are generated in batches outside the timed part, so the memory
 * the benchmark needs is the tracker's. For each workload it prints the best
 * rate in segments per second and nanoseconds per segment, by the wall clock
 * and by the thread's CPU time (the same on an idle machine; on a shared one
 * the CPU time leaves out waiting for a core), the heap the
 * tracker holds afterwards per connection, and the rate of hindsight queries
 * for every segment (as tshark -2 asks).
 *
 * With a capture (pcap or pcapng, as gen_capture.py writes; read by
 * tests/common/pcapread.c) it feeds its TCP segments instead. For instruction counts, run one workload under
 * valgrind --tool=callgrind and divide tcps_process's inclusive count by the
 * segments printed.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcapread.h"
#include "tcpstate.h"

/* Heap in use, including blocks malloc got by mmap (large arrays). */
static size_t heap_now(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: what the tracker cost when the machine is shared
 * (time spent waiting for a core is not counted). */
static double cpu_s(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* ---- a source of segments, in batches ---- */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };
#define BATCH 65536

typedef struct lc_seg {
    uint8_t from_client, flags;
    uint32_t seq, ack, len;
} lc_seg;

typedef struct active {
    uint64_t k;
    uint32_t client;
    uint16_t cport;
    uint16_t pos, n;
} active;

typedef struct gen {
    int kind; /* 0 capture, 1 lifecycles, 2 synflood */
    /* capture */
    const tcps_segment *cap;
    long ncap, at;
    /* generated */
    uint64_t conns, next;
    int data_rounds;
    active *act;
    size_t nact, i;
    uint64_t t_us;
    uint32_t frame;
} gen;

/* Segment pos of connection k, as in gen_capture.py's lifecycle(k) (with
 * data_rounds 0); returns the number of segments of the connection. */
static int lifecycle(uint64_t k, int data_rounds, int pos, lc_seg *out)
{
    uint32_t c = (uint32_t)(1000 + k * 7919), s = (uint32_t)(50000 + k * 104729);
    int kind = (int)(k % 7), n = 0;
#define SEG(fc, fl, sq, ak, ln)                                                                \
    do {                                                                                       \
        if (n++ == pos)                                                                        \
            *out = (lc_seg){(uint8_t)(fc), (uint8_t)(fl), (uint32_t)(sq), (uint32_t)(ak),    \
                            (uint32_t)(ln)};                                                   \
    } while (0)
    SEG(1, SYN, c, 0, 0);
    if (kind == 5) { /* refused */
        SEG(0, RST | ACK, 0, c + 1, 0);
        return n;
    }
    SEG(0, SYN | ACK, s, c + 1, 0);
    SEG(1, ACK, c + 1, s + 1, 0);
    c += 1;
    s += 1;
    /* the data rounds before pos are skipped arithmetically */
    int r = pos >= n + 4 ? (pos - n) / 4 : 0;
    if (r > data_rounds)
        r = data_rounds;
    n += 4 * r;
    c += 100u * (uint32_t)r;
    s += 300u * (uint32_t)r;
    for (; r <= data_rounds; r++) {
        SEG(1, PSH | ACK, c, s, 100);
        SEG(0, ACK, s, c + 100, 0);
        SEG(0, PSH | ACK, s, c + 100, 300);
        SEG(1, ACK, c + 100, s + 300, 0);
        c += 100;
        s += 300;
    }
    switch (kind) {
    case 0: /* client closes first */
        SEG(1, FIN | ACK, c, s, 0);
        SEG(0, ACK, s, c + 1, 0);
        SEG(0, FIN | ACK, s, c + 1, 0);
        SEG(1, ACK, c + 1, s + 1, 0);
        break;
    case 1: /* server closes first */
        SEG(0, FIN | ACK, s, c, 0);
        SEG(1, ACK, c, s + 1, 0);
        SEG(1, FIN | ACK, c, s + 1, 0);
        SEG(0, ACK, s + 1, c + 1, 0);
        break;
    case 2: /* three-way close */
        SEG(1, FIN | ACK, c, s, 0);
        SEG(0, FIN | ACK, s, c + 1, 0);
        SEG(1, ACK, c + 1, s + 1, 0);
        break;
    case 3: /* simultaneous close */
        SEG(1, FIN | ACK, c, s, 0);
        SEG(0, FIN | ACK, s, c, 0);
        SEG(0, ACK, s + 1, c + 1, 0);
        SEG(1, ACK, c + 1, s + 1, 0);
        break;
    case 4: /* abort */
        SEG(1, RST, c, 0, 0);
        break;
    default: /* half-close, data after the client's FIN, then the server closes */
        SEG(1, FIN | ACK, c, s, 0);
        SEG(0, ACK, s, c + 1, 0);
        SEG(0, PSH | ACK, s, c + 1, 500);
        SEG(1, ACK, c + 1, s + 500, 0);
        SEG(0, FIN | ACK, s + 500, c + 1, 0);
        SEG(1, ACK, c + 1, s + 501, 0);
        break;
    }
#undef SEG
    return n;
}

static void start(gen *g, active *a, uint64_t k)
{
    lc_seg l;
    a->k = k;
    a->client = 0x0A010000u + (uint32_t)(k % 60000) + 2;
    a->cport = (uint16_t)(1024 + (k / 60000) % 60000);
    a->n = (uint16_t)lifecycle(k, g->data_rounds, 0, &l);
    a->pos = 0;
}

static void fill(tcps_segment *s, gen *g, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    memset(s, 0, sizeof(*s));
    g->t_us += 10;
    s->family = 4;
    uint8_t a[4] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8),
                    (uint8_t)src};
    uint8_t b[4] = {(uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8),
                    (uint8_t)dst};
    memcpy(s->src, a, 4);
    memcpy(s->dst, b, 4);
    s->sport = sport;
    s->dport = dport;
    s->seq = seq;
    s->ack = ack;
    s->len = len;
    s->flags = flags;
    s->wscale = -1;
    s->win = 65535;
    s->time_ns = g->t_us / 1000000u * 1000000000u + g->t_us % 1000000u * 1000u;
    s->frame = ++g->frame;
}

static void gen_init(gen *g, int kind, uint64_t conns, uint64_t open, int data_rounds)
{
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    g->conns = conns;
    g->data_rounds = data_rounds;
    g->t_us = UINT64_C(1700000000) * 1000000u;
    if (kind == 1) {
        g->nact = (size_t)(open < conns ? open : conns);
        g->act = malloc(g->nact * sizeof(*g->act));
        if (!g->act)
            exit(1);
        for (size_t i = 0; i < g->nact; i++)
            start(g, &g->act[i], g->next++);
    }
}

/* Up to max next segments into out; returns how many (0 at the end). */
static size_t gen_batch(gen *g, tcps_segment *out, size_t max)
{
    size_t n = 0;
    const uint32_t server = 0x0A000001;
    if (g->kind == 0) {
        while (n < max && g->at < g->ncap)
            out[n++] = g->cap[g->at++];
    } else if (g->kind == 2) {
        while (n < max && g->next < g->conns) {
            uint64_t k = g->next;
            uint32_t client = 0x0B000000u + (uint32_t)k;
            uint32_t c = (uint32_t)(k * 2654435761u), s = (uint32_t)(k * 40503u);
            uint16_t cport = (uint16_t)(1024 + k % 50000);
            if (g->i == 0) {
                fill(&out[n++], g, client, server, cport, 80, SYN, c, 0, 0);
                g->i = 1;
            } else {
                fill(&out[n++], g, server, client, 80, cport, SYN | ACK, s, c + 1, 0);
                g->i = 0;
                g->next++;
            }
        }
    } else {
        while (n < max && g->nact) {
            if (g->i >= g->nact)
                g->i = 0;
            active *a = &g->act[g->i];
            lc_seg seg;
            const lc_seg *l = &seg;
            lifecycle(a->k, g->data_rounds, a->pos, &seg);
            if (l->from_client)
                fill(&out[n++], g, a->client, server, a->cport, 80, l->flags, l->seq, l->ack,
                     l->len);
            else
                fill(&out[n++], g, server, a->client, 80, a->cport, l->flags, l->seq, l->ack,
                     l->len);
            if (++a->pos == a->n) {
                if (g->next < g->conns) {
                    start(g, a, g->next++);
                } else { /* as Python's list.pop(i): the rest move down */
                    memmove(a, a + 1, (g->nact - g->i - 1) * sizeof(*a));
                    g->nact--;
                    continue;
                }
            }
            g->i++;
        }
    }
    return n;
}

static void gen_free(gen *g)
{
    free(g->act);
}

/* Reads the capture's TCP segments (tests/common/pcapread.c); returns the
 * count, or -1 with a message. */
static long load(const char *path, tcps_segment **out)
{
    char err[600];
    pcapread *r = pcapread_open(path, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    size_t cap = 1 << 20, n = 0;
    tcps_segment *segs = malloc(cap * sizeof(*segs));
    const char *oom = segs ? NULL : "out of memory";
    int rc = -1;
    while (!oom && (rc = pcapread_next(r, &segs[n])) == 1) {
        if (++n == cap) {
            tcps_segment *s2 = realloc(segs, 2 * cap * sizeof(*segs));
            if (!s2) {
                oom = "out of memory";
                break;
            }
            segs = s2;
            cap *= 2;
        }
    }
    if (oom) {
        fprintf(stderr, "%s: %s\n", path, oom);
        rc = -1;
    } else if (rc < 0) {
        fprintf(stderr, "%s\n", pcapread_error(r));
    }
    pcapread_close(r);
    if (rc < 0) {
        free(segs);
        return -1;
    }
    *out = segs;
    return (long)n;
}

typedef struct workload {
    int kind;
    uint64_t conns, open;
    int data_rounds;
    const tcps_segment *cap;
    long ncap;
} workload;

static void gen_start(gen *g, const workload *w)
{
    gen_init(g, w->kind, w->conns, w->open, w->data_rounds);
    g->cap = w->cap;
    g->ncap = w->ncap;
}

static uint64_t sink;
static tcps_config cfg;

/* One run: feeds the whole workload to a fresh tracker; returns the seconds
 * spent in tcps_process (wall clock; *cpu: thread CPU time), and the
 * segments, connections and heap. */
static double run_once(const workload *w, tcps_segment *buf, uint64_t *nseg, size_t *conns,
                       size_t *heap, double *cpu)
{
    gen g;
    gen_start(&g, w);
    size_t before = heap_now();
    tcps_tracker *t = tcps_new(&cfg);
    tcps_record rec;
    double total = 0, total_cpu = 0;
    uint64_t n = 0;
    size_t k;
    while ((k = gen_batch(&g, buf, BATCH)) > 0) {
        double t0 = now_s(), c0 = cpu_s();
        for (size_t i = 0; i < k; i++) {
            tcps_process(t, &buf[i], &rec);
            sink += rec.after[0];
        }
        total_cpu += cpu_s() - c0;
        total += now_s() - t0;
        n += k;
    }
    *cpu = total_cpu;
    *heap = heap_now() - before;
    *conns = tcps_conn_count(t);
    *nseg = n;
    tcps_free(t);
    gen_free(&g);
    return total;
}

/* Hindsight for every segment, after the whole workload was fed. */
static double hindsight_rate(const workload *w, tcps_segment *buf, uint64_t n)
{
    gen g;
    tcps_record rec;
    uint8_t b[2], a[2];
    uint32_t *ids = malloc(n * sizeof(*ids)), *frames = malloc(n * sizeof(*frames));
    tcps_tracker *t = tcps_new(&cfg);
    if (!ids || !frames || !t)
        exit(1);
    gen_start(&g, w);
    uint64_t m = 0;
    size_t k;
    while ((k = gen_batch(&g, buf, BATCH)) > 0)
        for (size_t i = 0; i < k && m < n; i++, m++) {
            tcps_process(t, &buf[i], &rec);
            ids[m] = rec.conn_id;
            frames[m] = buf[i].frame;
        }
    double h0 = now_s();
    for (uint64_t i = 0; i < m; i++)
        sink += (uint64_t)tcps_hindsight(t, ids[i], frames[i], b, a);
    double hd = now_s() - h0;
    tcps_free(t);
    gen_free(&g);
    free(ids);
    free(frames);
    return (double)m / hd;
}

static void bench(const char *label, const workload *w, int repeat, int hindsight,
                  tcps_segment *buf)
{
    double best = 1e30, best_cpu = 1e30, cpu;
    uint64_t n = 0;
    size_t conns = 0, heap = 0;
    for (int r = 0; r < repeat; r++) {
        double dt = run_once(w, buf, &n, &conns, &heap, &cpu);
        if (dt < best)
            best = dt;
        if (cpu < best_cpu)
            best_cpu = cpu;
    }
    printf("%-10s %9llu segments %8zu connections  %6.2f M segments/s %6.1f ns/segment"
           " (CPU time: %6.2f M/s %6.1f ns)  heap %4.0f B/connection",
           label, (unsigned long long)n, conns, (double)n / best / 1e6, best / (double)n * 1e9,
           (double)n / best_cpu / 1e6, best_cpu / (double)n * 1e9,
           (double)heap / (double)(conns ? conns : 1));
    if (hindsight)
        printf("  hindsight %5.1f M queries/s", hindsight_rate(w, buf, n) / 1e6);
    printf("\n");
    fflush(stdout);
}

static int parse3(const char *s, uint64_t v[3])
{
    return sscanf(s, "%llu,%llu,%llu", (unsigned long long *)&v[0], (unsigned long long *)&v[1],
                  (unsigned long long *)&v[2]) == 3;
}

int main(int argc, char **argv)
{
    int repeat = 3, hindsight = 1, data_rounds = 0;
    uint64_t sizes[3] = {100000, 400000, 1600000}, flood[3] = {250000, 1000000, 4000000};
    uint64_t open = 10000;
    const char *capture = NULL, *only = NULL;
    tcps_config_init(&cfg);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-hindsight") || !strcmp(a, "--no-log")) {
            hindsight = 0;
            if (!strcmp(a, "--no-log"))
                cfg.hindsight = 0;
            continue;
        }
        if (!v)
            goto usage;
        i++;
        if (!strcmp(a, "--repeat"))
            repeat = atoi(v);
        else if (!strcmp(a, "--open"))
            open = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--only"))
            only = v;
        else if (!strcmp(a, "--data"))
            data_rounds = atoi(v);
        else if (!strcmp(a, "--sizes") ? !parse3(v, sizes) : !strcmp(a, "--flood") ? !parse3(v, flood) : 1)
            goto usage;
    }
    if (i < argc)
        capture = argv[i++];
    if (i < argc)
        repeat = atoi(argv[i++]);
    if (only && strcmp(only, "lifecycles") && strcmp(only, "synflood"))
        goto usage;
    if (repeat < 1 || data_rounds < 0 || data_rounds > 1000 || open < 1 || i < argc)
        goto usage;
    tcps_segment *buf = malloc(BATCH * sizeof(*buf));
    if (!buf)
        return 1;
    if (capture) {
        workload w = {0};
        tcps_segment *segs;
        w.ncap = load(capture, &segs);
        if (w.ncap <= 0)
            return 1;
        w.cap = segs;
        bench("capture", &w, repeat, hindsight, buf);
        free(segs);
    } else {
        if (!only || !strcmp(only, "lifecycles"))
            printf("lifecycles: %llu open at once, %d extra data rounds; best of %d runs\n",
                   (unsigned long long)open, data_rounds, repeat);
        for (int k = 0; k < 3; k++) {
            workload w = {1, sizes[k], open, data_rounds, NULL, 0};
            if (sizes[k] && (!only || !strcmp(only, "lifecycles")))
                bench("lifecycles", &w, repeat, hindsight, buf);
        }
        for (int k = 0; k < 3; k++) {
            workload w = {2, flood[k], 0, 0, NULL, 0};
            if (flood[k] && (!only || !strcmp(only, "synflood")))
                bench("synflood", &w, repeat, hindsight, buf);
        }
    }
    free(buf);
    return sink == 42 ? 3 : 0;
usage:
    fprintf(stderr, "usage: bench_tracker [--repeat N] [--sizes A,B,C] [--flood A,B,C] "
                    "[--open N] [--data N] [--no-hindsight] [--no-log] [--only KIND]\n"
                    "       [CAPTURE.pcap [REPEAT]]\n");
    return 2;
}
