/* fuzz_plugin.c: the tcpstate plugin in-process, under a real epan session (issue #16).
 *
 * The plugin's sources are linked into this program and registered as a plugin would
 * be (plugin_register() before epan_init(), no plugin folder loaded). Each input is a
 * capture: its first two bytes choose the encapsulation, the preferences and the
 * re-dissections, then come frames, each as
 *
 *   LEN (2 bytes, big-endian, low 11 bits: up to 2047 bytes) DT (1 byte) BYTES[LEN]
 *
 * (the last frame is cut short at the end of the input). DT moves the capture time: its
 * top two bits are the unit (1 ms, 1 s, 1 hour, 1 year), its low six bits a signed count
 * (-32..31): time goes backwards, and spans days and years. First byte: bits 0-1
 * encapsulation (Ethernet, raw IP, raw IPv4, raw IPv6), bits 2-3 tcpstate.time_wait
 * (off, linux, rfc, off), bit 4 tcpstate.midstream off, bits 5-6 tcpstate.vantage
 * (unknown, client, server, unknown), bit 7 tcpstate.info_column off.
 *
 * Second byte: bit 0 re-dissect after a preference change, bit 1 re-dissect with the same
 * preferences (a session costs about 0.1 s of CPU under the sanitizers: an input chooses).
 *
 * Every input is dissected as Wireshark does: a first pass with a tree, the taps
 * (statistics tree, connection table tcpstate,conns, flow graph) drawn, a second pass
 * (frames visited); then, if asked, re-dissected after a preference change (vantage and
 * midstream changed), both passes again; then, if asked, with the input's preferences
 * again, one pass. On
 * every pass the records queued on the "tcpstate" tap are checked (fuzz_plugin_check.c):
 * states, certainties and sender in range, connection ids in order of appearance, every
 * "entered" frame link within 1..frame, every change a path of RFC 9293's diagram
 * (../unit/invariants.c); the second pass must queue the same causal records as the first,
 * and the re-dissection with the input's preferences the same as the first dissection.
 * A failure prints the input's name and aborts. With TCPS_FUZZ_TRACE set, each dissection
 * prints its number of frames and of tracked TCP layers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_plugin.h"

const char *fuzz_input_name = "(libFuzzer input)";

/* ---- The input's frames ---------------------------------------------------------------- */

typedef struct {
    const uint8_t *data;
    guint32 len;
    gint64 ns; /* capture time */
} fp_frame;

static const gint64 fp_units[4] = {1000000, 1000000000, G_GINT64_CONSTANT(3600000000000),
                                   G_GINT64_CONSTANT(31536000000000000)};

/* Splits the input after its first two bytes into frames; returns their number. */
static guint split_frames(const uint8_t *d, size_t n, fp_frame *out) {
    size_t at = 2;
    guint k = 0;
    gint64 ns = G_GINT64_CONSTANT(1700000000000000000);

    while (at < n && k < FP_MAX_FRAMES) {
        size_t len = n - at;
        if (len >= 3) {
            guint dt = d[at + 2];
            gint64 count = (gint64)(dt & 0x3f) - ((dt & 0x20) ? 64 : 0);
            size_t want = ((size_t)d[at] << 8 | d[at + 1]) & 0x7ff;
            ns += count * fp_units[dt >> 6];
            at += 3;
            len = n - at < want ? n - at : want;
        } else {
            at = n - len;
        }
        out[k].data = d + at;
        out[k].len = (guint32)len;
        out[k].ns = ns;
        k++;
        at += len;
    }
    return k;
}

/* ---- Preferences ------------------------------------------------------------------------ */

static void set_prefs(guint8 b, gboolean changed) {
    static const char *const tw[4] = {"off", "linux", "rfc", "off"};
    static const char *const vantage[4] = {"unknown", "client", "server", "unknown"};
    guint v = (b >> 5) & 3;
    gboolean midstream = (b & 0x10) == 0;

    if (changed) { /* another vantage point, midstream the other way */
        v = (v + 1) % 3;
        midstream = !midstream;
    }
    fp_set_pref("time_wait", tw[(b >> 2) & 3]);
    fp_set_pref("midstream", midstream ? "TRUE" : "FALSE");
    fp_set_pref("vantage", vantage[v]);
    fp_set_pref("info_column", (b & 0x80) ? "FALSE" : "TRUE");
    prefs_apply(prefs_find_module("tcpstate")); /* the module's only: prefs_apply_all() is slow */
}

/* ---- One input ----------------------------------------------------------------------------*/

static const int fp_encaps[4] = {WTAP_ENCAP_ETHERNET, WTAP_ENCAP_RAW_IP, WTAP_ENCAP_RAW_IP4,
                                 WTAP_ENCAP_RAW_IP6};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fp_frame frames[FP_MAX_FRAMES];
    fp_capture cap;
    GArray *first, *again;

    if (size < 1)
        return 0;
    fp_epan_setup();
    memset(&cap, 0, sizeof cap);
    cap.encap = fp_encaps[data[0] & 3];
    cap.n = split_frames(data, size, frames);
    for (guint i = 0; i < cap.n; i++) {
        cap.data[i] = frames[i].data;
        cap.len[i] = frames[i].len;
        cap.ns[i] = frames[i].ns;
    }
    cap.taps = TRUE;

    set_prefs(data[0], FALSE);
    first = fp_dissect(&cap, 2); /* first pass, taps drawn, second pass */
    if (size > 1 && (data[1] & 1)) {
        set_prefs(data[0], TRUE);
        g_array_free(fp_dissect(&cap, 2), TRUE);
        set_prefs(data[0], FALSE);
    }
    if (size > 1 && (data[1] & 2)) {
        cap.taps = FALSE;
        again = fp_dissect(&cap, 1);
        fp_check_same(first, again, "a re-dissection with the same preferences");
        g_array_free(again, TRUE);
    }
    g_array_free(first, TRUE);
    return 0;
}
