/* fuzz_plugin.h: the parts of the plugin's fuzz target (fuzz_plugin.c): the epan session
 * (fuzz_plugin_epan.c) and the checks of the "tcpstate" tap's records
 * (fuzz_plugin_check.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FUZZ_PLUGIN_H
#define FUZZ_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <epan/epan.h>
#include <epan/prefs.h>
#include <wiretap/wtap.h>

#include "tcpstate-tap.h"

/* The fuzz target's limit; tests/robust/sweep_epan.c builds these files with a larger one. */
#ifndef FP_MAX_FRAMES
#define FP_MAX_FRAMES 512
#endif

/* A capture held in memory: frame i (frame number i + 1) is data[i], len[i] bytes, taken
 * at ns[i] nanoseconds since the epoch (any value: time may go backwards). */
typedef struct {
    int encap; /* WTAP_ENCAP_... */
    guint n;
    const uint8_t *data[FP_MAX_FRAMES];
    guint32 len[FP_MAX_FRAMES];
    gint64 ns[FP_MAX_FRAMES];
    guint32 wire_len[FP_MAX_FRAMES]; /* length on the wire; 0: len[i] (nothing cut) */
    int frame_encap[FP_MAX_FRAMES];  /* 0: encap (a file with one encapsulation) */
    gboolean taps; /* draw the taps after the first pass */
} fp_capture;

/* A record queued on the "tcpstate" tap, with its frame. */
typedef struct {
    guint32 frame;
    tcpstate_rec rec;
} fp_rec;

/* The input being run, for messages (set by the replay's main). */
extern const char *fuzz_input_name;

/* Once per process: libwireshark with the plugin registered, taps listening. */
void fp_epan_setup(void);

/* Sets the plugin's preference tcpstate.NAME to VALUE; aborts if it is refused. */
void fp_set_pref(const char *name, const char *value);

/* A fresh dissection of cap with the current preferences (the session is made anew, as
 * when Wireshark re-dissects), passes 1 or 2 passes; every pass checked
 * (fp_check_pass), the second against the first. Returns the first pass's records. */
GArray *fp_dissect(const fp_capture *cap, int passes);

/* Checks of the records of one pass over n frames; aborts with a message on failure. */
void fp_check_pass(const GArray *recs, guint n, int pass);
/* The causal records of two dissections are the same; what says which ones. */
void fp_check_same(const GArray *a, const GArray *b, const char *what);

#endif /* FUZZ_PLUGIN_H */
