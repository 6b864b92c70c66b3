/* Perturbations of every scenario: each segment dropped, duplicated, or
 * swapped with its neighbour, then seeded random combinations of these. The
 * tracker must keep its invariants (no state backwards, LAST_ACK only after
 * CLOSE_WAIT, TIME_WAIT only for an active closer, a receiver's new state
 * never "observed") on every record. ctest runs one scenario a test
 * (unit.perturb.NAME, tests/unit/CMakeLists.txt). */
#include <stdio.h>
#include <string.h>

#include "invariants.h"
#include "scenarios.h"
#include "tcpstate.h"

/* Rank of a hindsight state for endpoint history h (CLOSED or LISTEN after
 * progress is the end). */
static int hs_rank(int state, int *progressed)
{
    int r = tcps_state_rank(state, *progressed && (state == TCPS_CLOSED || state == TCPS_LISTEN));
    if (r >= 2)
        *progressed = 1;
    return r;
}

/* Hindsight over every frame: known, in range, never backwards. */
static const char *check_hindsight(tcps_tracker *t, const uint32_t *ids, const tcps_record *recs,
                                   int n)
{
    int last[2] = {0, 0}, progressed[2] = {0, 0};
    uint32_t conn = 0;
    for (int i = 0; i < n; i++) {
        if (!ids[i])
            continue;
        uint8_t b[2], a[2];
        int known = tcps_hindsight(t, ids[i], (uint32_t)i + 1, b, a);
        if (!known)
            return "hindsight unknown for a tracked frame";
        if (known == 2) { /* no evidence: the causal record */
            memcpy(b, recs[i].before, 2);
            memcpy(a, recs[i].after, 2);
        }
        if (ids[i] != conn) {
            conn = ids[i];
            last[0] = last[1] = 0;
            progressed[0] = progressed[1] = 0;
            continue; /* frames of several connections interleave only on reuse */
        }
        for (int k = 0; k < 2; k++) {
            if (b[k] >= TCPS_STATE_COUNT || a[k] >= TCPS_STATE_COUNT)
                return "hindsight state out of range";
            int rb = hs_rank(b[k], &progressed[k]), ra = hs_rank(a[k], &progressed[k]);
            if (rb < last[k] || ra < rb)
                return "hindsight state moved backwards";
            last[k] = ra;
        }
    }
    return NULL;
}

static int run(const scenario *sc, const step *steps, int n, const char *what)
{
    tcps_config cfg;
    scenario_config(sc, &cfg);
    tcps_tracker *t = tcps_new(&cfg);
    inv_state *inv = inv_new();
    int bad = 0;
    uint32_t ids[MAX_STEPS * 2] = {0};
    static tcps_record recs[MAX_STEPS * 2];
    for (int i = 0; i < n && !bad; i++) {
        tcps_segment seg = steps[i].seg;
        seg.frame = (uint32_t)i + 1;
        tcps_record r;
        if (!tcps_process(t, &seg, &r))
            continue;
        ids[i] = r.conn_id;
        recs[i] = r;
        const char *msg = inv_check(inv, &r);
        if (msg) {
            fprintf(stderr, "  %s (%s) frame %d: %s [client %s->%s, server %s->%s]\n", sc->name,
                    what, i + 1, msg, tcps_state_name(r.before[0]), tcps_state_name(r.after[0]),
                    tcps_state_name(r.before[1]), tcps_state_name(r.after[1]));
            bad = 1;
        }
    }
    const char *msg = bad ? NULL : check_hindsight(t, ids, recs, n);
    if (msg) {
        fprintf(stderr, "  %s (%s): %s\n", sc->name, what, msg);
        for (int i = 0; i < n; i++) { /* the stream, for the reader */
            uint8_t b[2] = {0, 0}, a[2] = {0, 0};
            tcps_hindsight(t, ids[i], (uint32_t)i + 1, b, a);
            fprintf(stderr, "    %2d %s flags=%02x seq=%u ack=%u len=%u conn=%u hindsight %s/%s -> %s/%s\n",
                    i + 1, steps[i].seg.sport == 80 ? "s" : "c", steps[i].seg.flags,
                    steps[i].seg.seq, steps[i].seg.ack, steps[i].seg.len, ids[i],
                    tcps_state_name(b[0]), tcps_state_name(b[1]), tcps_state_name(a[0]),
                    tcps_state_name(a[1]));
        }
        bad = 1;
    }
    inv_free(inv);
    tcps_free(t);
    return bad;
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Each segment dropped, duplicated, and swapped with the next one. */
static int perturb_each(const scenario *sc, const step *in, int n)
{
    static step out[MAX_STEPS * 2];
    char what[64];
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int m = 0; /* drop i */
        for (int j = 0; j < n; j++)
            if (j != i)
                out[m++] = in[j];
        snprintf(what, sizeof(what), "drop %d", i + 1);
        bad |= run(sc, out, m, what);
        m = 0; /* duplicate i */
        for (int j = 0; j < n; j++) {
            out[m++] = in[j];
            if (j == i)
                out[m++] = in[j];
        }
        snprintf(what, sizeof(what), "duplicate %d", i + 1);
        bad |= run(sc, out, m, what);
        if (i + 1 < n) { /* swap i, i+1 */
            memcpy(out, in, (size_t)n * sizeof(step));
            out[i] = in[i + 1];
            out[i + 1] = in[i];
            snprintf(what, sizeof(what), "swap %d,%d", i + 1, i + 2);
            bad |= run(sc, out, n, what);
        }
    }
    return bad;
}

/* 200 random combinations of drops, duplications and swaps. One generator serves every
 * scenario in table order, so it is drawn from for every scenario, run or not (execute 0):
 * a scenario gets the same combinations alone as with all the others. */
static int perturb_random(const scenario *sc, const step *in, int n, int execute)
{
    static step out[MAX_STEPS * 2];
    char what[64];
    int bad = 0;
    for (int round = 0; round < 200; round++) {
        int m = 0;
        for (int j = 0; j < n && m < MAX_STEPS * 2 - 1; j++) {
            uint32_t d = rng() % 8;
            if (d == 0)
                continue;
            out[m++] = in[j];
            if (d == 1)
                out[m++] = in[j];
            if (d == 2 && m >= 2) {
                step tmp = out[m - 1];
                out[m - 1] = out[m - 2];
                out[m - 2] = tmp;
            }
        }
        if (!execute)
            continue;
        snprintf(what, sizeof(what), "random round %d", round);
        bad |= run(sc, out, m, what);
    }
    return bad;
}

/* test_perturb          every scenario
 * test_perturb NAME     one scenario (a ctest each: unit.perturb.NAME) */
int main(int argc, char **argv)
{
    const char *only = argc == 2 ? argv[1] : NULL;
    int passed = 0, failed = 0, found = 0;
    static step in[MAX_STEPS];
    if (argc > 2 || (only && only[0] == '-')) {
        fprintf(stderr, "usage: test_perturb [NAME]\n");
        return 2;
    }
    for (size_t k = 0; k < n_scenarios; k++) {
        const scenario *sc = &scenarios[k];
        int selected = !only || strcmp(sc->name, only) == 0;
        char err[256];
        found += selected;
        int n = scenario_parse(sc, in, MAX_STEPS, err, sizeof(err));
        if (n < 0) {
            if (selected) {
                fprintf(stderr, "%s: %s\n", sc->name, err);
                failed++;
            }
            continue;
        }
        int bad = 0;
        if (selected) {
            bad = run(sc, in, n, "as written");
            bad |= perturb_each(sc, in, n);
        }
        bad |= perturb_random(sc, in, n, selected);
        if (!selected)
            continue;
        printf("%s %s\n", bad ? "FAIL" : "ok  ", sc->name);
        bad ? failed++ : passed++;
    }
    if (!found) {
        fprintf(stderr, "unknown scenario %s\n", only);
        return 1;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
