/* tcps_dump.c: everything the tracker answers, as text, to prove that two
 * builds of the tracker (a refactoring and its original, the fast path on and
 * off) behave the same byte for byte. Uses only the public API of
 * tracker/tcpstate.h as it was at commit 7b9b79c.
 *
 * usage: tcps_dump [--segments] [--passes LIST] INPUT...
 *   FILE_OR_DIR      a pcap or pcapng file, or a folder of them (searched
 *                    recursively in name order; files that are not captures
 *                    are skipped there)
 *   --fuzz           the paths that follow are fuzz inputs (the format of
 *                    tests/fuzz/fuzz_decode.h, every record: no 4096 limit as
 *                    in the fuzz target); a folder: each regular file
 *   --pcap           the paths that follow are captures again (the default)
 *   --random N SEED  N random segments in the fuzz format (dump_random.h)
 *   --segments       also print each segment fed ("s" lines)
 *   --passes LIST    only these passes, comma-separated (default: all)
 *
 * Each input is fed in passes, one tracker each, with the configurations
 * default, client and server (vantage), tw60s and tw1ms (TIME_WAIT timer),
 * nomid (midstream off), nohs (hindsight off), and for fuzz inputs header
 * (the configuration of the input's header byte 0). A pass prints:
 *   r  for each segment: index, frame, tcps_process()'s return value and every
 *      field of the record (the record is filled with 0xa5 before the call)
 *   lh, lc  live queries of a fuzz input, right after the record: the
 *      current frame's hindsight (header query bit 1, or record mode bit 7)
 *      and tcps_conn_get() of connection seq % (count + 1) at the segment's
 *      time (mode bit 7)
 *   n  tcps_conn_count() and tcps_time_wait_ns()
 *   c  tcps_conn_get() of every connection and of the one past the last, at
 *      now_ns 0; then h; then c again at the last segment's time and 10^15 ns
 *      (11.6 days) after it
 *   h  tcps_hindsight() of every (conn_id, frame) a record named, in record
 *      order, then of frame 1 of conn_id 0 and count + 1, and for each
 *      connection the frames before its first, after its last, and 2^32 - 1
 *      (before/after filled with 0xee before the call)
 * The dump starts with the names, severities and ranks the tracker gives and
 * ends with "== end"; an input that cannot be read gives a "!!" line (and a
 * message on stderr) after what could be read of it. Exit status 0, 1 if an
 * input could not be read (entirely), 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump_out.h"
#include "dump_random.h"
#include "fuzz_decode.h"
#include "pcapread.h"
#include "tcpstate.h"

enum { IN_CAPTURE, IN_FUZZ };
enum { LIVE_HS = 1, LIVE_CONN = 2 };
enum { NPASS = 8, PASS_HEADER = 7 };

static const char *const pass_name[NPASS] = {"default", "client", "server", "tw60s",
                                             "tw1ms",   "nomid",  "nohs",   "header"};

typedef struct input {
    const char *name;
    int kind;
    tcps_segment *segs; /* a capture's segments */
    size_t nsegs;
    uint8_t *bytes;     /* a fuzz input */
    size_t size;
    char err[700];      /* why the input could not be read (entirely) */
} input;

typedef struct cursor {
    const input *in;
    size_t i;
    fuzz_decoder dec;
} cursor;

typedef struct pair {
    uint32_t id, frame;
} pair;

typedef struct dump {
    dump_out o;
    int segments;      /* --segments */
    unsigned passes;   /* bit k: pass k runs */
    pair *pairs;       /* (conn_id, frame) named by the records of a pass */
    size_t npairs, cap;
    size_t inputs, errors;
} dump;

/* ---- inputs ---- */

static int cur_next(cursor *c, tcps_segment *s, unsigned *live)
{
    const input *in = c->in;
    *live = 0;
    if (in->kind == IN_CAPTURE) {
        if (c->i == in->nsegs)
            return 0;
        *s = in->segs[c->i++];
        return 1;
    }
    if (in->size < FUZZ_HDR || c->i >= (in->size - FUZZ_HDR) / FUZZ_REC)
        return 0;
    const uint8_t *p = in->bytes + FUZZ_HDR + c->i++ * FUZZ_REC;
    fuzz_decode_next(&c->dec, p, s);
    if ((in->bytes[1] & FUZZ_Q_HINDSIGHT_LIVE) || (p[1] & FUZZ_M_CONN_NOW))
        *live |= LIVE_HS;
    if (p[1] & FUZZ_M_CONN_NOW)
        *live |= LIVE_CONN;
    return 1;
}

static void cur_start(cursor *c, const input *in)
{
    c->in = in;
    c->i = 0;
    if (in->kind == IN_FUZZ && in->size >= FUZZ_HDR)
        fuzz_decode_start(&c->dec, in->bytes);
}

static int load_capture(input *in, const char *path)
{
    pcapread *r = pcapread_open(path, in->err, sizeof(in->err));
    if (!r)
        return -1;
    size_t cap = 0;
    tcps_segment s;
    int rc;
    while ((rc = pcapread_next(r, &s)) == 1) {
        if (in->nsegs == cap) {
            cap = cap ? cap * 2 : 1024;
            tcps_segment *ns = realloc(in->segs, cap * sizeof(*ns));
            if (!ns) {
                snprintf(in->err, sizeof(in->err), "%s: out of memory", path);
                break;
            }
            in->segs = ns;
        }
        in->segs[in->nsegs++] = s;
    }
    if (rc < 0)
        snprintf(in->err, sizeof(in->err), "%s", pcapread_error(r));
    pcapread_close(r);
    return in->err[0] ? -1 : 0;
}

static int load_file(input *in, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(in->err, sizeof(in->err), "%s: cannot open", path);
        return -1;
    }
    size_t cap = 4096;
    in->bytes = malloc(cap);
    while (in->bytes) {
        in->size += fread(in->bytes + in->size, 1, cap - in->size, f);
        if (in->size < cap)
            break;
        uint8_t *nb = realloc(in->bytes, cap * 2);
        if (!nb) {
            free(in->bytes);
            in->bytes = NULL;
            break;
        }
        in->bytes = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!in->bytes || bad)
        snprintf(in->err, sizeof(in->err), "%s: read error", path);
    else if (in->size < FUZZ_HDR)
        snprintf(in->err, sizeof(in->err), "%s: %zu bytes, shorter than the fuzz header",
                 path, in->size);
    return in->err[0] ? -1 : 0;
}

/* ---- one pass ---- */

static void put_pair(dump_out *o, const uint8_t v[2])
{
    out_u(o, v[0]);
    out_u(o, v[1]);
}

static void put_segment(dump_out *o, size_t i, const tcps_segment *s)
{
    size_t n = s->family == 6 ? 16 : 4;
    out_char(o, 's');
    out_u(o, i);
    out_u(o, s->frame);
    out_u(o, s->family);
    out_bytes(o, s->src, n);
    out_bytes(o, s->dst, n);
    out_u(o, s->sport);
    out_u(o, s->dport);
    out_u(o, s->zone);
    out_x(o, s->flags);
    out_u(o, s->seq);
    out_u(o, s->ack);
    out_u(o, s->len);
    out_u(o, s->win);
    out_i(o, s->wscale);
    out_u(o, s->time_ns);
    out_char(o, '\n');
}

static void put_record(dump_out *o, size_t i, const tcps_segment *s, int ret,
                       const tcps_record *r)
{
    out_char(o, 'r');
    out_u(o, i);
    out_u(o, s->frame);
    out_i(o, ret);
    out_x(o, r->events);
    out_u(o, r->conn_id);
    out_u(o, r->entered[0]);
    out_u(o, r->entered[1]);
    put_pair(o, r->before);
    put_pair(o, r->after);
    put_pair(o, r->cert_before);
    put_pair(o, r->cert);
    put_pair(o, r->ended_before);
    put_pair(o, r->ended);
    out_u(o, r->sender);
    out_u(o, r->roles_assumed);
    out_char(o, '\n');
}

/* A "c" (or "lc") line: tcps_conn_get(t, i, now). */
static void put_conn(dump_out *o, const char *tag, tcps_tracker *t, size_t i, uint64_t now)
{
    tcps_conn_info ci;
    memset(&ci, 0xa5, sizeof(ci));
    int ret = tcps_conn_get(t, i, now, &ci);
    out_str(o, tag);
    out_u(o, now);
    out_u(o, i);
    out_i(o, ret);
    out_u(o, ci.conn_id);
    out_u(o, ci.family);
    out_bytes(o, ci.addr[0], 16);
    out_bytes(o, ci.addr[1], 16);
    out_u(o, ci.port[0]);
    out_u(o, ci.port[1]);
    out_u(o, ci.zone);
    put_pair(o, ci.state);
    put_pair(o, ci.cert);
    out_u(o, ci.entered[0]);
    out_u(o, ci.entered[1]);
    out_u(o, ci.entered_ns[0]);
    out_u(o, ci.entered_ns[1]);
    out_x(o, ci.events);
    out_u(o, ci.first_frame);
    out_u(o, ci.last_frame);
    out_u(o, ci.roles_assumed);
    out_char(o, '\n');
}

/* An "h" (or "lh") line: tcps_hindsight(t, id, frame). */
static void put_hindsight(dump_out *o, const char *tag, tcps_tracker *t, uint32_t id,
                          uint32_t frame)
{
    uint8_t b[2] = {0xee, 0xee}, a[2] = {0xee, 0xee};
    int ret = tcps_hindsight(t, id, frame, b, a);
    out_str(o, tag);
    out_u(o, id);
    out_u(o, frame);
    out_i(o, ret);
    put_pair(o, b);
    put_pair(o, a);
    out_char(o, '\n');
}

static void add_pair(dump *d, uint32_t id, uint32_t frame)
{
    if (d->npairs && d->pairs[d->npairs - 1].id == id && d->pairs[d->npairs - 1].frame == frame)
        return; /* a second TCP layer of the same frame: the same question */
    if (d->npairs == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4096;
        pair *np = realloc(d->pairs, cap * sizeof(*np));
        if (!np)
            return; /* both builds would run out alike; nothing to compare then */
        d->pairs = np;
        d->cap = cap;
    }
    d->pairs[d->npairs++] = (pair){id, frame};
}

/* The queries after the last segment. */
static void pass_end(dump *d, tcps_tracker *t, uint64_t last_ns)
{
    dump_out *o = &d->o;
    size_t n = tcps_conn_count(t);
    out_char(o, 'n');
    out_u(o, n);
    out_u(o, tcps_time_wait_ns(t));
    out_char(o, '\n');
    for (size_t i = 0; i <= n; i++)
        put_conn(o, "c", t, i, 0);
    for (size_t k = 0; k < d->npairs; k++)
        put_hindsight(o, "h", t, d->pairs[k].id, d->pairs[k].frame);
    put_hindsight(o, "h", t, 0, 1);
    put_hindsight(o, "h", t, (uint32_t)n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        tcps_conn_info ci;
        if (!tcps_conn_get(t, i, 0, &ci))
            continue;
        put_hindsight(o, "h", t, ci.conn_id, ci.first_frame - 1);
        put_hindsight(o, "h", t, ci.conn_id, ci.last_frame + 1);
        put_hindsight(o, "h", t, ci.conn_id, UINT32_MAX);
    }
    for (size_t i = 0; i <= n; i++)
        put_conn(o, "c", t, i, last_ns);
    for (size_t i = 0; i <= n; i++)
        put_conn(o, "c", t, i, last_ns + UINT64_C(1000000000000000));
}

static void pass_config(int k, const input *in, tcps_config *cfg)
{
    tcps_config_init(cfg);
    switch (k) {
    case 1: cfg->vantage = TCPS_VANTAGE_CLIENT; break;
    case 2: cfg->vantage = TCPS_VANTAGE_SERVER; break;
    case 3: cfg->time_wait_ns = UINT64_C(60000000000); break;
    case 4: cfg->time_wait_ns = UINT64_C(1000000); break;
    case 5: cfg->midstream = 0; break;
    case 6: cfg->hindsight = 0; break;
    case PASS_HEADER: fuzz_config(in->bytes, cfg); break;
    default: break;
    }
}

static void run_pass(dump *d, const input *in, int k)
{
    dump_out *o = &d->o;
    tcps_config cfg;
    pass_config(k, in, &cfg);
    out_fmt(o, "== pass %s time_wait_ns %llu midstream %d vantage %d hindsight %d\n",
            pass_name[k], (unsigned long long)cfg.time_wait_ns, cfg.midstream,
            (int)cfg.vantage, cfg.hindsight);
    tcps_tracker *t = tcps_new(&cfg);
    if (!t) {
        out_str(o, "!! tcps_new: out of memory\n");
        return;
    }
    cursor c;
    cur_start(&c, in);
    tcps_segment s;
    unsigned live;
    uint64_t last_ns = 0;
    d->npairs = 0;
    for (size_t i = 0; cur_next(&c, &s, &live); i++) {
        tcps_record r;
        memset(&r, 0xa5, sizeof(r));
        int ret = tcps_process(t, &s, &r);
        if (d->segments)
            put_segment(o, i, &s);
        put_record(o, i, &s, ret, &r);
        if (ret && r.conn_id)
            add_pair(d, r.conn_id, s.frame);
        if ((live & LIVE_HS) && ret && r.conn_id)
            put_hindsight(o, "lh", t, r.conn_id, s.frame);
        if (live & LIVE_CONN)
            put_conn(o, "lc", t, (size_t)(s.seq % (tcps_conn_count(t) + 1)), s.time_ns);
        last_ns = s.time_ns;
    }
    pass_end(d, t, last_ns);
    tcps_free(t);
}

/* ---- the inputs, one by one ---- */

static void run_input(dump *d, input *in)
{
    dump_out *o = &d->o;
    d->inputs++;
    out_fmt(o, "== input %s (%s)\n", in->name, in->kind == IN_FUZZ ? "fuzz" : "capture");
    if (in->err[0]) {
        out_fmt(o, "!! %s\n", in->err);
        fprintf(stderr, "tcps_dump: %s\n", in->err);
        d->errors++;
    }
    if (in->kind == IN_FUZZ && in->size < FUZZ_HDR)
        return;
    for (int k = 0; k < NPASS; k++)
        if ((d->passes >> k & 1) && (k != PASS_HEADER || in->kind == IN_FUZZ))
            run_pass(d, in, k);
    out_flush(o);
}

static void run_path(dump *d, const char *path, int kind)
{
    input in;
    memset(&in, 0, sizeof(in));
    in.name = path;
    in.kind = kind;
    if (kind == IN_CAPTURE)
        load_capture(&in, path);
    else
        load_file(&in, path);
    run_input(d, &in);
    free(in.segs);
    free(in.bytes);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_tree(dump *d, const char *path, int kind, int top);

/* A folder's entries in name order (hidden ones left out). */
static void run_dir(dump *d, const char *dir, int kind)
{
    DIR *dh = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn)
                break;
            names = nn;
        }
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        if ((names[n] = malloc(l)) == NULL)
            break;
        snprintf(names[n++], l, "%s/%s", dir, e->d_name);
    }
    if (dh)
        closedir(dh);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        run_tree(d, names[i], kind, 0);
        free(names[i]);
    }
    free(names);
}

static void run_tree(dump *d, const char *path, int kind, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        out_fmt(&d->o, "== input %s\n!! %s: cannot stat\n", path, path);
        fprintf(stderr, "tcps_dump: %s: cannot stat\n", path);
        d->errors++;
    } else if (S_ISDIR(st.st_mode)) {
        run_dir(d, path, kind);
    } else if (S_ISREG(st.st_mode) || top) {
        if (top || kind == IN_FUZZ || pcapread_probe(path))
            run_path(d, path, kind);
    }
}

static void run_random(dump *d, const char *n_arg, const char *seed_arg)
{
    char name[128];
    input in;
    memset(&in, 0, sizeof(in));
    uint64_t n = strtoull(n_arg, NULL, 10), seed = strtoull(seed_arg, NULL, 10);
    snprintf(name, sizeof(name), "random:%llu:%llu", (unsigned long long)n,
             (unsigned long long)seed);
    in.name = name;
    in.kind = IN_FUZZ;
    in.bytes = random_input(n, seed, &in.size);
    if (!in.bytes)
        snprintf(in.err, sizeof(in.err), "%s: out of memory", name);
    run_input(d, &in);
    free(in.bytes);
}

/* ---- the names, and main ---- */

static void put_names(dump_out *o)
{
    out_str(o, "== names\n");
    for (int i = -1; i <= TCPS_STATE_COUNT; i++) {
        out_fmt(o, "state %d %s", i, tcps_state_name(i));
        out_i(o, tcps_state_rank(i, 0));
        out_i(o, tcps_state_rank(i, 1));
        out_char(o, '\n');
    }
    for (int i = -1; i <= TCPS_CERT_COUNT; i++)
        out_fmt(o, "certainty %d %s\n", i, tcps_certainty_name(i));
    for (int i = -1; i <= TCPS_EVENT_COUNT; i++)
        out_fmt(o, "event %d %s %d %s\n", i, tcps_event_name(i), tcps_event_severity(i),
                tcps_event_description(i));
}

/* Bits of the passes named in a comma-separated list; 0 if one is unknown. */
static unsigned parse_passes(const char *list)
{
    unsigned bits = 0;
    while (*list) {
        size_t l = strcspn(list, ",");
        int k = 0;
        while (k < NPASS && (strlen(pass_name[k]) != l || strncmp(pass_name[k], list, l) != 0))
            k++;
        if (k == NPASS)
            return 0;
        bits |= 1u << k;
        list += l + (list[l] == ',');
    }
    return bits;
}

static int usage(void)
{
    fprintf(stderr, "usage: tcps_dump [--segments] [--passes LIST] "
                    "[FILE_OR_DIR | --fuzz | --pcap | --random N SEED]...\n");
    return 2;
}

int main(int argc, char **argv)
{
    static dump d;
    int kind = IN_CAPTURE, i = 1;
    d.passes = (1u << NPASS) - 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--segments"))
            d.segments = 1;
        else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
            d.passes = parse_passes(argv[++i]);
        else
            break;
    }
    if (i == argc || !d.passes)
        return usage();
    out_init(&d.o, stdout);
    put_names(&d.o);
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--fuzz")) {
            kind = IN_FUZZ;
        } else if (!strcmp(argv[i], "--pcap")) {
            kind = IN_CAPTURE;
        } else if (!strcmp(argv[i], "--random") && i + 2 < argc) {
            run_random(&d, argv[i + 1], argv[i + 2]);
            i += 2;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return usage();
        } else {
            run_tree(&d, argv[i], kind, 1);
        }
    }
    out_fmt(&d.o, "== end: %zu inputs, %zu unreadable\n", d.inputs, d.errors);
    out_flush(&d.o);
    free(d.pairs);
    if (d.o.failed) {
        fprintf(stderr, "tcps_dump: write error\n");
        return 1;
    }
    return d.errors ? 1 : 0;
}
