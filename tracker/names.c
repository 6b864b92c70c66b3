/* names.c: names of states, certainties and events, from the X-macro lists of
 * tcpstate.h. */
#include "tcps_internal.h"

static const char *const tcps__state_names[] = {
#define XX(name, str) str,
    TCPS_STATE_MAP(XX)
#undef XX
};
static const char *const tcps__cert_names[] = {
#define XX(name, str) str,
    TCPS_CERTAINTY_MAP(XX)
#undef XX
};
static const char *const tcps__event_names[] = {
#define XX(name, tok, sev, desc) tok,
    TCPS_EVENT_MAP(XX)
#undef XX
};
static const char *const tcps__event_desc[] = {
#define XX(name, tok, sev, desc) desc,
    TCPS_EVENT_MAP(XX)
#undef XX
};
static const signed char tcps__event_sev[] = {
#define XX(name, tok, sev, desc) sev,
    TCPS_EVENT_MAP(XX)
#undef XX
};

const char *tcps_state_name(int s)
{
    return (s >= 0 && s < TCPS_STATE_COUNT) ? tcps__state_names[s] : "?";
}
const char *tcps_certainty_name(int c)
{
    return (c >= 0 && c < TCPS_CERT_COUNT) ? tcps__cert_names[c] : "?";
}
const char *tcps_event_name(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_names[e] : "?";
}
const char *tcps_event_description(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_desc[e] : "?";
}
int tcps_event_severity(int e)
{
    return (e >= 0 && e < TCPS_EVENT_COUNT) ? tcps__event_sev[e] : -1;
}
