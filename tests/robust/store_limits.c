/* store_limits.c: the plugin's record store (plugin/tcpstate-store.c) at the ends of its
 * ranges, called directly (issue #16).
 *
 * usage: store_limits
 *
 * Feeds the tracker segments whose frame numbers are near 2^32 (Wireshark 4.0 numbers
 * frames with 32 bits: the last frames of the biggest capture it can open), with steps of
 * 1, of 255 and more (the store's far steps), and with many frames per connection and
 * many connections (anchors, transition lists), with capture times spanning years and
 * going backwards; stores every record, then reads every frame back and compares with
 * what the tracker said: connection, states, certainties, sender, flags, length, events
 * and both entered frames (within 1..frame). Also checks that frame 0 and frames past
 * the last hold nothing. Prints the frames and records checked; exits 1 on a difference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate-store.h"
#include "tcpstate.h"

typedef struct {
    tcps_record rec;
    tcps_segment seg;
} kept;

static unsigned long failures;

static void expect(int ok, const kept *k, const char *what)
{
    if (!ok && failures++ < 20)
        fprintf(stderr, "store_limits: frame %u (connection %u): %s\n", k->seg.frame,
                k->rec.conn_id, what);
}

/* The segment i of a run: connection i / per of many, a handshake then data both ways. */
static void make_segment(tcps_segment *s, uint32_t i, uint32_t per, uint32_t frame, uint64_t t)
{
    uint32_t conn = i / per, k = i % per;
    int back = k % 2;
    memset(s, 0, sizeof(*s));
    s->family = 4;
    s->src[0] = s->dst[0] = 10;
    s->src[3] = (uint8_t)(back ? 1 : 2);
    s->dst[3] = (uint8_t)(back ? 2 : 1);
    s->src[2] = s->dst[2] = (uint8_t)(conn >> 16);
    s->sport = back ? 443 : (uint16_t)(1024 + (conn & 0xffff));
    s->dport = back ? (uint16_t)(1024 + (conn & 0xffff)) : 443;
    s->flags = k == 0 ? TCPS_SYN : k == 1 ? (TCPS_SYN | TCPS_ACK)
             : k == per - 2 ? (TCPS_FIN | TCPS_ACK) : TCPS_ACK;
    s->seq = (back ? 7000u : 100u) + (k > 1 ? 1 + (k / 2) * 70000 : 0);
    s->ack = k == 0 ? 0 : (back ? 101u : 7001u) + ((k - 1) / 2) * 70000;
    s->len = k > 1 && k < per - 2 ? 70000 : 0; /* beyond 16 bits: the store's big lengths */
    s->win = 100;
    s->wscale = -1;
    s->time_ns = t;
    s->frame = frame;
}

static void check_frame(tcpstate_store *st, const kept *ks, size_t from, size_t to)
{
    gint idx = tcpstate_store_find(st, ks[from].seg.frame);
    for (size_t j = from; j < to; j++) {
        const kept *k = &ks[j];
        tcpstate_rec r;
        expect(idx >= 0, k, "no record found");
        if (idx < 0)
            return;
        tcpstate_store_get(st, (guint)idx, &r);
        tcpstate_store_entered(st, k->seg.frame, &r);
        expect(r.conn_id == k->rec.conn_id && r.sender == k->rec.sender &&
                   r.flags == k->seg.flags && r.len == k->seg.len && r.events == k->rec.events,
               k, "connection, sender, flags, length or events differ");
        for (int i = 0; i < 2; i++) {
            expect(r.before[i] == k->rec.before[i] && r.after[i] == k->rec.after[i] &&
                       r.cert[i] == k->rec.cert[i], k, "states or certainties differ");
            expect(r.entered[i] == k->rec.entered[i], k, "entered differs");
            expect(r.entered[i] >= 1 && r.entered[i] <= k->seg.frame, k, "entered out of range");
        }
        idx = tcpstate_store_next(st, (guint)idx, k->seg.frame);
    }
    expect(idx < 0, &ks[to - 1], "a record too many");
}

int main(void)
{
    enum { PER = 40, N = 60000 };
    static const uint32_t steps[] = {1, 1, 1, 255, 256, 1, 100000, 1, 1, 3};
    tcps_tracker *t = tcps_new(NULL);
    tcpstate_store *st = tcpstate_store_new();
    kept *ks = calloc(N, sizeof(*ks));
    size_t n = 0;
    uint64_t total = 0, time = 1000000000ull;
    uint32_t frame;
    if (!t || !st || !ks)
        return 2;
    for (uint32_t i = 0; i < N; i++)
        total += steps[i % 10];
    frame = (uint32_t)(0xFFFFFFFFull - total); /* the last frame is 2^32 - 1 */
    for (uint32_t i = 0; i < N; i++) {
        frame += steps[i % 10];
        /* a day, a year forwards; a minute backwards now and then */
        time = i % 1000 == 999 ? time + 31536000000000000ull
             : i % 97 == 96    ? time - 60000000000ull : time + 86400000000000ull / 1000;
        make_segment(&ks[n].seg, i, PER, frame, time);
        if (tcps_process(t, &ks[n].seg, &ks[n].rec)) {
            tcpstate_store_add(st, &ks[n].rec, &ks[n].seg);
            n++;
        }
    }
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && ks[b].seg.frame == ks[a].seg.frame; b++)
            ;
        check_frame(st, ks, a, b);
    }
    if (tcpstate_store_find(st, 0) >= 0 || (frame < 0xFFFFFFFFu &&
                                            tcpstate_store_find(st, frame + 1) >= 0)) {
        fprintf(stderr, "store_limits: frame 0 or a frame past the last has a record\n");
        failures++;
    }
    printf("store_limits: %zu records, frames %u..%u, %zu connections: %lu differences\n", n,
           ks[0].seg.frame, frame, tcps_conn_count(t), failures);
    tcpstate_store_free(st);
    tcps_free(t);
    free(ks);
    return failures ? 1 : 0;
}
