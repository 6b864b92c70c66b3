/* Table-driven transition tests: every scenario of scenarios.c, step by step,
 * against the states, certainties and events RFC 9293 gives. */
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
        if (steps[i].exp_hs[0] < 0 && steps[i].exp_hs[1] < 0)
            continue;
        uint8_t hb[2], ha[2];
        char ctx[160];
        snprintf(ctx, sizeof(ctx), "%s step %d hindsight", sc->name, i + 1);
        uint32_t id = ids[i];
        int known = tcps_hindsight(t, id, steps[i].seg.frame, hb, ha);
        CHECK_INT(ctx, "known", known == 1 || known == 2, 1);
        if (known == 2) /* no evidence: the causal record */
            memcpy(ha, recs[i].after, 2);
        if (steps[i].exp_hs[0] >= 0)
            CHECK_STATE(ctx, "client state", ha[0], steps[i].exp_hs[0]);
        if (steps[i].exp_hs[1] >= 0)
            CHECK_STATE(ctx, "server state", ha[1], steps[i].exp_hs[1]);
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

int main(void)
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
