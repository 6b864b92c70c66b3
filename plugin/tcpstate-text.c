/* tcpstate-text.c: the plugin's texts: state pairs, the state summary of a tree label and
 * of the Info column, endpoints, TCP flags and event lists (tcpstate-text.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include <glib.h>

#include <epan/to_str.h>
#include <epan/wmem_scopes.h>
#include <wsutil/inet_addr.h>
#include <wsutil/to_str.h>

#include "tcpstate-text.h"

/* ---- States ------------------------------------------------------------------------------ */

static const char *state_name(guint8 state) {
    return tcps_state_name(state); /* the names of the plugin's state value_string, by index */
}

static gsize state_name_len(guint8 state) {
    static gsize len[TCPS_STATE_COUNT + 1];

    if (len[0] == 0) /* once: "CLOSED" is never empty */
        for (int i = 0; i <= TCPS_STATE_COUNT; i++)
            len[i] = strlen(tcps_state_name(i));
    return len[state < TCPS_STATE_COUNT ? state : TCPS_STATE_COUNT];
}

/* Appends the n bytes of str to buf[*len]. The buffers hold TCPSTATE_INFO_SIZE bytes. */
static void buf_put(char *buf, gsize *len, const char *str, gsize n) {
    memcpy(buf + *len, str, n);
    *len += n;
}

/* Made with the names' known lengths: wmem_strdup_printf() costs some 1,200 instructions a
 * pair, and a tree shown or printed (tshark -T fields, -V) has four pairs a frame. */
char *tcpstate_pair_str(wmem_allocator_t *scope, const uint8_t states[2], const char *sep) {
    gsize sep_len = strlen(sep), n = 0;
    char *out = (char *)wmem_alloc(scope, state_name_len(states[0]) + sep_len +
                                              state_name_len(states[1]) + 1);

    buf_put(out, &n, state_name(states[0]), state_name_len(states[0]));
    buf_put(out, &n, sep, sep_len);
    buf_put(out, &n, state_name(states[1]), state_name_len(states[1]));
    out[n] = '\0';
    return out;
}

/* A text and its length, from a string literal. */
typedef struct {
    const char *s;
    gsize n;
} tcpstate_text;

#define TCPSTATE_TEXT(lit)                                                                         \
    { (lit), sizeof(lit) - 1 }

/* Both endpoints' states into buf from *n: for each, who[i], then the state before and arrow
 * if it changed, then the state after ("client FIN_WAIT_1 -> FIN_WAIT_2, server ...").
 * Inlined: with the callers' constant texts, every copy is a fixed-size move. */
G_ALWAYS_INLINE static inline void put_states(char *buf, gsize *n, const tcpstate_rec *rec,
                                              const tcpstate_text who[2], tcpstate_text arrow) {
    for (int i = 0; i < 2; i++) {
        buf_put(buf, n, who[i].s, who[i].n);
        if (rec->before[i] != rec->after[i]) {
            buf_put(buf, n, state_name(rec->before[i]), state_name_len(rec->before[i]));
            buf_put(buf, n, arrow.s, arrow.n);
        }
        buf_put(buf, n, state_name(rec->after[i]), state_name_len(rec->after[i]));
    }
}

void tcpstate_summary_label(char buf[TCPSTATE_LABEL_SIZE], const char *prefix,
                            const tcpstate_rec *rec) {
    static const tcpstate_text who[2] = {TCPSTATE_TEXT("client "), TCPSTATE_TEXT(", server ")};
    static const tcpstate_text arrow = TCPSTATE_TEXT(" -> ");
    gsize n = 0;

    buf_put(buf, &n, prefix, strlen(prefix));
    put_states(buf, &n, rec, who, arrow);
    buf[n] = '\0';
}

/* Made with the names' known lengths, for the column to take in one piece: col_append_str()
 * would scan the whole Info text again (g_strlcat), and each piece given to
 * col_append_lstr() costs a g_strlcpy. */
void tcpstate_info_text(char buf[TCPSTATE_INFO_SIZE], const tcpstate_rec *rec) {
    static const tcpstate_text who[2] = {TCPSTATE_TEXT(" [C:"), TCPSTATE_TEXT(" S:")};
    static const tcpstate_text arrow = TCPSTATE_TEXT("->");
    gsize n = 0;

    put_states(buf, &n, rec, who, arrow);
    buf_put(buf, &n, "]", 2); /* with its terminating NUL */
}

/* The decimal digits of v at buf[*n]. */
static void buf_put_uint(char *buf, gsize *n, guint32 v) {
    char digits[10];
    gsize k = 0;

    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (k > 0)
        buf[(*n)++] = digits[--k];
}

void tcpstate_endpoint_label(char buf[TCPSTATE_LABEL_SIZE], const char *who, const char *endpoint,
                             uint8_t state, const char *certainty, guint32 entered) {
    gsize n = 0;

    buf_put(buf, &n, who, strlen(who));
    buf[n++] = ' ';
    buf_put(buf, &n, endpoint, MIN(strlen(endpoint), (gsize)TCPSTATE_ENDPOINT_MAX));
    buf_put(buf, &n, ": ", 2);
    buf_put(buf, &n, state_name(state), state_name_len(state));
    buf_put(buf, &n, " (", 2);
    buf_put(buf, &n, certainty, MIN(strlen(certainty), (gsize)TCPSTATE_ENDPOINT_MAX));
    buf_put(buf, &n, "), since frame ", 15);
    buf_put_uint(buf, &n, entered);
    buf[n] = '\0';
}

void tcpstate_hindsight_label(char buf[TCPSTATE_LABEL_SIZE], const uint8_t after[2]) {
    gsize n = 0;

    buf_put(buf, &n, "Hindsight: client ", 18);
    buf_put(buf, &n, state_name(after[0]), state_name_len(after[0]));
    buf_put(buf, &n, ", server ", 9);
    buf_put(buf, &n, state_name(after[1]), state_name_len(after[1]));
    buf[n] = '\0';
}

/* ---- Endpoints, flags, events ------------------------------------------------------------ */

char *tcpstate_endpoint_str(wmem_allocator_t *scope, const tcps_conn_info *ci, int who) {
    char *host, *out;

    if (ci->family == 4) { /* as address_to_str() and "%s:%u" write it, without printf */
        char buf[24];
        gsize n = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0)
                buf[n++] = '.';
            buf_put_uint(buf, &n, ci->addr[who][i]);
        }
        buf[n++] = ':';
        buf_put_uint(buf, &n, ci->port[who]);
        buf[n++] = '\0';
        return (char *)wmem_memdup(scope, buf, n);
    }
    host = ip6_to_str(NULL, (const ws_in6_addr *)ci->addr[who]); /* as address_to_str() */
    out = wmem_strdup_printf(scope, "[%s]:%u", host, ci->port[who]);
    wmem_free(NULL, host);
    return out;
}

char *tcpstate_flags_str(wmem_allocator_t *scope, uint8_t flags) {
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{TCPS_SYN, "SYN"}, {TCPS_FIN, "FIN"}, {TCPS_RST, "RST"}, {TCPS_PSH, "PSH"},
                 {TCPS_ACK, "ACK"}, {TCPS_URG, "URG"}, {TCPS_ECE, "ECE"}, {TCPS_CWR, "CWR"}};
    wmem_strbuf_t *sb = wmem_strbuf_new(scope, "");

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (flags & names[i].bit)
            wmem_strbuf_append_printf(sb, "%s%s", wmem_strbuf_get_len(sb) ? "," : "",
                                      names[i].name);
    }
    if (wmem_strbuf_get_len(sb) == 0)
        wmem_strbuf_append(sb, "<none>");
    return wmem_strbuf_finalize(sb);
}

char *tcpstate_events_str(wmem_allocator_t *scope, uint64_t events, const char *sep,
                          const char *none) {
    wmem_strbuf_t *sb = wmem_strbuf_new(scope, "");

    for (int ev = 0; ev < TCPS_EVENT_COUNT; ev++) {
        if (events & TCPS_EVENT_BIT(ev)) {
            if (wmem_strbuf_get_len(sb) != 0)
                wmem_strbuf_append(sb, sep);
            wmem_strbuf_append(sb, tcps_event_name(ev));
        }
    }
    if (wmem_strbuf_get_len(sb) == 0)
        wmem_strbuf_append(sb, none);
    return wmem_strbuf_finalize(sb);
}
