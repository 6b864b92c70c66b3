/* Table-driven transition tests: every scenario of scenarios.c, step by step,
 * against the states, certainties and events RFC 9293 gives. ctest runs one
 * scenario a test (unit.transition.NAME, tests/unit/CMakeLists.txt); usage at main(). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "scenarios.h"
#include "tcpstate.h"

int check_failures;

static void check_events(const char *ctx, uint64_t got, uint64_t want, uint64_t deny)
{
    for (int e = 0; e < TCPS_EVENT_COUNT; e++) {
        uint64_t b = TCPS_EVENT_BIT(e);
        if ((want & b) && !(got & b)) {
            fprintf(stderr, "  %s: event %s missing\n", ctx, tcps_event_name(e));
            check_failures++;
        }
        if ((deny & b) && (got & b)) {
            fprintf(stderr, "  %s: event %s unexpected\n", ctx, tcps_event_name(e));
            check_failures++;
        }
    }
}

static void check_step(const char *ctx, const step *st, int tracked, const tcps_record *r)
{
    static const char *who[2] = {"client", "server"};
    if (st->exp_state[0] == -2 || st->exp_state[1] == -2) {
        CHECK_INT(ctx, "tracked", tracked, 0);
        return;
    }
    CHECK_INT(ctx, "tracked", tracked, 1);
    if (!tracked)
        return;
    for (int i = 0; i < 2; i++) {
        char what[64];
        if (st->exp_state[i] >= 0) {
            snprintf(what, sizeof(what), "%s state", who[i]);
            CHECK_STATE(ctx, what, r->after[i], st->exp_state[i]);
        }
        if (st->exp_cert[i] >= 0 && r->cert[i] != st->exp_cert[i]) {
            fprintf(stderr, "  %s: %s certainty is %s, expected %s\n", ctx, who[i],
                    tcps_certainty_name(r->cert[i]), tcps_certainty_name(st->exp_cert[i]));
            check_failures++;
        }
    }
    if (st->exp_conn)
        CHECK_INT(ctx, "connection id", r->conn_id, st->exp_conn);
    if (st->exp_sender >= 0)
        CHECK_INT(ctx, "sender role (0 client, 1 server)", r->sender, st->exp_sender);
    check_events(ctx, r->events, st->want_ev, st->deny_ev);
}

static int run_scenario(const scenario *sc)
{
    step steps[MAX_STEPS];
    char err[256];
    int n = scenario_parse(sc, steps, MAX_STEPS, err, sizeof(err));
    if (n < 0) {
        fprintf(stderr, "  %s: scenario does not parse: %s\n", sc->name, err);
        return 1;
    }
    tcps_config cfg;
    scenario_config(sc, &cfg);
    tcps_tracker *t = tcps_new(&cfg);
    if (!t)
        return 1;
    int before = check_failures;
    uint32_t ids[MAX_STEPS];
    tcps_record recs[MAX_STEPS];
    for (int i = 0; i < n; i++) {
        tcps_record r;
        int tracked = tcps_process(t, &steps[i].seg, &r);
        ids[i] = r.conn_id;
        recs[i] = r;
        char ctx[160];
        snprintf(ctx, sizeof(ctx), "%s step %d", sc->name, i + 1);
        check_step(ctx, &steps[i], tracked, &r);
    }
    for (int i = 0; i < n; i++) { /* hindsight, once everything was fed */
        if (steps[i].exp_hs[0] < 0 && steps[i].exp_hs[1] < 0 && steps[i].exp_hsb[0] < 0 &&
            steps[i].exp_hsb[1] < 0)
            continue;
        uint8_t hb[2], ha[2];
        char ctx[160];
        snprintf(ctx, sizeof(ctx), "%s step %d hindsight", sc->name, i + 1);
        uint32_t id = ids[i];
        int known = tcps_hindsight(t, id, steps[i].seg.frame, hb, ha);
        CHECK_INT(ctx, "known", known == 1 || known == 2, 1);
        if (known == 2) { /* no evidence: the causal record */
            memcpy(hb, recs[i].before, 2);
            memcpy(ha, recs[i].after, 2);
        }
        for (int k = 0; k < 2; k++) {
            if (steps[i].exp_hs[k] >= 0)
                CHECK_STATE(ctx, k ? "server state" : "client state", ha[k], steps[i].exp_hs[k]);
            if (steps[i].exp_hsb[k] >= 0)
                CHECK_STATE(ctx, k ? "server state before" : "client state before", hb[k],
                            steps[i].exp_hsb[k]);
        }
    }
    tcps_free(t);
    return check_failures != before;
}

/* The names and tables agree with the header. */
static int test_names(void)
{
    int before = check_failures;
    CHECK_INT("names", "LAST_ACK", strcmp(tcps_state_name(TCPS_LAST_ACK), "LAST_ACK"), 0);
    CHECK_INT("names", "out of range", strcmp(tcps_state_name(99), "?"), 0);
    CHECK_INT("names", "event", strcmp(tcps_event_name(TCPS_EV_REFUSED), "refused"), 0);
    CHECK_INT("names", "severity", tcps_event_severity(TCPS_EVENT_COUNT), -1);
    CHECK_INT("names", "rank CLOSED initial", tcps_state_rank(TCPS_CLOSED, 0), 0);
    CHECK_INT("names", "rank CLOSED final", tcps_state_rank(TCPS_CLOSED, 1), 8);
    CHECK_INT("names", "event bits fit", TCPS_EVENT_COUNT <= 64, 1);
    return check_failures != before;
}

static int find_scenario(const char *name)
{
    for (size_t i = 0; i < n_scenarios; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The names CMake registered a ctest for (read from scenarios.c) against the table: every
 * scenario registered once, no name registered that the table lacks. */
static int check_registered(int n, char **names)
{
    int bad = 0;
    for (size_t i = 0; i < n_scenarios; i++) {
        int found = 0;
        for (int j = 0; j < n; j++)
            found += strcmp(names[j], scenarios[i].name) == 0;
        if (found != 1) {
            fprintf(stderr,
                    "  scenario %s: %d ctests, expected 1 (is its entry a line of its "
                    "own starting {\"name\", in scenarios.c?)\n",
                    scenarios[i].name, found);
            bad++;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(scenarios[k].name, scenarios[i].name) == 0) {
                fprintf(stderr, "  scenario %s: name used twice\n", scenarios[i].name);
                bad++;
            }
    }
    for (int j = 0; j < n; j++)
        if (find_scenario(names[j]) < 0) {
            fprintf(stderr, "  ctest for %s: no such scenario\n", names[j]);
            bad++;
        }
    printf("%s %zu scenarios, %d ctests\n", bad ? "FAIL" : "ok  ", n_scenarios, n);
    return bad ? 1 : 0;
}

static int run_named(const char *name)
{
    int i = find_scenario(name);
    if (i < 0) {
        fprintf(stderr, "unknown scenario %s (see --list)\n", name);
        return 1;
    }
    int bad = run_scenario(&scenarios[i]);
    printf("%s %s  (%s)\n", bad ? "FAIL" : "ok  ", scenarios[i].name, scenarios[i].why);
    return bad;
}

static int run_all(void)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n_scenarios; i++) {
        int bad = run_scenario(&scenarios[i]);
        printf("%s %s  (%s)\n", bad ? "FAIL" : "ok  ", scenarios[i].name, scenarios[i].why);
        bad ? failed++ : passed++;
    }
    int bad = test_names();
    printf("%s names\n", bad ? "FAIL" : "ok  ");
    bad ? failed++ : passed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* test_transitions            every scenario, then the names
 * test_transitions NAME       one scenario (a ctest each: unit.transition.NAME)
 * test_transitions --names    the names and tables
 * test_transitions --list     the scenario names, one a line
 * test_transitions --check-registered NAME...   the names given are the table's */
int main(int argc, char **argv)
{
    if (argc == 1)
        return run_all();
    if (strcmp(argv[1], "--check-registered") == 0)
        return check_registered(argc - 2, argv + 2);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n_scenarios; i++)
            printf("%s\n", scenarios[i].name);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--names") == 0) {
        int bad = test_names();
        printf("%s names\n", bad ? "FAIL" : "ok  ");
        return bad;
    }
    if (argc == 2 && argv[1][0] != '-')
        return run_named(argv[1]);
    fprintf(stderr,
            "usage: test_transitions [NAME | --names | --list | --check-registered NAME...]\n");
    return 2;
}
