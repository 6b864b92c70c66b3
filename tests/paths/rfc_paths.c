/* rfc_paths: every state change the tracker shows on real captures is a path
 * of RFC 9293's state diagram (issue #14, "only legal changes").
 *
 * usage: rfc_paths CAPTURE_OR_FOLDER...
 *
 * Feeds each capture (pcap or pcapng, via ../common/pcapread.c) to the
 * tracker under three configurations (vantage unknown, client, server), then
 * checks, per connection and endpoint:
 *   causal: each record against ../unit/invariants.c (within a frame and
 *     between frames, a path of the diagram; between frames a revised sender
 *     excepted: the record says the previous state was wrong);
 *   hindsight: tcps_hindsight() of every frame of the connection, in frame
 *     order: before -> after, and one frame's after -> the next one's before.
 * The diagram is the one written from the RFC in invariants.c. Prints every
 * illegal change with its capture, configuration, frame and states, then
 *   rfc_paths: N captures, N frames, N illegal changes
 * and exits 1 if there was one (2 when a capture cannot be read).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "invariants.h"
#include "pcapread.h"
#include "tcpstate.h"

typedef struct {
    uint32_t conn, frame;
} frame_ref;

typedef struct {
    unsigned long captures, frames, illegal, unreadable;
} totals;

static const char *const config_names[] = {"unknown", "client", "server"};

static void report(totals *n, const char *path, int cfg, const char *what, uint32_t frame,
                   uint32_t conn, int who, int a, int b)
{
    n->illegal++;
    printf("%s [vantage %s] frame %u conn %u %s: %s: %s -> %s\n", path, config_names[cfg], frame,
           conn, who ? "server" : "client", what, tcps_state_name(a), tcps_state_name(b));
}

/* Hindsight of every (connection, frame) in refs (sorted by connection, then
 * frame), checked within and between frames. Ended flags are not part of
 * hindsight: an end is taken where CLOSED is (LISTEN, as it may stay). */
static void check_hindsight(tcps_tracker *t, const frame_ref *refs, size_t n, totals *tot,
                            const char *path, int cfg)
{
    uint8_t last[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        uint8_t b[2], a[2];
        int first = i == 0 || refs[i].conn != refs[i - 1].conn;
        if (tcps_hindsight(t, refs[i].conn, refs[i].frame, b, a) != 1)
            continue; /* 2: the causal record, checked as such; 0: unknown */
        for (int k = 0; k < 2; k++) {
            if (!inv_path(b[k], 0, a[k], a[k] == TCPS_CLOSED && b[k] != TCPS_CLOSED))
                report(tot, path, cfg, "hindsight within a frame", refs[i].frame, refs[i].conn,
                       k, b[k], a[k]);
            if (!first && !inv_path(last[k], 0, b[k], b[k] == TCPS_CLOSED && last[k] != TCPS_CLOSED))
                report(tot, path, cfg, "hindsight between frames", refs[i].frame, refs[i].conn,
                       k, last[k], b[k]);
            last[k] = a[k];
        }
    }
}

static int by_conn(const void *x, const void *y)
{
    const frame_ref *a = x, *b = y;
    if (a->conn != b->conn)
        return a->conn < b->conn ? -1 : 1;
    return a->frame < b->frame ? -1 : a->frame > b->frame;
}

/* One capture under one configuration. */
static void check_capture(const char *path, int cfg, totals *tot)
{
    char err[256];
    pcapread *r = pcapread_open(path, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "rfc_paths: %s\n", err);
        tot->unreadable++;
        return;
    }
    tcps_config c;
    tcps_config_init(&c);
    c.vantage = (tcps_vantage)cfg;
    tcps_tracker *t = tcps_new(&c);
    inv_state *inv = inv_new();
    frame_ref *refs = NULL;
    size_t n = 0, cap = 0;
    tcps_segment seg;
    tcps_record rec;
    int got;
    while (t && inv && (got = pcapread_next(r, &seg)) > 0) {
        tot->frames += cfg == 0;
        if (!tcps_process(t, &seg, &rec))
            continue;
        const char *msg = inv_check(inv, &rec);
        if (msg) {
            tot->illegal++;
            printf("%s [vantage %s] frame %u conn %u: %s: client %s -> %s, server %s -> %s\n",
                   path, config_names[cfg], seg.frame, rec.conn_id, msg,
                   tcps_state_name(rec.before[0]), tcps_state_name(rec.after[0]),
                   tcps_state_name(rec.before[1]), tcps_state_name(rec.after[1]));
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            frame_ref *m = realloc(refs, cap * sizeof(*refs));
            if (!m)
                break;
            refs = m;
        }
        refs[n++] = (frame_ref){rec.conn_id, seg.frame};
    }
    qsort(refs, n, sizeof(*refs), by_conn);
    if (t)
        check_hindsight(t, refs, n, tot, path, cfg);
    free(refs);
    inv_free(inv);
    tcps_free(t);
    pcapread_close(r);
}

static void check_path(const char *path, totals *tot)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct dirent **names;
        int k = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < k; i++) {
            if (names[i]->d_name[0] != '.') {
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
                check_path(sub, tot);
            }
            free(names[i]);
        }
        free(k >= 0 ? names : NULL);
        return;
    }
    if (!pcapread_probe(path))
        return; /* truth files, manifests */
    tot->captures++;
    for (int cfg = 0; cfg < 3; cfg++)
        check_capture(path, cfg, tot);
}

int main(int argc, char **argv)
{
    totals tot = {0, 0, 0, 0};
    if (argc < 2) {
        fprintf(stderr, "usage: rfc_paths CAPTURE_OR_FOLDER...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        check_path(argv[i], &tot);
    printf("rfc_paths: %lu captures, %lu frames, %lu illegal changes\n", tot.captures, tot.frames,
           tot.illegal);
    if (tot.unreadable || tot.captures == 0)
        return 2;
    return tot.illegal ? 1 : 0;
}
