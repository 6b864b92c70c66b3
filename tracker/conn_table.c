/* conn_table.c: the connection table. The tracker's memory (connections in
 * fixed chunks, IPv6 address pairs beside them), the tuple hash that finds a
 * segment's connection from either direction, new connections, and the side
 * maps keyed by a connection's index for what few connections need. */
#include "tcps_internal.h"

static size_t tcps__map_home(uint32_t key, size_t n)
{
    return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 32) & (n - 1);
}

/* Grows a side map (t->xs, t->afters): open addressing over *n slots of size
 * bytes whose first member is a uint32_t key, 0 = empty. Returns the slots
 * rehashed into twice as many (64 at first) and updates *n, or NULL when out
 * of memory (the map is then as it was). */
static void *tcps__map_grow(void *slots, size_t *n, size_t size)
{
    size_t m = *n ? *n * 2 : 64;
    char *fresh = calloc(m, size);
    if (!fresh)
        return NULL;
    for (size_t i = 0; i < *n; i++) {
        const char *slot = (const char *)slots + i * size;
        uint32_t key, taken;
        memcpy(&key, slot, sizeof(key));
        if (!key)
            continue;
        size_t k = tcps__map_home(key, m);
        while (memcpy(&taken, fresh + k * size, sizeof(taken)), taken)
            k = (k + 1) & (m - 1);
        memcpy(fresh + k * size, slot, size);
    }
    free(slots);
    *n = m;
    return fresh;
}

/* The side entry of connection idx, or NULL if it has none. */
tcps__extra *tcps__extra_find(const tcps_tracker *t, uint32_t idx)
{
    if (!t->nxs)
        return NULL;
    for (size_t i = tcps__map_home(idx + 1, t->nxs);; i = (i + 1) & (t->nxs - 1)) {
        if (t->xs[i].key == idx + 1)
            return &t->xs[i];
        if (t->xs[i].key == 0)
            return NULL;
    }
}

/* The side entry of connection idx, made (zeroed) if it has none; NULL when
 * out of memory. Pointers into the map last until the next one is made. */
tcps__extra *tcps__extra_get(tcps_tracker *t, uint32_t idx)
{
    tcps__extra *e = tcps__extra_find(t, idx);
    if (e)
        return e;
    if ((t->xused + 1) * 4 > t->nxs * 3) {
        tcps__extra *xs = tcps__map_grow(t->xs, &t->nxs, sizeof(*xs));
        if (!xs)
            return NULL;
        t->xs = xs;
    }
    size_t i = tcps__map_home(idx + 1, t->nxs);
    while (t->xs[i].key)
        i = (i + 1) & (t->nxs - 1);
    t->xused++;
    t->xs[i].key = idx + 1;
    return &t->xs[i];
}

/* The evidence slot of (idx, sel), or the empty slot where it would go;
 * NULL if the map is empty. */
static tcps__after_ent *tcps__after_slot(const tcps_tracker *t, uint32_t idx, int sel)
{
    if (!t->nafters)
        return NULL;
    for (size_t i = tcps__map_home(idx + 1, t->nafters);; i = (i + 1) & (t->nafters - 1)) {
        tcps__after_ent *e = &t->afters[i];
        if (e->key == 0 || (e->key == idx + 1 && e->sel == sel))
            return e;
    }
}

/* Evidence: endpoint who's SYN or FIN (what) reached its peer after frame
 * (0: at once). Out of memory, the connection's hindsight becomes unknown. */
void tcps__set_after(tcps_tracker *t, tcps__conn *c, uint32_t idx, int who, int what,
                            uint32_t frame)
{
    int sel = who << 1 | what;
    tcps__after_ent *e;
    if (!frame) {
        if (c->hs_after && (e = tcps__after_slot(t, idx, sel)) && e->key)
            e->after = 0;
        return;
    }
    if ((t->aused + 1) * 4 > t->nafters * 3) {
        tcps__after_ent *m = tcps__map_grow(t->afters, &t->nafters, sizeof(*m));
        if (!m) {
            c->hs_overflow = 1;
            return;
        }
        t->afters = m;
    }
    e = tcps__after_slot(t, idx, sel);
    if (!e->key) {
        e->key = idx + 1;
        e->sel = (uint8_t)sel;
        t->aused++;
    }
    e->after = frame;
    c->hs_after = 1;
}

/* The evidence of (idx, who, what), as tcps__set_after() left it. */
uint32_t tcps__get_after(const tcps_tracker *t, const tcps__conn *c, uint32_t idx,
                                int who, int what)
{
    const tcps__after_ent *e = c->hs_after ? tcps__after_slot(t, idx, who << 1 | what) : NULL;
    return e && e->key ? e->after : 0;
}

void tcps_config_init(tcps_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->midstream = 1;
    cfg->vantage = TCPS_VANTAGE_UNKNOWN;
    cfg->hindsight = 1;
}

tcps_tracker *tcps_new(const tcps_config *cfg)
{
    tcps_tracker *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (cfg)
        t->cfg = *cfg;
    else
        tcps_config_init(&t->cfg);
    return t;
}

void tcps_free(tcps_tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nxs; i++)
        free(t->xs[i].tl);
    free(t->xs);
    free(t->afters);
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    for (size_t i = 0; i < t->nechunks; i++) {
        free(t->echunks[i]);
        if (t->tchunks)
            free(t->tchunks[i]);
    }
    free(t->tchunks);
    free(t->chunks);
    free(t->echunks);
    free(t->slots);
    free(t->recent);
    free(t->v6);
    free(t);
}

size_t tcps_conn_count(const tcps_tracker *t)
{
    return t ? t->nconns : 0;
}

size_t tcps__addr_len(uint8_t family)
{
    return family == 6 ? 16 : 4;
}

/* One endpoint folded into 64 bits: address words and port. */
static inline uint64_t tcps__end_key(const uint8_t *a, uint8_t family, uint16_t port)
{
    uint32_t w[4];
    if (family != 6) {
        uint32_t v4;
        memcpy(&v4, a, 4);
        return ((uint64_t)v4 << 16) | port;
    }
    memcpy(w, a, 16);
    return ((uint64_t)(w[0] ^ w[1] * 31u ^ w[2] * 961u ^ w[3] * 29791u) << 16) | port;
}

/* Symmetric in the two endpoints: both directions find the connection. Only
 * where a connection sits in the table depends on it, never an outcome. */
static inline uint64_t tcps__hash_keys(uint64_t ka, uint64_t kb, uint8_t family, uint32_t zone)
{
    uint64_t lo = ka < kb ? ka : kb, hi = ka < kb ? kb : ka;
    uint64_t h = (lo * 0x9e3779b97f4a7c15ULL + hi) ^ ((uint64_t)zone << 8 | family);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static inline uint64_t tcps__hash_tuple(const uint8_t *a, uint16_t pa, const uint8_t *b,
                                        uint16_t pb, uint8_t family, uint32_t zone)
{
    return tcps__hash_keys(tcps__end_key(a, family, pa), tcps__end_key(b, family, pb), family,
                           zone);
}

const uint8_t *tcps__addr(const tcps_tracker *t, const tcps__conn *c, int who)
{
    return c->family == 6 ? t->v6[c->a[0]][who] : (const uint8_t *)&c->a[who];
}

/* Which end of c sent s: TCPS_CLIENT, TCPS_SERVER, or -1 if s is not c's. */
static inline int tcps__match(const tcps_tracker *t, const tcps__conn *c, const tcps_segment *s)
{
    if (c->family != s->family || c->zone != s->zone)
        return -1;
    if (s->family == 4) {
        uint32_t src, dst;
        memcpy(&src, s->src, 4);
        memcpy(&dst, s->dst, 4);
        if (c->port[0] == s->sport && c->port[1] == s->dport && c->a[0] == src && c->a[1] == dst)
            return 0;
        if (c->port[1] == s->sport && c->port[0] == s->dport && c->a[1] == src && c->a[0] == dst)
            return 1;
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (c->port[i] == s->sport && c->port[!i] == s->dport &&
            memcmp(tcps__addr(t, c, i), s->src, 16) == 0 &&
            memcmp(tcps__addr(t, c, !i), s->dst, 16) == 0)
            return i;
    }
    return -1;
}

/* The slot of s's connection (h: its tcps__hash_seg()), or the empty slot
 * where it would go; *sender is tcps__match() of the connection found. A
 * slot keeps the hash's high 32 bits (the tag) beside the index, so other
 * connections are not touched, and the tag alone places it: growing the
 * table reads no connection. */
static TCPS__HOT uint64_t *tcps__find_slot(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                                           int *sender)
{
    if (!t->nslots)
        return NULL;
    size_t mask = t->nslots - 1;
    uint32_t tg = (uint32_t)(h >> 32);
    for (size_t i = (size_t)tg & mask;; i = (i + 1) & mask) {
        uint64_t v = t->slots[i];
        if (v == 0)
            return &t->slots[i];
        if ((uint32_t)(v >> 32) == tg &&
            (*sender = tcps__match(t, tcps__conn_at(t, (uint32_t)v - 1), s)) >= 0)
            return &t->slots[i];
    }
}

uint64_t tcps__hash_seg(const tcps_segment *s)
{
    return tcps__hash_tuple(s->src, s->sport, s->dst, s->dport, s->family, s->zone);
}

#define TCPS__RECENT (1u << 15) /* entries of t->recent: 256 KiB */

/* The slot value (tag << 32 | index + 1) of s's connection, 0 if none;
 * *sender as tcps__match(). */
uint64_t tcps__find(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                                     int *sender)
{
    uint64_t *r = t->recent ? &t->recent[h & (TCPS__RECENT - 1)] : NULL;
    if (r && *r && (uint32_t)(*r >> 32) == (uint32_t)(h >> 32) &&
        (*sender = tcps__match(t, tcps__conn_at(t, (uint32_t)*r - 1), s)) >= 0)
        return *r;
    uint64_t *slot = tcps__find_slot(t, s, h, sender);
    if (!slot || !*slot)
        return 0;
    if (r)
        *r = *slot;
    return *slot;
}

static int tcps__grow_slots(tcps_tracker *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    uint64_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->slots[i])
            continue;
        size_t k = (size_t)(t->slots[i] >> 32) & (n - 1); /* the tag places it */
        while (slots[k])
            k = (k + 1) & (n - 1);
        slots[k] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    if (!t->recent && n >= 4 * TCPS__RECENT)
        t->recent = calloc(TCPS__RECENT, sizeof(*t->recent)); /* NULL: not used */
    return 0;
}

/* The peers of c (zeroed by the caller) before s. */
void tcps__init_peers(tcps__conn *c, const tcps_segment *s, int server_state)
{
    for (int i = 0; i < 2; i++) {
        tcps__peer *p = &c->p[i];
        p->wscale = TCPS__NO_WSCALE;
        p->entered = s->frame;
        p->cert = TCPS_CERT_ASSUMED;
    }
    c->p[TCPS_CLIENT].state = TCPS_CLOSED;
    c->p[TCPS_SERVER].state = (uint8_t)server_state;
}

/* Appends a connection for s with client = sender if sender_is_client;
 * returns its index, or -1 when out of memory. */
long tcps__new_conn(tcps_tracker *t, const tcps_segment *s, uint64_t h,
                           int sender_is_client)
{
    if (t->nconns >= UINT32_MAX - 1)
        return -1;
    if ((t->used + 1) * 4 > t->nslots * 3 && tcps__grow_slots(t) < 0)
        return -1;
    if (t->nconns == t->nchunks * TCPS__CHUNK) {
        tcps__conn **ch = realloc(t->chunks, (t->nchunks + 1) * sizeof(*ch));
        if (!ch)
            return -1;
        t->chunks = ch;
        if (!(ch[t->nchunks] = aligned_alloc(64, TCPS__CHUNK * sizeof(tcps__conn))))
            return -1;
        t->nchunks++;
    }
    int ci = sender_is_client ? 0 : 1;
    uint32_t v6 = 0;
    if (s->family == 6) {
        if (t->nv6 == t->capv6) {
            size_t n = t->capv6 ? t->capv6 * 2 : 64;
            void *nv = realloc(t->v6, n * sizeof(*t->v6));
            if (!nv)
                return -1;
            t->v6 = nv;
            t->capv6 = n;
        }
        v6 = (uint32_t)t->nv6++;
        memcpy(t->v6[v6][ci], s->src, 16);
        memcpy(t->v6[v6][!ci], s->dst, 16);
    }
    int sender;
    uint32_t tag = (uint32_t)(h >> 32);
    uint64_t *slot = tcps__find_slot(t, s, h, &sender);
    if (*slot == 0)
        t->used++;
    long idx = (long)t->nconns++;
    tcps__conn *c = tcps__conn_at(t, (size_t)idx);
    *slot = (uint64_t)tag << 32 | ((uint32_t)idx + 1);
    if (t->recent)
        t->recent[h & (TCPS__RECENT - 1)] = *slot;
    memset(c, 0, sizeof(*c));
    c->family = s->family;
    c->zone = s->zone;
    if (s->family == 6) {
        c->a[0] = v6;
    } else {
        memcpy(&c->a[ci], s->src, 4);
        memcpy(&c->a[!ci], s->dst, 4);
    }
    c->port[ci] = s->sport;
    c->port[!ci] = s->dport;
    c->first_frame = s->frame;
    c->base_ns = s->time_ns;
    tcps__init_peers(c, s, TCPS_LISTEN);
    return idx;
}

