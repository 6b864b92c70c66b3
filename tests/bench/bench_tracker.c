/* bench_tracker: the tracker alone, on one core.
 *
 * usage: bench_tracker CAPTURE.pcap [REPEAT]
 *
 * Reads an Ethernet/IPv4/TCP pcap (as tests/bench/gen_capture.py writes) into
 * memory, then feeds every segment to a fresh tracker REPEAT times (default
 * 3) and prints the best rate in segments per second, the heap the tracker
 * holds afterwards (per connection and per segment), and the cost of asking
 * hindsight for every segment.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpstate.h"

/* Heap in use, including blocks malloc got by mmap (large arrays). */
static size_t heap_now(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads the capture's TCP/IPv4 segments; returns the count or -1. */
static long load(const char *path, tcps_segment **out)
{
    FILE *f = fopen(path, "rb");
    uint8_t gh[24], rh[16], buf[65536];
    size_t cap = 1 << 20, n = 0;
    tcps_segment *segs = malloc(cap * sizeof(*segs));
    if (!f || !segs || fread(gh, 1, 24, f) != 24 || gh[0] != 0xd4 || gh[1] != 0xc3) {
        fprintf(stderr, "%s: not a little-endian pcap\n", path);
        return -1;
    }
    uint32_t frame = 0;
    while (fread(rh, 1, 16, f) == 16) {
        uint32_t incl = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 |
                        (uint32_t)rh[11] << 24;
        if (incl > sizeof(buf) || fread(buf, 1, incl, f) != incl)
            break;
        frame++;
        if (incl < 54 || be16(buf + 12) != 0x0800 || buf[23] != 6)
            continue;
        const uint8_t *ip = buf + 14, *tcp = ip + (ip[0] & 15) * 4;
        if (tcp + 20 > buf + incl)
            continue;
        if (n == cap) {
            cap *= 2;
            tcps_segment *s2 = realloc(segs, cap * sizeof(*segs));
            if (!s2)
                return -1;
            segs = s2;
        }
        tcps_segment *s = &segs[n++];
        memset(s, 0, sizeof(*s));
        s->family = 4;
        memcpy(s->src, ip + 12, 4);
        memcpy(s->dst, ip + 16, 4);
        s->sport = be16(tcp);
        s->dport = be16(tcp + 2);
        s->seq = be32(tcp + 4);
        s->ack = be32(tcp + 8);
        s->flags = tcp[13];
        s->win = be16(tcp + 14);
        s->wscale = -1;
        s->len = be16(ip + 2) - (uint32_t)((ip[0] & 15) * 4) - (uint32_t)((tcp[12] >> 4) * 4);
        uint32_t sec = (uint32_t)rh[0] | (uint32_t)rh[1] << 8 | (uint32_t)rh[2] << 16 |
                       (uint32_t)rh[3] << 24;
        uint32_t usec = (uint32_t)rh[4] | (uint32_t)rh[5] << 8 | (uint32_t)rh[6] << 16 |
                        (uint32_t)rh[7] << 24;
        s->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)usec * 1000u;
        s->frame = frame;
    }
    fclose(f);
    *out = segs;
    return (long)n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tracker CAPTURE.pcap [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 3;
    tcps_segment *segs;
    long n = load(argv[1], &segs);
    if (n <= 0)
        return 1;
    double best = 1e30;
    size_t heap = 0, conns = 0;
    uint64_t sink = 0;
    for (int r = 0; r < repeat; r++) {
        size_t before = heap_now();
        tcps_tracker *t = tcps_new(NULL);
        tcps_record rec;
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            tcps_process(t, &segs[i], &rec);
            sink += rec.after[0];
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        heap = heap_now() - before;
        conns = tcps_conn_count(t);
        if (r == repeat - 1) { /* hindsight for every segment, as tshark -2 asks */
            double h0 = now_s();
            uint8_t b[2], a[2];
            tcps_record rr;
            tcps_tracker *t2 = tcps_new(NULL);
            uint32_t *ids = malloc((size_t)n * sizeof(*ids));
            for (long i = 0; i < n; i++) {
                tcps_process(t2, &segs[i], &rr);
                ids[i] = rr.conn_id;
            }
            h0 = now_s();
            for (long i = 0; i < n; i++)
                sink += (uint64_t)tcps_hindsight(t2, ids[i], segs[i].frame, b, a);
            double hd = now_s() - h0;
            size_t heap2 = heap_now() - before;
            printf("hindsight: %.1f M queries/s; tracker heap after queries %.0f bytes/connection\n",
                   (double)n / hd / 1e6, (double)(heap2 - heap - (size_t)n * 4) / (double)conns);
            free(ids);
            tcps_free(t2);
        }
        tcps_free(t);
    }
    printf("segments %ld, connections %zu\n", n, conns);
    printf("tracker: %.1f M segments/s on one core (best of %d)\n", (double)n / best / 1e6, repeat);
    printf("tracker heap: %.0f bytes/connection, %.1f bytes/segment\n",
           (double)heap / (double)conns, (double)heap / (double)n);
    return sink == 42 ? 3 : 0;
}
