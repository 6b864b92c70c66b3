/* sweep_epan.c: the plugin over many capture files in one process (issue #16), for the
 * sweep of thousands of corrupted variants (sweep_epan.py) that tshark, at about a second
 * per run under the sanitizers, cannot afford.
 *
 * usage: sweep_epan [--timeout S] [--prefs K] FILE...
 *
 * The plugin's sources are linked in, built with ASan and UBSan, and registered as
 * Wireshark's loader would (../fuzz/fuzz_plugin_epan.c, the plugin fuzz target's epan
 * session). Each FILE is read with wiretap, as tshark -r reads it, to its end or its
 * first read error; its frames (up to FP_MAX_FRAMES; the rest are read, counted and not
 * dissected) are then dissected as Wireshark does: a fresh session, a first pass with a
 * tree, the taps drawn (statistics tree, tcpstate,conns, flow graph), a second pass, each
 * pass's "tcpstate" tap records checked by the fuzz target's checks (states in range,
 * entered links within 1..frame, every change a path of RFC 9293's diagram, the second
 * pass the same as the first). Every 64th file is also dissected again in a new session
 * and must give the same records. Preferences rotate with the file's position i (from K,
 * default 0: the variant's number, as sweep_epan.py passes it): TIME_WAIT linux/rfc/off
 * (i mod 3), vantage unknown/client/server ((i / 3) mod 3), midstream on/off ((i / 9) mod
 * 2).
 *
 * Prints one line per file, flushed, as soon as it is done:
 *
 *   STATUS FRAMES RECORDS CUT FILE
 *
 * STATUS is the exit status tshark gives the file without the plugin: 0 when wiretap
 * read it to its end, 2 when it could not open it or a read failed (tshark's "appears to
 * have been cut short", "appears to be damaged"); FRAMES the frames read, RECORDS the
 * records the tap queued on the first pass, CUT the frames not dissected. A broken check
 * or a sanitizer report aborts, a file that takes more than --timeout seconds (default
 * 60) ends the program with status 3 and "sweep_epan: hang: FILE"; the driver takes the
 * first file without a line as the culprit. Exit status 0 when every file was done.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wsutil/buffer.h>

#include "fuzz_plugin.h"

static fp_capture cap;
static const char *current = "";

static void on_alarm(int sig) {
    static const char msg[] = "sweep_epan: hang: ";
    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0 ||
        write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
        _exit(3);
    _exit(3);
}

static void set_prefs(guint k) {
    static const char *const tw[3] = {"linux", "rfc", "off"};
    static const char *const vantage[3] = {"unknown", "client", "server"};

    fp_set_pref("time_wait", tw[k % 3]);
    fp_set_pref("vantage", vantage[(k / 3) % 3]);
    fp_set_pref("midstream", (k / 9) % 2 ? "FALSE" : "TRUE");
    prefs_apply(prefs_find_module("tcpstate"));
}

/* Reads path into cap (frame bytes in *store); returns tshark's exit status for it. */
static int read_file(const char *path, GPtrArray *store, guint *frames, guint *cut) {
    int err = 0;
    gchar *err_info = NULL;
    gint64 offset;
    wtap_rec rec;
    Buffer buf;
    wtap *wth = wtap_open_offline(path, WTAP_TYPE_AUTO, &err, &err_info, FALSE);

    *frames = *cut = 0;
    cap.n = 0;
    if (wth == NULL) {
        fprintf(stderr, "sweep_epan: %s: cannot open: %s%s%s\n", path, wtap_strerror(err),
                err_info ? ": " : "", err_info ? err_info : "");
        g_free(err_info);
        return 2;
    }
    cap.encap = wtap_file_encap(wth);
    wtap_rec_init(&rec);
    ws_buffer_init(&buf, 1514);
    while (wtap_read(wth, &rec, &buf, &err, &err_info, &offset)) {
        guint i = cap.n;

        (*frames)++;
        if (rec.rec_type != REC_TYPE_PACKET)
            continue; /* not dissected as a packet by tshark either */
        if (i >= FP_MAX_FRAMES) {
            (*cut)++;
            continue;
        }
        cap.len[i] = rec.rec_header.packet_header.caplen;
        cap.wire_len[i] = rec.rec_header.packet_header.len;
        cap.frame_encap[i] = rec.rec_header.packet_header.pkt_encap;
        cap.ns[i] = (gint64)rec.ts.secs * 1000000000 + rec.ts.nsecs;
        cap.data[i] = g_memdup2(ws_buffer_start_ptr(&buf), cap.len[i]);
        g_ptr_array_add(store, (gpointer)cap.data[i]);
        cap.n++;
    }
    ws_buffer_free(&buf);
    wtap_rec_cleanup(&rec);
    wtap_close(wth);
    if (err != 0) {
        fprintf(stderr, "sweep_epan: %s: read error after %u frames: %s%s%s\n", path, *frames,
                wtap_strerror(err), err_info ? ": " : "", err_info ? err_info : "");
        g_free(err_info);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv) {
    unsigned timeout = 60, prefs = 0;
    int first = 1;

    for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (strcmp(argv[first], "--timeout") == 0)
            timeout = (unsigned)atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--prefs") == 0)
            prefs = (unsigned)atoi(argv[first + 1]);
        else
            break;
    }
    if (first >= argc || strncmp(argv[first], "--", 2) == 0) {
        fprintf(stderr, "usage: sweep_epan [--timeout S] [--prefs K] FILE...\n");
        return 2;
    }
    signal(SIGALRM, on_alarm);
    fp_epan_setup();
    for (int a = first; a < argc; a++) {
        GPtrArray *store = g_ptr_array_new_with_free_func(g_free);
        guint frames, cut, records;
        int status;
        GArray *recs;

        current = fuzz_input_name = argv[a];
        alarm(timeout);
        status = read_file(argv[a], store, &frames, &cut);
        cap.taps = TRUE;
        set_prefs(prefs + (guint)(a - first));
        recs = fp_dissect(&cap, 2); /* first pass, taps drawn, second pass */
        records = recs->len;
        if ((a - first) % 64 == 63) {
            GArray *again;

            cap.taps = FALSE;
            again = fp_dissect(&cap, 1);
            fp_check_same(recs, again, "a second dissection");
            g_array_free(again, TRUE);
        }
        g_array_free(recs, TRUE);
        g_ptr_array_free(store, TRUE);
        alarm(0);
        printf("%d %u %u %u %s\n", status, frames, records, cut, argv[a]);
        fflush(stdout);
    }
    return 0;
}
