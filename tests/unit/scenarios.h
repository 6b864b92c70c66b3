/* Scenarios for the tracker's unit tests: one row per RFC 9293 arc or rule.
 *
 * A scenario is lines of segments, each with what RFC 9293 says both
 * endpoints' states are after it:
 *
 *   DIR FLAGS SEQ ACK LEN [opt=N ...] CLIENT SERVER [+event ...] [-event ...]
 *
 * DIR is c (client -> server) or s (server -> client); FLAGS letters S A F R P
 * or "." for none; SEQ/ACK absolute (ISNs are chosen per scenario); options:
 * t=MS capture time, win=N window, ws=N window scale on a SYN, sp=PORT and
 * dp=PORT to override the ports (sender's, receiver's). CLIENT/SERVER are
 * state names, optionally ":a" ":i" ":c" ":o" for the expected certainty
 * (assumed, inferred, confirmed, observed), or "*" for no check. "+ev" expects
 * the event, "-ev" expects its absence, "#N" expects connection id N,
 * "@c"/"@s" expects the sender's role, "h=CLIENT/SERVER" the hindsight states
 * after the step (asked once the whole scenario was fed). Lines are separated
 * by ';'.
 */
#ifndef TCPS_TEST_SCENARIOS_H
#define TCPS_TEST_SCENARIOS_H

#include "tcpstate.h"

typedef struct scenario {
    const char *name;
    const char *why;   /* the RFC 9293 section or rule it checks */
    const char *lines;
    uint64_t time_wait_ms; /* config: 0 = off */
    int no_midstream;      /* config: midstream pickup off */
    int vantage;           /* config: TCPS_VANTAGE_UNKNOWN (0), _CLIENT, _SERVER */
} scenario;

extern const scenario scenarios[];
extern const size_t n_scenarios;

#define MAX_STEPS 64

typedef struct step {
    tcps_segment seg;
    int exp_state[2]; /* -1 = no check */
    int exp_cert[2];  /* -1 = no check */
    uint64_t want_ev, deny_ev;
    int exp_conn;   /* 0 = no check */
    int exp_sender; /* -1 = no check */
    int exp_hs[2];  /* hindsight after-states, -1 = no check */
    int exp_hsb[2]; /* hindsight states just before it, -1 = no check */
} step;

/* Parses a scenario into steps; returns the count, or -1 with a message in err. */
int scenario_parse(const scenario *sc, step *steps, size_t max, char *err, size_t errlen);

/* Config for a scenario. */
void scenario_config(const scenario *sc, tcps_config *cfg);

#endif
