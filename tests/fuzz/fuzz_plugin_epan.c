/* fuzz_plugin_epan.c: the epan session of the plugin's fuzz target: libwireshark set up
 * once with the plugin linked in (its plugin_register() called as Wireshark's plugin
 * loader would), the taps Wireshark's windows and tshark's -z options use, and captures
 * held in memory dissected as Wireshark's file.c does (tests/tshark/redissect.c).
 * Wireshark 4.0's API (the version this target is built for; see CMakeLists.txt).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <epan/column-info.h>
#include <epan/column-utils.h>
#include <epan/column.h>
#include <epan/epan_dissect.h>
#include <epan/frame_data.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/stat_tap_ui.h>
#include <epan/stats_tree_priv.h>
#include <epan/tap.h>
#include <epan/timestamp.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/report_message.h>
#include <wsutil/wslog.h>

#include "fuzz_plugin.h"

/* The plugin's entry point (plugin/tcpstate-register.c), linked in. */
void plugin_register(void);

/* epan/sequence_analysis.h is not installed (WIRESHARK-NOTES.md): what is used of it. */
typedef struct _seq_analysis_info seq_analysis_info_t;
typedef struct register_analysis register_analysis_t;
WS_DLL_PUBLIC register_analysis_t *sequence_analysis_find_by_name(const char *name);
WS_DLL_PUBLIC tap_packet_cb sequence_analysis_get_packet_func(register_analysis_t *analysis);
WS_DLL_PUBLIC const char *sequence_analysis_get_tap_listener_name(register_analysis_t *analysis);
WS_DLL_PUBLIC guint sequence_analysis_get_tap_flags(register_analysis_t *analysis);
WS_DLL_PUBLIC seq_analysis_info_t *sequence_analysis_info_new(void);
WS_DLL_PUBLIC void sequence_analysis_list_free(seq_analysis_info_t *sainfo);
WS_DLL_PUBLIC int sequence_analysis_get_nodes(seq_analysis_info_t *sainfo);
WS_DLL_PUBLIC gboolean sequence_analysis_dump_to_file(FILE *of, seq_analysis_info_t *sainfo,
                                                      unsigned int first_node);

struct packet_provider_data {
    GArray *frames; /* frame_data, by frame number - 1 */
};

static struct packet_provider_data prov;
static column_info cinfo;
static GArray *collected;        /* fp_rec of the pass being dissected */
static stats_tree *stats;        /* Statistics > TCP State > States and Events */
static seq_analysis_info_t *flow; /* Statistics > Flow Graph, TCP state */
static int file_type;

static const nstime_t *get_frame_ts(struct packet_provider_data *p, guint32 frame_num) {
    if (frame_num == 0 || frame_num > p->frames->len)
        return NULL;
    return &g_array_index(p->frames, frame_data, frame_num - 1).abs_ts;
}

static void failure(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);
static void failure(const char *fmt, va_list ap) {
    fprintf(stderr, "fuzz_plugin: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
}

static void open_failure(const char *name, int err, gboolean for_writing _U_) {
    fprintf(stderr, "fuzz_plugin: %s: %s\n", name, g_strerror(err));
}

static void rw_failure(const char *name, int err) {
    fprintf(stderr, "fuzz_plugin: %s: %s\n", name, g_strerror(err));
}

/* The "tcpstate" tap's records, as a listener sees them. */
static tap_packet_status collect(void *tapdata _U_, packet_info *pinfo, epan_dissect_t *edt _U_,
                                 const void *data, tap_flags_t flags _U_) {
    const tcpstate_tap_info *ti = (const tcpstate_tap_info *)data;
    fp_rec r;

    memset(&r, 0, sizeof r);
    r.frame = pinfo->num;
    r.rec = ti->rec;
    g_array_append_val(collected, r);
    return TAP_PACKET_DONT_REDRAW;
}

static void stats_reset(void *p) {
    stats_tree_reinit(p);
}

static void flow_reset(void *p) {
    sequence_analysis_list_free((seq_analysis_info_t *)p);
}

static void listen_or_die(const char *tap, void *data, guint flags, tap_reset_cb reset,
                          tap_packet_cb packet) {
    GString *err = register_tap_listener(tap, data, NULL, flags, reset, packet, NULL, NULL);

    if (err != NULL) {
        fprintf(stderr, "fuzz_plugin: tap %s: %s\n", tap, err->str);
        abort();
    }
}

/* The taps: a collector, the statistics tree, the flow graph, the connection table as
 * tshark -z tcpstate,conns (prints when drawn). */
static void setup_taps(void) {
    stats_tree_cfg *cfg = stats_tree_get_cfg_by_abbr("tcpstate");
    register_analysis_t *analysis = sequence_analysis_find_by_name("tcpstate");

    listen_or_die(TCPSTATE_TAP_NAME, NULL, TL_REQUIRES_NOTHING, NULL, collect);
    if (cfg == NULL || analysis == NULL) {
        fprintf(stderr, "fuzz_plugin: the plugin's statistics tree or flow graph is missing\n");
        abort();
    }
    stats = stats_tree_new(cfg, NULL, NULL);
    listen_or_die(cfg->tapname, stats, cfg->flags, stats_reset, stats_tree_packet);
    flow = sequence_analysis_info_new();
    listen_or_die(sequence_analysis_get_tap_listener_name(analysis), flow,
                  sequence_analysis_get_tap_flags(analysis), flow_reset,
                  sequence_analysis_get_packet_func(analysis));
    if (!process_stat_cmd_arg("tcpstate,conns")) {
        fprintf(stderr, "fuzz_plugin: no tcpstate,conns\n");
        abort();
    }
    start_requested_stats();
}

void fp_set_pref(const char *name, const char *value) {
    char *setting = g_strdup_printf("tcpstate.%s:%s", name, value);
    char *errmsg = NULL;

    if (prefs_set_pref(setting, &errmsg) != PREFS_SET_OK) {
        fprintf(stderr, "fp_set_pref: cannot set %s: %s\n", setting, errmsg ? errmsg : "");
        abort();
    }
    g_free(errmsg);
    g_free(setting);
}

void fp_epan_setup(void) {
    static const struct report_message_routines routines = {
        .vreport_failure = failure,
        .vreport_warning = failure,
        .report_open_failure = open_failure,
        .report_read_failure = rw_failure,
        .report_write_failure = rw_failure,
    };
    static gboolean done;
    static tap_reg_t no_builtin_taps[] = {{NULL, NULL}};
    char *err;

    if (done)
        return;
    done = TRUE;
    ws_log_init("fuzz_plugin", NULL);
    ws_log_set_level(LOG_LEVEL_CRITICAL);
    init_process_policies();
    relinquish_special_privs_perm();
    err = configuration_init("fuzz_plugin", NULL);
    g_free(err);
    init_report_message("fuzz_plugin", &routines);
    timestamp_set_type(TS_RELATIVE);
    timestamp_set_precision(TS_PREC_AUTO);
    timestamp_set_seconds_type(TS_SECONDS_DEFAULT);
    wtap_init(FALSE);
    plugin_register(); /* as Wireshark's plugin loader does; no plugin folder is read */
    if (!epan_init(NULL, NULL, FALSE) || proto_get_id_by_filter_name("tcpstate") < 0) {
        fprintf(stderr, "fuzz_plugin: libwireshark or the plugin did not start\n");
        abort();
    }
    register_all_tap_listeners(no_builtin_taps);
    epan_load_settings();
    col_setup(&cinfo, prefs.num_cols);
    build_column_format_array(&cinfo, prefs.num_cols, TRUE);
    file_type = wtap_name_to_file_type_subtype("pcap");
    collected = g_array_new(FALSE, TRUE, sizeof(fp_rec));
    prov.frames = g_array_new(FALSE, TRUE, (guint)sizeof(frame_data));
    setup_taps();
}

/* A frame's record as wiretap would read it. */
static void frame_rec(const fp_capture *cap, guint i, wtap_rec *rec) {
    rec->rec_type = REC_TYPE_PACKET;
    rec->presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
    rec->ts.secs = (time_t)(cap->ns[i] / 1000000000);
    rec->ts.nsecs = (int)(cap->ns[i] % 1000000000);
    if (rec->ts.nsecs < 0) {
        rec->ts.secs--;
        rec->ts.nsecs += 1000000000;
    }
    rec->tsprec = WTAP_TSPREC_NSEC;
    rec->rec_header.packet_header.caplen = cap->len[i];
    rec->rec_header.packet_header.len = cap->wire_len[i] ? cap->wire_len[i] : cap->len[i];
    rec->rec_header.packet_header.pkt_encap = cap->frame_encap[i] ? cap->frame_encap[i] : cap->encap;
}

/* One pass over every frame, as file.c does it. */
static void dissect_pass(epan_t *epan, const fp_capture *cap) {
    frame_data *prev_dis = NULL;
    const frame_data *ref = NULL;
    nstime_t elapsed;
    guint32 cum_bytes = 0;

    nstime_set_zero(&elapsed);
    for (guint i = 0; i < cap->n; i++) {
        frame_data *fd = &g_array_index(prov.frames, frame_data, i);
        wtap_rec rec;
        epan_dissect_t *edt = epan_dissect_new(epan, TRUE, TRUE);
        tvbuff_t *tvb = tvb_new_real_data(cap->data[i], cap->len[i], (gint)cap->len[i]);

        wtap_rec_init(&rec);
        frame_rec(cap, i, &rec);
        if (!fd->visited)
            prime_epan_dissect_with_postdissector_wanted_hfids(edt);
        frame_data_set_before_dissect(fd, &elapsed, &ref, prev_dis);
        epan_dissect_run_with_taps(edt, file_type, &rec, tvb, fd, &cinfo);
        epan_dissect_fill_in_columns(edt, FALSE, TRUE);
        frame_data_set_after_dissect(fd, &cum_bytes);
        prev_dis = fd;
        epan_dissect_free(edt);
        wtap_rec_cleanup(&rec);
    }
}

/* The taps drawn, as tshark does at the end and Wireshark's windows do: the connection
 * table prints (to /dev/null here). */
static void draw_taps(void) {
    static FILE *null_out;
    int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY);
    GString *text;

    if (null_out == NULL)
        null_out = fopen("/dev/null", "w");
    fflush(stdout);
    if (saved >= 0 && devnull >= 0)
        dup2(devnull, STDOUT_FILENO);
    draw_tap_listeners(TRUE);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    if (devnull >= 0)
        close(devnull);
    text = stats_tree_format_as_str(stats, ST_FORMAT_PLAIN, stats_tree_get_default_sort_col(stats),
                                    stats_tree_is_default_sort_DESC(stats));
    g_string_free(text, TRUE);
    /* Wireshark 4.0 draws a graph of many nodes with GLib criticals of its own
     * (g_string_erase, also with -z flow,tcp,standard): the text of small ones only. */
    if (sequence_analysis_get_nodes(flow) <= 10 && null_out != NULL)
        sequence_analysis_dump_to_file(null_out, flow, 0);
}

static GArray *take_collected(void) {
    GArray *a = collected;

    collected = g_array_new(FALSE, TRUE, sizeof(fp_rec));
    return a;
}

GArray *fp_dissect(const fp_capture *cap, int passes) {
    static const struct packet_provider_funcs funcs = {.get_frame_ts = get_frame_ts};
    guint32 cum_bytes = 0;
    epan_t *epan;
    GArray *first;

    g_array_set_size(prov.frames, 0);
    for (guint i = 0; i < cap->n; i++) {
        wtap_rec rec;
        frame_data fd;

        wtap_rec_init(&rec);
        frame_rec(cap, i, &rec);
        frame_data_init(&fd, i + 1, &rec, 0, cum_bytes);
        cum_bytes += fd.pkt_len;
        g_array_append_val(prov.frames, fd);
        wtap_rec_cleanup(&rec);
    }
    epan = epan_new(&prov, &funcs); /* the init routines: a new capture */
    reset_tap_listeners();
    g_array_set_size(collected, 0);
    dissect_pass(epan, cap);
    first = take_collected();
    if (g_getenv("TCPS_FUZZ_TRACE") != NULL)
        fprintf(stderr, "fuzz_plugin: %s: %u frames, %u tracked TCP layers\n", fuzz_input_name,
                cap->n, first->len);
    fp_check_pass(first, cap->n, 1);
    if (cap->taps)
        draw_taps();
    if (passes > 1) {
        GArray *second;

        dissect_pass(epan, cap);
        second = take_collected();
        fp_check_pass(second, cap->n, 2);
        fp_check_same(first, second, "the second pass");
        g_array_free(second, TRUE);
    }
    epan_free(epan); /* the cleanup routines */
    for (guint i = 0; i < prov.frames->len; i++)
        frame_data_destroy(&g_array_index(prov.frames, frame_data, i));
    return first;
}
