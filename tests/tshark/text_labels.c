/* text_labels.c: the plugin's tree labels and strings built without printf
 * (plugin/tcpstate-text.c) against the printf formats they replace, for every state,
 * certainty and state pair, edge frame numbers, and IPv4 and IPv6 endpoints at their
 * extremes. Exit status 0 when all agree; each difference is printed with both texts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <epan/wmem_scopes.h>
#include <wsutil/inet_addr.h>
#include <wsutil/to_str.h>

#include "tcpstate-text.h"

static int failures;

static void same(const char *what, const char *got, const char *want) {
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", what, got, want);
        failures++;
    }
}

/* The old endpoint text: address_to_str() ("%u.%u.%u.%u" for AT_IPv4, ip6_to_str() for
 * AT_IPv6) and "%s:%u" / "[%s]:%u". */
static char *endpoint_printf(const tcps_conn_info *ci, int who) {
    const uint8_t *a = ci->addr[who];
    char *host, *out;

    if (ci->family == 4)
        return g_strdup_printf("%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], ci->port[who]);
    host = ip6_to_str(NULL, (const ws_in6_addr *)a);
    out = g_strdup_printf("[%s]:%u", host, ci->port[who]);
    wmem_free(NULL, host);
    return out;
}

static void check_endpoints(void) {
    static const uint8_t v4[][4] = {
        {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 99, 1, 1}, {192, 168, 100, 9}, {1, 20, 100, 200}};
    uint8_t v6[3][16] = {{0}, {0xfd, 0x99, [15] = 1}, {0}};
    static const uint16_t ports[] = {0, 1, 9, 10, 80, 40001, 65535};
    tcps_conn_info ci;

    memset(v6[2], 0xff, sizeof v6[2]); /* ffff:...:ffff */
    memset(&ci, 0, sizeof ci);
    for (gsize p = 0; p < G_N_ELEMENTS(ports); p++) {
        ci.port[0] = ports[p];
        ci.port[1] = ports[G_N_ELEMENTS(ports) - 1 - p];
        ci.family = 4;
        for (gsize a = 0; a < G_N_ELEMENTS(v4); a++) {
            memcpy(ci.addr[0], v4[a], 4);
            memcpy(ci.addr[1], v4[G_N_ELEMENTS(v4) - 1 - a], 4);
            for (int who = 0; who < 2; who++) {
                char *got = tcpstate_endpoint_str(NULL, &ci, who),
                     *want = endpoint_printf(&ci, who);
                same("endpoint", got, want);
                wmem_free(NULL, got);
                g_free(want);
            }
        }
        ci.family = 6;
        for (gsize a = 0; a < G_N_ELEMENTS(v6); a++) {
            memcpy(ci.addr[0], v6[a], 16);
            memcpy(ci.addr[1], v6[G_N_ELEMENTS(v6) - 1 - a], 16);
            char *got = tcpstate_endpoint_str(NULL, &ci, 0), *want = endpoint_printf(&ci, 0);
            same("endpoint", got, want);
            wmem_free(NULL, got);
            g_free(want);
        }
    }
}

/* Every pair of states (and one past the last: the name of an unknown state). */
static void check_pairs(void) {
    static const char *const certs[] = {"assumed", "inferred", "confirmed", "observed", "?"};
    static const guint32 frames[] = {0, 1, 9, 10, 99, 100, 123456789, G_MAXUINT32};
    static const char *const seps[] = {"/", " / "};
    char label[TCPSTATE_LABEL_SIZE], *want, *got;

    for (int a = 0; a <= TCPS_STATE_COUNT; a++) {
        for (int b = 0; b <= TCPS_STATE_COUNT; b++) {
            uint8_t st[2] = {(uint8_t)a, (uint8_t)b};
            for (gsize s = 0; s < G_N_ELEMENTS(seps); s++) {
                got = tcpstate_pair_str(NULL, st, seps[s]);
                want = g_strdup_printf("%s%s%s", tcps_state_name(a), seps[s], tcps_state_name(b));
                same("pair", got, want);
                wmem_free(NULL, got);
                g_free(want);
            }
            tcpstate_hindsight_label(label, st);
            want = g_strdup_printf("Hindsight: client %s, server %s", tcps_state_name(a),
                                   tcps_state_name(b));
            same("hindsight label", label, want);
            g_free(want);
        }
        for (gsize c = 0; c < G_N_ELEMENTS(certs); c++) {
            for (gsize f = 0; f < G_N_ELEMENTS(frames); f++) {
                tcpstate_endpoint_label(label, c % 2 ? "Server" : "Client", "[fd99::1]:40001",
                                        (uint8_t)a, certs[c], frames[f]);
                want =
                    g_strdup_printf("%s %s: %s (%s), since frame %u", c % 2 ? "Server" : "Client",
                                    "[fd99::1]:40001", tcps_state_name(a), certs[c], frames[f]);
                same("endpoint label", label, want);
                g_free(want);
            }
        }
    }
}

/* The protocol item's label: "TCP State: " and the summary. */
static void check_summaries(void) {
    char label[TCPSTATE_LABEL_SIZE], *want;
    tcpstate_rec rec;

    memset(&rec, 0, sizeof rec);
    for (int i = 0; i < 4 * TCPS_STATE_COUNT; i++) {
        rec.before[0] = (uint8_t)(i % TCPS_STATE_COUNT);
        rec.after[0] = (uint8_t)((i / 2) % TCPS_STATE_COUNT);
        rec.before[1] = (uint8_t)((i / 3) % TCPS_STATE_COUNT);
        rec.after[1] = (uint8_t)((i * 7) % TCPS_STATE_COUNT);
        tcpstate_summary_label(label, "TCP State: ", &rec);
        want = g_strdup_printf(
            "TCP State: client %s%s%s, server %s%s%s",
            rec.before[0] != rec.after[0] ? tcps_state_name(rec.before[0]) : "",
            rec.before[0] != rec.after[0] ? " -> " : "", tcps_state_name(rec.after[0]),
            rec.before[1] != rec.after[1] ? tcps_state_name(rec.before[1]) : "",
            rec.before[1] != rec.after[1] ? " -> " : "", tcps_state_name(rec.after[1]));
        same("summary label", label, want);
        g_free(want);
    }
}

int main(void) {
    check_endpoints();
    check_pairs();
    check_summaries();
    if (failures == 0)
        printf("text_labels: all labels as printf writes them\n");
    return failures == 0 ? 0 : 1;
}
