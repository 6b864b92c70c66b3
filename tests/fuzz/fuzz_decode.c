/* fuzz_decode.c: the fuzz input format (fuzz_decode.h), bytes -> segments. */
#include "fuzz_decode.h"

#include <string.h>

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

void fuzz_config(const uint8_t *hdr, tcps_config *cfg)
{
    static const uint64_t tw[4] = {0, 1000000ull, 60000000000ull, 240000000000ull};
    tcps_config_init(cfg);
    cfg->midstream = !(hdr[0] & 1);
    cfg->vantage = (tcps_vantage)(((hdr[0] >> 1) & 3) % 3);
    cfg->hindsight = !(hdr[0] & 8);
    cfg->time_wait_ns = tw[(hdr[0] >> 4) & 3];
}

void fuzz_decode_start(fuzz_decoder *d, const uint8_t *hdr)
{
    memset(d, 0, sizeof(*d));
    d->now = (uint64_t)rd16(hdr + 2) * 1000000000ull;
}

void fuzz_decode_next(fuzz_decoder *d, const uint8_t *p, tcps_segment *s)
{
    unsigned key = p[0] & 0x7f;
    int dir = p[0] >> 7;
    uint8_t mode = p[1];
    memset(s, 0, sizeof(*s));
    fuzz_tuple(key, dir, s);
    s->zone = (mode & 1) | ((mode & 8) ? 0u : (uint32_t)p[3] << 1);
    s->flags = p[2];
    s->wscale = (mode & 8) ? (int8_t)p[3] : -1;
    s->seq = rd32(p + 4) + ((mode & 2) ? d->end[key][dir] : 0);
    s->ack = rd32(p + 8) + ((mode & 4) ? d->end[key][!dir] : 0);
    s->len = rd32(p + 12);
    s->win = rd16(p + 16);
    uint64_t t = rd16(p + 18);
    switch ((mode >> 4) & 3) {
    case 0: d->now += t * 1000u; break;
    case 1: d->now += t * 1000000u; break;
    case 2: d->now += t * 1000000000u; break;
    default: d->now = d->now > t * 1000000u ? d->now - t * 1000000u : 0; break;
    }
    s->time_ns = d->now;
    if (!(mode & 0x40) || d->frame == 0)
        d->frame++;
    s->frame = d->frame;
    d->end[key][dir] = s->seq + s->len + ((s->flags & TCPS_SYN) ? 1u : 0u) +
                       ((s->flags & TCPS_FIN) ? 1u : 0u);
}
