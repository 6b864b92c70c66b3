/* pcapread.c: the TCP segments of a pcap or pcapng file (pcapread.h). */
#include "pcapread.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCK (64u << 20) /* larger packet records or blocks are taken as corrupt */
#define MAX_DEPTH 4           /* tunnels inside tunnels */
#define MAX_IFACES 65536

enum { LT_NULL = 0, LT_ETHERNET = 1, LT_RAW12 = 12, LT_RAW14 = 14, LT_RAW = 101, LT_LOOP = 108,
       LT_SLL = 113, LT_IPV4 = 228, LT_IPV6 = 229, LT_NFLOG = 239, LT_SLL2 = 276 };
enum { ET_IPV4 = 0x0800, ET_IPV6 = 0x86dd, ET_TEB = 0x6558 };
enum { BT_IDB = 1, BT_OPB = 2, BT_SPB = 3, BT_EPB = 6, BT_SHB = 0x0a0d0d0a };

typedef struct iface {
    uint16_t linktype;
    uint8_t tsresol;  /* pcapng if_tsresol: 6 = microseconds */
    int64_t tsoffset; /* if_tsoffset, seconds */
} iface;

struct pcapread {
    FILE *f;
    char *path;
    int ng;         /* pcapng */
    int be;         /* big-endian file (section) */
    int nano;       /* pcap: nanosecond timestamps */
    uint32_t linktype;
    uint8_t *buf;   /* the current record or block */
    size_t cap;
    uint64_t off;   /* file offset of the next byte to read */
    uint32_t frames;
    int started;    /* the file header was read */
    iface *ifs;
    size_t nifs, capifs;
    char err[512];
};

/* A packet ready for decoding. */
typedef struct packet {
    uint32_t linktype;
    uint64_t time_ns;
    const uint8_t *p;
    size_t n;
} packet;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* File-order integers. */
static uint16_t rd16(const pcapread *r, const uint8_t *p)
{
    return r->be ? be16(p) : le16(p);
}

static uint32_t rd32(const pcapread *r, const uint8_t *p)
{
    return r->be ? be32(p) : le32(p);
}

static int fail(pcapread *r, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->started)
        snprintf(r->err, sizeof(r->err), "%s: packet %u, at byte %llu: %s", r->path,
                 r->frames + 1, (unsigned long long)r->off, msg);
    else
        snprintf(r->err, sizeof(r->err), "%s: %s", r->path, msg);
    return -1;
}

/* n bytes at buf + at: 1; 0 at a clean end of file (nothing read, eof_ok);
 * -1 (message set) when the file ends within them or cannot be read. */
static int read_exact(pcapread *r, size_t at, size_t n, int eof_ok, const char *what)
{
    if (at + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < at + n)
            cap *= 2;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return fail(r, "out of memory for a %s of %zu bytes", what, n);
        r->buf = nb;
        r->cap = cap;
    }
    size_t got = fread(r->buf + at, 1, n, r->f);
    if (got == n) {
        r->off += n;
        return 1;
    }
    if (ferror(r->f))
        return fail(r, "read error: %s", strerror(errno));
    if (got == 0 && eof_ok)
        return 0;
    return fail(r, "truncated %s: %zu of %zu bytes", what, got, n);
}

int pcapread_probe(const char *path)
{
    uint8_t m[4];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    if (n != 4)
        return 0;
    uint32_t v = le32(m);
    return v == 0xa1b2c3d4u || v == 0xd4c3b2a1u || v == 0xa1b23c4du || v == 0x4d3cb2a1u ||
           v == BT_SHB;
}

static int open_header(pcapread *r)
{
    if (read_exact(r, 0, 4, 0, "file header") < 0)
        return -1;
    uint32_t v = le32(r->buf);
    if (v == BT_SHB) {
        r->ng = 1; /* the section header is read again as the first block */
        r->off = 0;
        return fseek(r->f, 0, SEEK_SET) == 0 ? 0 : fail(r, "cannot seek: %s", strerror(errno));
    }
    if (v != 0xa1b2c3d4u && v != 0xd4c3b2a1u && v != 0xa1b23c4du && v != 0x4d3cb2a1u)
        return fail(r, "neither pcap nor pcapng (magic %08x)", (unsigned)be32(r->buf));
    r->be = v == 0xd4c3b2a1u || v == 0x4d3cb2a1u;
    r->nano = v == 0xa1b23c4du || v == 0x4d3cb2a1u;
    if (read_exact(r, 4, 20, 0, "file header") < 0)
        return -1;
    r->linktype = rd32(r, r->buf + 20) & 0x0fffffffu; /* upper bits: FCS length */
    return 0;
}

pcapread *pcapread_open(const char *path, char *err, size_t errlen)
{
    pcapread *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = malloc(strlen(path) + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(r);
        return NULL;
    }
    strcpy(r->path, path);
    r->f = fopen(path, "rb");
    if (!r->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        pcapread_close(r);
        return NULL;
    }
    if (open_header(r) < 0) {
        snprintf(err, errlen, "%s", r->err);
        pcapread_close(r);
        return NULL;
    }
    r->started = 1;
    return r;
}

/* ---- pcap ---- */

/* The next packet record: 1, 0 at the end, -1 on error. */
static int pcap_next(pcapread *r, packet *pk)
{
    int rc = read_exact(r, 0, 16, 1, "packet record header");
    if (rc <= 0)
        return rc;
    uint32_t sec = rd32(r, r->buf), frac = rd32(r, r->buf + 4), incl = rd32(r, r->buf + 8);
    if (incl > MAX_BLOCK)
        return fail(r, "captured length %u is impossible", (unsigned)incl);
    if (read_exact(r, 16, incl, 0, "packet") < 0)
        return -1;
    pk->linktype = r->linktype;
    pk->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * (r->nano ? 1u : 1000u);
    pk->p = r->buf + 16;
    pk->n = incl;
    return 1;
}

/* ---- pcapng ---- */

static uint64_t pow10u(unsigned e)
{
    uint64_t v = 1;
    while (e--)
        v *= 10;
    return v;
}

/* Nanoseconds of a timestamp in units of if_tsresol res. */
static uint64_t ng_time_ns(uint64_t ts, uint8_t res, int64_t offset_s)
{
    uint64_t ns;
    unsigned p = res & 0x7f;
    if (!(res & 0x80))
        ns = p <= 9 ? ts * pow10u(9 - p) : p - 9 <= 19 ? ts / pow10u(p - 9) : 0;
    else if (p >= 64)
        ns = 0;
    else {
        uint64_t sec = ts >> p, frac = ts & ((UINT64_C(1) << p) - 1);
        if (p > 34) { /* keep frac * 10^9 within 64 bits */
            frac >>= p - 34;
            p = 34;
        }
        ns = sec * 1000000000u + ((frac * 1000000000u) >> p);
    }
    return ns + (uint64_t)offset_s * 1000000000u;
}

/* An interface description block's link type and time options. */
static int ng_interface(pcapread *r, const uint8_t *b, size_t n)
{
    if (n < 8)
        return fail(r, "interface description block of %zu bytes", n);
    if (r->nifs == MAX_IFACES)
        return fail(r, "more than %u interfaces", MAX_IFACES);
    if (r->nifs == r->capifs) {
        size_t cap = r->capifs ? r->capifs * 2 : 4;
        iface *ni = realloc(r->ifs, cap * sizeof(*ni));
        if (!ni)
            return fail(r, "out of memory");
        r->ifs = ni;
        r->capifs = cap;
    }
    iface *f = &r->ifs[r->nifs++];
    f->linktype = rd16(r, b);
    f->tsresol = 6;
    f->tsoffset = 0;
    for (size_t o = 8; o + 4 <= n;) {
        uint16_t code = rd16(r, b + o), len = rd16(r, b + o + 2);
        if (code == 0 || o + 4 + len > n)
            break;
        if (code == 9 && len >= 1)
            f->tsresol = b[o + 4];
        if (code == 14 && len == 8) {
            uint64_t w0 = rd32(r, b + o + 4), w1 = rd32(r, b + o + 8);
            f->tsoffset = (int64_t)(r->be ? w0 << 32 | w1 : w1 << 32 | w0);
        }
        o += 4 + ((len + 3u) & ~3u);
    }
    return 0;
}

/* A packet block (enhanced, simple or obsolete) of body b, n bytes: 1 and
 * *pk, or -1. */
static int ng_packet(pcapread *r, uint32_t type, const uint8_t *b, size_t n, packet *pk)
{
    uint32_t ifid = 0, caplen;
    uint64_t ts = 0;
    size_t hdr = type == BT_SPB ? 4 : 20;
    if (n < hdr)
        return fail(r, "packet block of %zu bytes", n);
    if (type == BT_SPB) {
        caplen = rd32(r, b); /* original length; the block holds at most n - 4 */
        if (caplen > n - 4)
            caplen = (uint32_t)(n - 4);
    } else {
        ifid = type == BT_EPB ? rd32(r, b) : rd16(r, b);
        ts = (uint64_t)rd32(r, b + 4) << 32 | rd32(r, b + 8);
        caplen = rd32(r, b + 12);
        if (caplen > n - hdr)
            return fail(r, "captured length %u beyond its block", (unsigned)caplen);
    }
    if (ifid >= r->nifs)
        return fail(r, "packet of interface %u, %zu described", (unsigned)ifid, r->nifs);
    const iface *f = &r->ifs[ifid];
    pk->linktype = f->linktype;
    pk->time_ns = type == BT_SPB ? 0 : ng_time_ns(ts, f->tsresol, f->tsoffset);
    pk->p = b + hdr;
    pk->n = caplen;
    return 1;
}

/* A block's type and total length, with the byte order of a section header
 * taken from its byte-order magic. */
static int ng_block_head(pcapread *r, uint32_t *type, uint32_t *len)
{
    int rc = read_exact(r, 0, 8, 1, "block header");
    if (rc <= 0)
        return rc;
    if (le32(r->buf) == BT_SHB) {
        if (read_exact(r, 8, 4, 0, "section header") < 0)
            return -1;
        uint32_t bom = le32(r->buf + 8);
        if (bom != 0x1a2b3c4du && bom != 0x4d3c2b1au)
            return fail(r, "section header with byte-order magic %08x", (unsigned)bom);
        r->be = bom == 0x4d3c2b1au;
    }
    *type = rd32(r, r->buf);
    *len = rd32(r, r->buf + 4);
    size_t head = *type == BT_SHB ? 12 : 8;
    if (*len < head + 4 || *len % 4 || *len > MAX_BLOCK)
        return fail(r, "block of type %08x with length %u", (unsigned)*type, (unsigned)*len);
    return 1;
}

/* The next packet block: 1, 0 at the end, -1 on error. */
static int ng_next(pcapread *r, packet *pk)
{
    for (;;) {
        uint32_t type = 0, len = 0;
        int rc = ng_block_head(r, &type, &len);
        if (rc <= 0)
            return rc;
        size_t head = type == BT_SHB ? 12 : 8;
        if (read_exact(r, head, len - head, 0, "block") < 0)
            return -1;
        if (rd32(r, r->buf + len - 4) != len)
            return fail(r, "block length %u and trailing length %u differ", (unsigned)len,
                        (unsigned)rd32(r, r->buf + len - 4));
        const uint8_t *b = r->buf + head;
        size_t n = len - head - 4;
        if (type == BT_SHB) {
            r->nifs = 0; /* a new section: interfaces numbered afresh */
        } else if (type == BT_IDB) {
            if (ng_interface(r, b, n) < 0)
                return -1;
        } else if (type == BT_EPB || type == BT_SPB || type == BT_OPB) {
            return ng_packet(r, type, b, n, pk);
        }
    }
}

/* ---- link, network and transport layers ---- */

/* Skips VLAN tags: *et and *off move past each. */
static void skip_vlans(const uint8_t *p, size_t n, uint16_t *et, size_t *off)
{
    while ((*et == 0x8100 || *et == 0x88a8 || *et == 0x9100) && *off + 4 <= n) {
        *et = be16(p + *off + 2);
        *off += 4;
    }
}

/* An IP version from its first nibble, as an ethertype (0: neither). */
static uint16_t ip_version_type(const uint8_t *p, size_t n)
{
    if (n < 1)
        return 0;
    return (p[0] >> 4) == 4 ? ET_IPV4 : (p[0] >> 4) == 6 ? ET_IPV6 : 0;
}

/* The family of a BSD address family value (either byte order). */
static uint16_t bsd_af_type(uint32_t af)
{
    if (af > 0xffff)
        af = (af >> 24) | ((af >> 8) & 0xff00);
    if (af == 2)
        return ET_IPV4;
    return af == 10 || af == 24 || af == 28 || af == 30 ? ET_IPV6 : 0;
}

/* NFLOG: the payload TLV (type 9) of the family's IP packet. */
static uint16_t nflog_payload(const uint8_t *p, size_t n, size_t *off)
{
    if (n < 4)
        return 0;
    uint16_t et = p[0] == 2 ? ET_IPV4 : p[0] == 10 ? ET_IPV6 : 0;
    for (size_t o = 4; o + 4 <= n;) {
        uint16_t len = le16(p + o), type = le16(p + o + 2);
        if (len < 4 || o + len > n)
            return 0;
        if (type == 9) {
            *off = o + 4;
            return et;
        }
        o += (len + 3u) & ~3u;
    }
    return 0;
}

/* The network layer of a packet: its ethertype (0: none known) and where it
 * starts. */
static uint16_t link_layer(uint32_t linktype, const uint8_t *p, size_t n, size_t *off)
{
    uint16_t et = 0;
    *off = 0;
    switch (linktype) {
    case LT_ETHERNET:
        if (n < 14)
            return 0;
        et = be16(p + 12);
        *off = 14;
        break;
    case LT_RAW12: case LT_RAW14: case LT_RAW: return ip_version_type(p, n);
    case LT_IPV4: return ET_IPV4;
    case LT_IPV6: return ET_IPV6;
    case LT_NULL: case LT_LOOP:
        *off = 4;
        return n < 4 ? 0 : bsd_af_type(le32(p));
    case LT_SLL:
        if (n < 16)
            return 0;
        et = be16(p + 14);
        *off = 16;
        break;
    case LT_SLL2:
        if (n < 20)
            return 0;
        et = be16(p);
        *off = 20;
        break;
    case LT_NFLOG: return nflog_payload(p, n, off);
    default: return 0;
    }
    skip_vlans(p, n, &et, off);
    return et;
}

/* The window scale option of a SYN's options (-1 if absent). */
static int8_t tcp_wscale(const uint8_t *o, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2)
            break;
        if (o[i] == 3 && o[i + 1] == 3 && i + 2 < n)
            return (int8_t)o[i + 2];
        i += o[i + 1];
    }
    return -1;
}

/* A TCP header of cap captured bytes, in an IP payload of plen bytes: 1 and
 * the segment's TCP fields, or 0 if it is not a TCP header. */
static int tcp_layer(const uint8_t *p, size_t cap, size_t plen, tcps_segment *s)
{
    if (cap < 20)
        return 0;
    size_t hl = (size_t)(p[12] >> 4) * 4;
    if (hl < 20 || plen < hl)
        return 0;
    s->sport = be16(p);
    s->dport = be16(p + 2);
    s->seq = be32(p + 4);
    s->ack = be32(p + 8);
    s->flags = p[13];
    s->win = be16(p + 14);
    s->len = (uint32_t)(plen - hl);
    s->wscale = (s->flags & TCPS_SYN) ? tcp_wscale(p + 20, (hl < cap ? hl : cap) - 20) : -1;
    return 1;
}

static int ip_layer(uint16_t et, const uint8_t *p, size_t n, uint32_t depth, tcps_segment *s);

/* GRE (version 0) carrying IP or Ethernet. */
static int gre_layer(const uint8_t *p, size_t n, uint32_t depth, tcps_segment *s)
{
    if (n < 4 || (p[1] & 7) != 0)
        return 0;
    uint16_t flags = be16(p), et = be16(p + 2);
    size_t off = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) +
                 ((flags & 0x1000) ? 4 : 0);
    if (off > n)
        return 0;
    if (et == ET_TEB) {
        size_t eoff;
        et = link_layer(LT_ETHERNET, p + off, n - off, &eoff);
        off += eoff;
    }
    return ip_layer(et, p + off, n - off, depth + 1, s);
}

/* The protocol after an IP header: TCP, or a tunnel. */
static int ip_payload(int proto, const uint8_t *p, size_t cap, size_t plen, uint32_t depth,
                      tcps_segment *s)
{
    if (proto == 6)
        return tcp_layer(p, cap, plen, s);
    if (proto == 4 || proto == 41)
        return ip_layer(proto == 4 ? ET_IPV4 : ET_IPV6, p, cap, depth + 1, s);
    if (proto == 47)
        return gre_layer(p, cap, depth, s);
    return 0;
}

static int ipv4_layer(const uint8_t *p, size_t n, uint32_t depth, tcps_segment *s)
{
    if (n < 20 || (p[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(p[0] & 15) * 4, total = be16(p + 2);
    if (total == 0)
        total = n; /* segmentation offload: the length as captured */
    if (ihl < 20 || ihl > n || total < ihl || (be16(p + 6) & 0x1fff) != 0)
        return 0;
    s->family = 4;
    memcpy(s->src, p + 12, 4);
    memcpy(s->dst, p + 16, 4);
    size_t cap = (total < n ? total : n) - ihl;
    return ip_payload(p[9], p + ihl, cap, total - ihl, depth, s);
}

static int ipv6_layer(const uint8_t *p, size_t n, uint32_t depth, tcps_segment *s)
{
    if (n < 40 || (p[0] >> 4) != 6)
        return 0;
    size_t plen = be16(p + 4), off = 40;
    int nh = p[6];
    if (plen == 0)
        plen = n - 40; /* jumbogram or offload: the length as captured */
    for (int k = 0; k < 8 && (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51); k++) {
        if (off + 8 > n)
            return 0;
        size_t hl = nh == 44 ? 8 : nh == 51 ? ((size_t)p[off + 1] + 2) * 4
                                            : ((size_t)p[off + 1] + 1) * 8;
        if (nh == 44 && (be16(p + off + 2) & 0xfff8) != 0)
            return 0; /* not the first fragment */
        if (hl > plen)
            return 0;
        nh = p[off];
        off += hl;
        plen -= hl;
    }
    if (off > n)
        return 0;
    s->family = 6;
    memcpy(s->src, p + 8, 16);
    memcpy(s->dst, p + 24, 16);
    size_t cap = n - off < plen ? n - off : plen;
    return ip_payload(nh, p + off, cap, plen, depth, s);
}

/* The first TCP layer in an IP packet (et: its ethertype): 1 and *s, else 0. */
static int ip_layer(uint16_t et, const uint8_t *p, size_t n, uint32_t depth, tcps_segment *s)
{
    if (depth > MAX_DEPTH)
        return 0;
    s->zone = depth;
    if (et == ET_IPV4)
        return ipv4_layer(p, n, depth, s);
    if (et == ET_IPV6)
        return ipv6_layer(p, n, depth, s);
    return 0;
}

/* ---- the public part ---- */

int pcapread_next(pcapread *r, tcps_segment *seg)
{
    if (!r || r->err[0])
        return -1;
    for (;;) {
        packet pk = {0, 0, NULL, 0};
        int rc = r->ng ? ng_next(r, &pk) : pcap_next(r, &pk);
        if (rc <= 0)
            return rc;
        r->frames++;
        size_t off;
        uint16_t et = link_layer(pk.linktype, pk.p, pk.n, &off);
        memset(seg, 0, sizeof(*seg));
        if (et && off <= pk.n && ip_layer(et, pk.p + off, pk.n - off, 0, seg)) {
            seg->time_ns = pk.time_ns;
            seg->frame = r->frames;
            return 1;
        }
    }
}

const char *pcapread_error(const pcapread *r)
{
    return r ? r->err : "no capture";
}

uint32_t pcapread_frames(const pcapread *r)
{
    return r ? r->frames : 0;
}

void pcapread_close(pcapread *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->path);
    free(r->buf);
    free(r->ifs);
    free(r);
}
