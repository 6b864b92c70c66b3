/* store_scale.c: the tracker and the plugin's record store (plugin/tcpstate-store.c)
 * together at ten million connections, called directly (issue #16: "10M connections in
 * one file: bounded memory, correct since-times").
 *
 * usage: store_scale [--max-conn B] N
 *
 * N SYNs from distinct tuples, frames 1..N, 10 us apart (the capture tshark would read
 * from gen_captures.py halfopen N), then a SYN-ACK for every 1000th connection, answered
 * after all the SYNs (frames N+1...): each goes through the tracker, and its record into
 * the store, as the plugin's first pass does. Memory (glibc's mallinfo2(): bytes
 * allocated and not freed) is measured before and after; then every frame is read back
 * from the store as every later pass reads it (tcpstate_store_find/get/entered) and
 * compared with the tracker's record: connection, states, and both "entered" frames
 * (the frames whose times the connection table shows as "since"; a SYN's are its own
 * frame, and its connection the (k+1)th).
 * Fails when the tracker and store keep more than --max-conn bytes per connection
 * (default 512) or any record read back differs. Prints the figures; exit status 0 pass,
 * 1 fail, 2 usage or no memory, 77 without mallinfo2.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpstate-store.h"
#include "tcpstate.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
static long long heap_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return (long long)(m.uordblks + m.hblkhd);
}
#define HAVE_MALLINFO2 1
#else
static long long heap_bytes(void) {
    return -1;
}
#endif

/* What the tracker said of a frame, kept compact to be compared with the store. */
typedef struct {
    uint32_t conn_id;
    uint32_t entered[2];
    uint8_t after[2];
} expected;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connection k: 10.x.y.z:port -> 10.255.0.1:80, a new source address every 50,000 ports. */
static void segment(tcps_segment *s, uint32_t k, int answer, uint32_t frame) {
    uint32_t src = 0x0A000001u + 0x100u * (k / 50000), dst = 0x0AFF0001u;
    uint16_t port = (uint16_t)(1024 + k % 50000);
    uint8_t a[4] = {(uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8),
                    (uint8_t)src};
    uint8_t b[4] = {(uint8_t)(dst >> 24), (uint8_t)(dst >> 16), (uint8_t)(dst >> 8),
                    (uint8_t)dst};

    memset(s, 0, sizeof(*s));
    s->family = 4;
    memcpy(answer ? s->dst : s->src, a, 4);
    memcpy(answer ? s->src : s->dst, b, 4);
    s->sport = answer ? 80 : port;
    s->dport = answer ? port : 80;
    s->flags = answer ? (TCPS_SYN | TCPS_ACK) : TCPS_SYN;
    s->seq = answer ? 5000u : k * 7919u;
    s->ack = answer ? k * 7919u + 1 : 0;
    s->win = 65535;
    s->wscale = -1;
    s->frame = frame;
    s->time_ns = 1700000000000000000ull + (uint64_t)frame * 10000;
}

int main(int argc, char **argv) {
    double max_conn = 512;
    uint32_t n, answered, frames;
    unsigned long bad = 0;
    expected *want;
    tcps_tracker *t;
    tcpstate_store *st;
    long long heap0, heap1;
    double t0, t1, t2;
    int i = 1;

    if (argc == 4 && strcmp(argv[1], "--max-conn") == 0) {
        max_conn = atof(argv[2]);
        i = 3;
    }
    if (i != argc - 1 || (n = (uint32_t)strtoul(argv[i], NULL, 10)) == 0) {
        fprintf(stderr, "usage: store_scale [--max-conn B] N\n");
        return 2;
    }
#ifndef HAVE_MALLINFO2
    fprintf(stderr, "store_scale: no mallinfo2(): skipped\n");
    return 77;
#endif
    answered = n / 1000;
    frames = n + answered;
    want = calloc((size_t)frames + 1, sizeof(*want));
    if (want == NULL)
        return 2;
    heap0 = heap_bytes();
    t0 = now_s();
    t = tcps_new(NULL);
    st = tcpstate_store_new();
    if (t == NULL || st == NULL)
        return 2;
    for (uint32_t f = 1; f <= frames; f++) {
        tcps_segment s;
        tcps_record r;
        uint32_t k = f <= n ? f - 1 : (f - n - 1) * 1000;

        segment(&s, k, f > n, f);
        if (!tcps_process(t, &s, &r) || r.conn_id == 0) {
            fprintf(stderr, "store_scale: frame %u not tracked\n", f);
            return 1;
        }
        tcpstate_store_add(st, &r, &s);
        want[f].conn_id = r.conn_id;
        want[f].after[0] = (uint8_t)r.after[0];
        want[f].after[1] = (uint8_t)r.after[1];
        want[f].entered[0] = r.entered[0];
        want[f].entered[1] = r.entered[1];
    }
    t1 = now_s();
    heap1 = heap_bytes();
    for (uint32_t f = 1; f <= frames; f++) {
        gint idx = tcpstate_store_find(st, f);
        tcpstate_rec r;
        uint32_t k = f <= n ? f - 1 : (f - n - 1) * 1000;
        /* Also as made: a SYN's connection is the (k+1)th, both its states entered there. */
        int ok = idx >= 0;

        if (ok) {
            tcpstate_store_get(st, (guint)idx, &r);
            tcpstate_store_entered(st, f, &r);
            ok = r.conn_id == want[f].conn_id && r.conn_id == k + 1 &&
                 r.after[0] == want[f].after[0] && r.after[1] == want[f].after[1] &&
                 r.entered[0] == want[f].entered[0] && r.entered[1] == want[f].entered[1] &&
                 (f > n || (r.entered[0] == f && r.entered[1] == f)) &&
                 tcpstate_store_next(st, (guint)idx, f) < 0;
        }
        if (!ok && bad++ < 10)
            fprintf(stderr, "store_scale: frame %u (connection %u) read back differs\n", f,
                    k + 1);
    }
    t2 = now_s();
    {
        double per = (double)(heap1 - heap0) / n;
        int over = per > max_conn;

        printf("store_scale: %u connections (%u answered), %u frames: tracker and store keep "
               "%.0f MB, %.1f B per connection (limit %.0f); first pass %.1f s, every frame "
               "read back %.1f s; %lu differences\n",
               n, answered, frames, (heap1 - heap0) / 1e6, per, max_conn, t1 - t0, t2 - t1,
               bad);
        tcpstate_store_free(st);
        tcps_free(t);
        free(want);
        return bad || over ? 1 : 0;
    }
}
