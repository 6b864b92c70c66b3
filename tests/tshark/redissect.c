/* redissect.c: what Wireshark does when a preference changes, without a display.
 *
 * usage: tcpstate_redissect CAPTURE [PREF:VALUE ...]
 *
 * Loads libwireshark and its plugins (the tcpstate plugin under test comes from
 * WIRESHARK_PLUGIN_DIR, as in tshark-plugin.sh), reads CAPTURE once, then for each
 * PREF:VALUE sets the preference, applies it and re-dissects every frame the way
 * Wireshark's GUI does (file.c, rescan_packets() with redissect): the dissection
 * session is freed and made anew (cleanup, then init routines), every frame is reset
 * to "not visited", and all frames are dissected again in order; then a second pass
 * (frames visited, as when a packet is clicked or a dialog retaps). Prints per pass
 * and frame:
 *
 *   STEP PASS FRAME STATES HINDSIGHT INFO
 *
 * STEP "initial" or the PREF:VALUE, PASS 1 or 2, STATES the tcpstate.states values
 * (comma-separated, "-" if none), HINDSIGHT the tcpstate.hindsight.states values
 * (pass 2 only, else "-"), INFO 1 if the Info column has tcpstate's " [C:" text.
 * Exit status 0, or 2 on errors. A test compares this with fresh tshark runs
 * (tests/tshark/ui_prefs.py).
 *
 * usage: tcpstate_redissect CAPTURE --stats-window
 *
 * Instead, what Wireshark's statistics window (ui/qt/stats_tree_dialog.cpp) shows of
 * Statistics > TCP State > States and Events: the tree made and tapped as the window does,
 * and its top-level nodes in the order the window sorts them (stats_tree_sort_compare()
 * as its items' operator<), by name and by count, each descending, one line each:
 *
 *   name|count NODE...
 * (tests/tshark/stats_window.py).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <epan/column-info.h>
#include <epan/column-utils.h>
#include <epan/column.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/frame_data.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/stats_tree_priv.h>
#include <epan/tap.h>
#include <epan/timestamp.h>
#include <wiretap/wtap.h>
#include <wsutil/buffer.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/report_message.h>
#include <wsutil/wslog.h>
#include <ws_version.h>

/* The API differences between Wireshark 4.0, 4.4 and 4.6 this program meets. */
#define WS_AT_LEAST(maj, min)                                                                      \
    (WIRESHARK_VERSION_MAJOR > (maj) ||                                                            \
     (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))
#if WS_AT_LEAST(4, 2)
#define FI_VALUE(fi) ((fi)->value) /* field_info.value is an fvalue_t * from 4.2 on */
#else
#define FI_VALUE(fi) (&(fi)->value)
#endif
#if WS_AT_LEAST(4, 4)
typedef bool ws_bool;           /* report_message_routines take bool from 4.4 on */
typedef uint64_t ws_frame_num; /* and a 64-bit frame number */
#else
typedef gboolean ws_bool;
typedef guint32 ws_frame_num;
#endif
/* From 4.6 on a wtap_rec holds its own data buffer, wtap_read()/wtap_seek_read() fill
 * it and epan_dissect_run_with_taps() makes the frame's tvb from it. */
#define WS_REC_HAS_DATA WS_AT_LEAST(4, 6)

/* The application's side of epan's packet provider (each program defines its own). */
struct packet_provider_data {
    wtap *wth;
    GArray *frames; /* frame_data, by frame number - 1 */
};

static const nstime_t *get_frame_ts(struct packet_provider_data *prov, guint32 frame_num) {
    if (frame_num == 0 || frame_num > prov->frames->len)
        return NULL;
    return &g_array_index(prov->frames, frame_data, frame_num - 1).abs_ts;
}

static void failure(const char *fmt, va_list ap) {
    fprintf(stderr, "redissect: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
}

static void open_failure(const char *name, int err, ws_bool for_writing) {
    fprintf(stderr, "redissect: cannot open %s for %s: %s\n", name,
            for_writing ? "writing" : "reading", g_strerror(err));
}

static void read_failure(const char *name, int err) {
    fprintf(stderr, "redissect: cannot read %s: %s\n", name, g_strerror(err));
}

static void write_failure(const char *name, int err) {
    fprintf(stderr, "redissect: cannot write %s: %s\n", name, g_strerror(err));
}

static void cfile_failure(const char *name, int err, gchar *info) {
    fprintf(stderr, "redissect: capture file %s: %s %s\n", name ? name : "", wtap_strerror(err),
            info ? info : "");
}

static void cfile_dump_failure(const char *name, int err, gchar *info, int type _U_) {
    cfile_failure(name, err, info);
}

static void cfile_write_failure(const char *in, const char *out _U_, int err, gchar *info,
                                ws_frame_num frame _U_, int type _U_) {
    cfile_failure(in, err, info);
}

typedef struct {
    struct packet_provider_data prov;
    epan_t *epan;
    column_info cinfo;
    int hf_states, hf_hindsight;
} session;

static epan_t *new_epan(session *s) {
    static const struct packet_provider_funcs funcs = {.get_frame_ts = get_frame_ts};

    return epan_new(&s->prov, &funcs);
}

/* All occurrences of a string field, comma-separated, "-" if none. */
static void print_values(proto_tree *tree, int hf) {
    GPtrArray *arr = hf >= 0 ? proto_get_finfo_ptr_array(tree, hf) : NULL;

    if (arr == NULL || arr->len == 0) {
        printf(" -");
        return;
    }
    for (guint i = 0; i < arr->len; i++) {
        field_info *fi = (field_info *)g_ptr_array_index(arr, i);
        printf("%s%s", i ? "," : " ", fvalue_get_string(FI_VALUE(fi)));
    }
}

static const char *info_text(const column_info *cinfo) {
    for (int i = 0; i < cinfo->num_cols; i++) {
        if (cinfo->columns[i].col_fmt == COL_INFO)
            return cinfo->columns[i].col_data;
    }
    return "";
}

static gboolean quiet; /* --stats-window: no per-frame lines */

/* One pass over every frame, re-reading each from the file. */
static int dissect_all(session *s, const char *step, int pass) {
    wtap_rec rec;
#if !WS_REC_HAS_DATA
    Buffer buf;
#endif
    int err = 0;
    gchar *err_info = NULL;
    frame_data *prev_dis = NULL;
    const frame_data *ref = NULL;
    nstime_t elapsed;
    guint32 cum_bytes = 0;

    nstime_set_zero(&elapsed);
#if WS_REC_HAS_DATA
    wtap_rec_init(&rec, 1514);
#else
    wtap_rec_init(&rec);
    ws_buffer_init(&buf, 1514);
#endif
    for (guint i = 0; i < s->prov.frames->len; i++) {
        frame_data *fd = &g_array_index(s->prov.frames, frame_data, i);
        epan_dissect_t *edt;
#if WS_REC_HAS_DATA
        if (!wtap_seek_read(s->prov.wth, fd->file_off, &rec, &err, &err_info)) {
#else
        tvbuff_t *tvb;

        if (!wtap_seek_read(s->prov.wth, fd->file_off, &rec, &buf, &err, &err_info)) {
#endif
            fprintf(stderr, "redissect: cannot re-read frame %u: %s\n", fd->num,
                    wtap_strerror(err));
            return 2;
        }
        edt = epan_dissect_new(s->epan, TRUE, FALSE);
        epan_dissect_prime_with_hfid(edt, s->hf_states);
        epan_dissect_prime_with_hfid(edt, s->hf_hindsight);
#if !WS_AT_LEAST(4, 6) /* from 4.6 on libwireshark does it itself (no longer exported) */
        if (!fd->visited) /* as file.c's add_packet_to_packet_list() */
            prime_epan_dissect_with_postdissector_wanted_hfids(edt);
#endif
        frame_data_set_before_dissect(fd, &elapsed, &ref, prev_dis);
#if WS_REC_HAS_DATA
        epan_dissect_run_with_taps(edt, wtap_file_type_subtype(s->prov.wth), &rec, fd, &s->cinfo);
#else
        tvb = tvb_new_real_data(ws_buffer_start_ptr(&buf), fd->cap_len, fd->cap_len);
        epan_dissect_run_with_taps(edt, wtap_file_type_subtype(s->prov.wth), &rec, tvb, fd,
                                   &s->cinfo);
#endif
        epan_dissect_fill_in_columns(edt, FALSE, TRUE);
        frame_data_set_after_dissect(fd, &cum_bytes);
        prev_dis = fd;
        if (quiet) {
            epan_dissect_free(edt);
            wtap_rec_reset(&rec);
            continue;
        }
        printf("%s %d %u", step, pass, fd->num);
        print_values(edt->tree, s->hf_states);
        if (pass == 2)
            print_values(edt->tree, s->hf_hindsight);
        else
            printf(" -");
        printf(" %d\n", strstr(info_text(&s->cinfo), " [C:") != NULL);
        epan_dissect_free(edt);
        wtap_rec_reset(&rec);
    }
    wtap_rec_cleanup(&rec);
#if !WS_REC_HAS_DATA
    ws_buffer_free(&buf);
#endif
    return 0;
}

/* The first read of the file: frame_data for every record. */
static int read_frames(session *s) {
    wtap_rec rec;
#if !WS_REC_HAS_DATA
    Buffer buf;
#endif
    int err = 0;
    gchar *err_info = NULL;
    gint64 offset;
    guint32 cum_bytes = 0;

#if WS_REC_HAS_DATA
    wtap_rec_init(&rec, 1514);
    while (wtap_read(s->prov.wth, &rec, &err, &err_info, &offset)) {
#else
    wtap_rec_init(&rec);
    ws_buffer_init(&buf, 1514);
    while (wtap_read(s->prov.wth, &rec, &buf, &err, &err_info, &offset)) {
#endif
        frame_data fd;
        frame_data_init(&fd, s->prov.frames->len + 1, &rec, offset, cum_bytes);
        cum_bytes += fd.pkt_len;
        g_array_append_val(s->prov.frames, fd);
        wtap_rec_reset(&rec);
    }
    wtap_rec_cleanup(&rec);
#if !WS_REC_HAS_DATA
    ws_buffer_free(&buf);
#endif
    if (err != 0) {
        fprintf(stderr, "redissect: read error: %s\n", wtap_strerror(err));
        return 2;
    }
    return 0;
}

/* What rescan_packets(cf, ..., redissect=TRUE) does before dissecting again. */
/* Qt's QTreeWidget sorting the window's items, descending: a before b when b < a, where
 * x < y is StatsTreeWidgetItem::operator<. */
static int sort_col;
static gboolean item_less(const stat_node *x, const stat_node *y) {
    return -stats_tree_sort_compare(x, y, sort_col, TRUE) < 0;
}
static gint window_order(gconstpointer a, gconstpointer b) {
    const stat_node *x = *(const stat_node *const *)a, *y = *(const stat_node *const *)b;
    return item_less(y, x) ? -1 : item_less(x, y) ? 1 : 0;
}

/* The window's tap reset (StatsTreeDialog::resetTap): the tree's init callback. */
static void window_reset(void *p) {
    stats_tree *st = (stats_tree *)p;

    st->cfg->init(st);
}

/* --stats-window: the statistics tree as Wireshark's window makes, taps (a retap: reset,
 * every frame, draw) and sorts it. */
static int stats_window(session *s) {
    static const struct {
        const char *name;
        int col;
    } cols[] = {{"name", 0}, {"count", 1}}; /* the window's columns (stats_tree.c) */
    stats_tree_cfg *cfg = stats_tree_get_cfg_by_abbr("tcpstate");
    stats_tree *st;
    GString *err;
    int status;

    if (cfg == NULL) {
        fprintf(stderr, "redissect: no tcpstate statistics tree\n");
        return 2;
    }
    st = stats_tree_new(cfg, NULL, NULL);
    err = register_tap_listener(cfg->tapname, st, st->filter, cfg->flags, window_reset,
                                stats_tree_packet, NULL, NULL);
    if (err != NULL) {
        fprintf(stderr, "redissect: %s\n", err->str);
        return 2;
    }
    reset_tap_listeners();
    status = dissect_all(s, "stats", 2);
    draw_tap_listeners(TRUE);
    for (size_t c = 0; c < G_N_ELEMENTS(cols) && status == 0; c++) {
        GPtrArray *top = g_ptr_array_new();
        for (stat_node *n = st->root.children; n != NULL; n = n->next)
            g_ptr_array_add(top, n);
        sort_col = cols[c].col;
        g_ptr_array_sort(top, window_order);
        printf("%s", cols[c].name);
        for (guint i = 0; i < top->len; i++)
            printf(" %s", ((const stat_node *)g_ptr_array_index(top, i))->name);
        printf("\n");
        g_ptr_array_free(top, TRUE);
    }
    remove_tap_listener(st);
    stats_tree_free(st);
    return status;
}

static void reset_session(session *s) {
    epan_free(s->epan);
    for (guint i = 0; i < s->prov.frames->len; i++)
        frame_data_reset(&g_array_index(s->prov.frames, frame_data, i));
    s->epan = new_epan(s);
}

int main(int argc, char **argv) {
    /* Designated: 4.6 adds report_rename_failure (left NULL, never called here). */
    static const struct report_message_routines routines = {
        .vreport_failure = failure,
        .vreport_warning = failure,
        .report_open_failure = open_failure,
        .report_read_failure = read_failure,
        .report_write_failure = write_failure,
        .report_cfile_open_failure = cfile_failure,
        .report_cfile_dump_open_failure = cfile_dump_failure,
        .report_cfile_read_failure = cfile_failure,
        .report_cfile_write_failure = cfile_write_failure,
        .report_cfile_close_failure = cfile_failure,
    };
    session s;
    int err = 0;
    gchar *err_info = NULL;
    char *cfg_err;
    int status;

    if (argc < 2) {
        fprintf(stderr, "usage: tcpstate_redissect CAPTURE [PREF:VALUE ...]\n");
        return 2;
    }
    memset(&s, 0, sizeof s);
#if WS_AT_LEAST(4, 6)
    ws_log_init(NULL);
#else
    ws_log_init("redissect", NULL);
#endif
    init_process_policies();
    relinquish_special_privs_perm();
#if WS_AT_LEAST(4, 6)
    cfg_err = configuration_init(argv[0]); /* the default application flavor: Wireshark */
#else
    cfg_err = configuration_init(argv[0], NULL);
#endif
    if (cfg_err != NULL) {
        fprintf(stderr, "redissect: %s\n", cfg_err);
        g_free(cfg_err);
    }
    init_report_message("redissect", &routines);
    timestamp_set_type(TS_RELATIVE);
    timestamp_set_precision(TS_PREC_AUTO);
    timestamp_set_seconds_type(TS_SECONDS_DEFAULT);
    wtap_init(TRUE);
    if (!epan_init(NULL, NULL, TRUE))
        return 2;
    quiet = argc == 3 && strcmp(argv[2], "--stats-window") == 0;
    if (quiet) { /* the plugins' statistics trees, as tshark and Wireshark register them */
        static tap_reg_t no_builtin_taps[] = {{NULL, NULL}};
        register_all_tap_listeners(no_builtin_taps);
    }
    epan_load_settings();
    if (proto_get_id_by_filter_name("tcpstate") < 0) {
        fprintf(stderr, "redissect: the tcpstate plugin is not loaded\n");
        return 2;
    }
    s.hf_states = proto_registrar_get_id_byname("tcpstate.states");
    s.hf_hindsight = proto_registrar_get_id_byname("tcpstate.hindsight.states");
    col_setup(&s.cinfo, prefs.num_cols);
    build_column_format_array(&s.cinfo, prefs.num_cols, TRUE);

    s.prov.wth = wtap_open_offline(argv[1], WTAP_TYPE_AUTO, &err, &err_info, TRUE);
    if (s.prov.wth == NULL) {
        fprintf(stderr, "redissect: cannot open %s: %s\n", argv[1], wtap_strerror(err));
        return 2;
    }
    s.prov.frames = g_array_new(FALSE, TRUE, (guint)sizeof(frame_data));
    if (read_frames(&s) != 0)
        return 2;
    s.epan = new_epan(&s);
    status = dissect_all(&s, "initial", 1);
    if (status == 0 && quiet) {
        status = stats_window(&s);
        argc = 2;
    }
    for (int a = 2; a < argc && status == 0; a++) {
        char *errmsg = NULL;
        char *setting = g_strdup(argv[a]);

        if (prefs_set_pref(setting, &errmsg) != PREFS_SET_OK) {
            fprintf(stderr, "redissect: cannot set %s: %s\n", argv[a], errmsg ? errmsg : "");
            g_free(setting);
            g_free(errmsg);
            return 2;
        }
        g_free(setting);
        prefs_apply_all();
        reset_session(&s);
        status = dissect_all(&s, argv[a], 1);
        if (status == 0)
            status = dissect_all(&s, argv[a], 2);
    }
    epan_free(s.epan);
    wtap_close(s.prov.wth);
    col_cleanup(&s.cinfo);
    epan_cleanup();
    wtap_cleanup();
    return status;
}
