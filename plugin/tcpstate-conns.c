/* tcpstate-conns.c: the connection table, netstat for a capture.
 *
 * tshark -q -z tcpstate,conns[,TIME] prints every connection with both endpoints'
 * states, when each was entered and the connection's events, at the end of the
 * capture or at TIME (seconds since the first frame, as frame.time_relative), in the
 * layout of `ss -tan`: states first, then the addresses.
 *
 * The same rows in Wireshark: Statistics > TCP State Connections, a sortable table
 * (Wireshark's stat-table UI, register_stat_tap_table_ui), also tshark -q -z
 * tcpstate,connections[,FILTER]. Its rows are kept current packet by packet (the UI
 * has no end-of-capture callback): the row of the packet's connection, the row of a
 * connection whose port pair a new one reuses, and rows in TIME_WAIT when a timer is
 * set. A display filter such as frame.time_relative <= TIME gives the table at TIME.
 *
 * States come from the tracker: at the end, or when TIME is after a connection's last
 * segment, its final view (tcps_conn_get), as long as the frame it says a state was
 * entered in is not after TIME; else the record of the connection's last segment at or
 * before TIME. The TIME_WAIT timer (tcps_state_at) then runs up to TIME. A "since" time
 * with a frame is that frame's capture time; one the timer entered says "timer". The
 * tracker comes with the tap's records (tcpstate-tap.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <epan/packet.h>
#include <epan/stat_groups.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>
#include <wsutil/report_message.h>

#include "tcpstate-compat.h"
#include "tcpstate-tap.h"
#include "tcpstate-text.h"

#define CONNS_CLI "tcpstate,conns"

/* A connection as of the last segment at or before the table's time. */
typedef struct {
    uint32_t conn_id;
    uint32_t table_row; /* row + 1 in the stat-table UI's table; 0 none */
    uint32_t last_frame;
    uint8_t state[2];
    uint32_t entered[2];
    gint64 entered_rel_ns[2]; /* time of entered[i] since the first frame; CONNS_NS_UNKNOWN */
    uint64_t events;
} conns_row;

typedef struct {
    const tcps_tracker *tracker; /* from the tap (tcpstate-tap.h); NULL before a packet */
    gboolean at_time;
    gint64 time_rel_ns; /* TIME, since the first frame */
    gint64 last_rel_ns; /* latest segment seen */
    gint64 base_ns;     /* absolute time of the first frame */
    gboolean have_base;
    GHashTable *rows;     /* conn_id -> conns_row */
    GArray *order;        /* conn_ids, in order of first segment */
    GHashTable *frame_ns; /* frame -> time since the first frame, of frames a state was entered in */
} conns_data;

/* ---- Collecting ----------------------------------------------------------------------- */

static gint64 nstime_ns(const nstime_t *t) {
    return (gint64)t->secs * G_GINT64_CONSTANT(1000000000) + t->nsecs;
}

static void conns_reset(void *tapdata) {
    conns_data *d = (conns_data *)tapdata;

    g_hash_table_remove_all(d->rows);
    g_hash_table_remove_all(d->frame_ns);
    g_array_set_size(d->order, 0);
    d->tracker = NULL;
    d->last_rel_ns = 0;
    d->have_base = FALSE;
}

/* A time not known here. Not -1: a frame's time since the first frame is negative when
 * the capture's time goes backwards. */
#define CONNS_NS_UNKNOWN G_MININT64

static gint64 frame_time(const conns_data *d, uint32_t frame) {
    gpointer v;

    if (!g_hash_table_lookup_extended(d->frame_ns, GUINT_TO_POINTER(frame), NULL, &v))
        return CONNS_NS_UNKNOWN;
    return *(const gint64 *)v;
}

static tap_packet_status conns_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_,
                                      const void *data, tap_flags_t flags _U_) {
    conns_data *d = (conns_data *)tapdata;
    const tcpstate_tap_info *ti = (const tcpstate_tap_info *)data;
    const tcpstate_rec *rec = &ti->rec;
    gint64 rel = nstime_ns(&pinfo->rel_ts);
    conns_row *row;

    d->tracker = ti->tracker;
    if (rec->conn_id == 0 || (d->at_time && rel > d->time_rel_ns))
        return TAP_PACKET_DONT_REDRAW;
    if (!d->have_base) {
        d->base_ns = nstime_ns(&pinfo->abs_ts) - rel;
        d->have_base = TRUE;
    }
    if (rel > d->last_rel_ns)
        d->last_rel_ns = rel;
    if (rec->entered[0] == pinfo->num || rec->entered[1] == pinfo->num) {
        gint64 *t = g_new(gint64, 1);
        *t = rel;
        g_hash_table_insert(d->frame_ns, GUINT_TO_POINTER(pinfo->num), t);
    }
    row = (conns_row *)g_hash_table_lookup(d->rows, GUINT_TO_POINTER(rec->conn_id));
    if (row == NULL) {
        row = g_new0(conns_row, 1);
        row->conn_id = rec->conn_id;
        g_hash_table_insert(d->rows, GUINT_TO_POINTER(rec->conn_id), row);
        g_array_append_val(d->order, rec->conn_id);
    }
    row->last_frame = pinfo->num;
    row->events |= rec->events;
    for (int who = 0; who < 2; who++) {
        row->state[who] = rec->after[who];
        if (row->entered[who] != rec->entered[who] ||
            row->entered_rel_ns[who] == CONNS_NS_UNKNOWN) {
            row->entered[who] = rec->entered[who];
            row->entered_rel_ns[who] = frame_time(d, rec->entered[who]);
        }
    }
    return TAP_PACKET_REDRAW;
}

/* ---- Printing ------------------------------------------------------------------------- */

enum { COL_CONN, COL_CSTATE, COL_SSTATE, COL_CADDR, COL_SADDR, COL_CSINCE, COL_SSINCE, COL_EVENTS,
       COL_COUNT };

static const char *const col_names[COL_COUNT] = {
    "Conn", "Client-State", "Server-State", "Client-Address:Port", "Server-Address:Port",
    "Client-Since", "Server-Since", "Events"};

/* "0.497238 #12": entered in frame 12, at that frame's capture time; "60.402853 timer": moved
 * by the TIME_WAIT timer at that time; "#12" when frame 12's time is not known here. */
static char *since_str(gint64 rel_ns, uint32_t frame, gboolean timer) {
    if (timer)
        return wmem_strdup_printf(NULL, "%.6f timer", (double)rel_ns / 1e9);
    if (frame == 0)
        return wmem_strdup(NULL, "-");
    if (rel_ns == CONNS_NS_UNKNOWN)
        return wmem_strdup_printf(NULL, "#%u", frame);
    return wmem_strdup_printf(NULL, "%.6f #%u", (double)rel_ns / 1e9, frame);
}

/* One row's cells. An endpoint's state as of the table's time is the tracker's final view
 * when nothing of the connection came after that time and the frame the tracker says the
 * state was entered in is one the table has seen (a port reuse after that time ends the
 * connection later: not yet); else the record of its last segment at or before that time.
 * Times of frames are the capture's (microseconds), never the tracker's rounded ones. The
 * TIME_WAIT timer (tcps_state_at) then runs from the time the state was entered up to the
 * table's time. */
static void row_cells(const conns_data *d, const conns_row *row, gint64 at_rel_ns, char **cells) {
    const tcps_tracker *t = d->tracker;
    tcps_conn_info ci;
    gboolean known = t != NULL && tcps_conn_get(t, row->conn_id - 1, 0, &ci);
    gboolean final = known && ci.last_frame == row->last_frame;
    uint8_t state[2] = {row->state[0], row->state[1]};
    uint32_t entered[2] = {row->entered[0], row->entered[1]};
    gint64 since[2] = {row->entered_rel_ns[0], row->entered_rel_ns[1]};
    gboolean timer[2] = {FALSE, FALSE};
    uint64_t events = final ? ci.events : row->events;
    uint64_t at_ns = (uint64_t)(d->base_ns + at_rel_ns);

    for (int who = 0; who < 2; who++) {
        if (final && (ci.state[who] != state[who] || ci.entered[who] != entered[who])) {
            gint64 t_rel = frame_time(d, ci.entered[who]);
            if (t_rel != CONNS_NS_UNKNOWN) { /* moved by a frame the table has seen (reuse) */
                state[who] = ci.state[who];
                entered[who] = ci.entered[who];
                since[who] = t_rel;
            }
        }
        if (since[who] != CONNS_NS_UNKNOWN) {
            uint64_t entered_ns = (uint64_t)(d->base_ns + since[who]);
            uint8_t now = (uint8_t)tcps_state_at(t, state[who], &entered_ns, at_ns);
            if (now != state[who]) {
                state[who] = now;
                since[who] = (gint64)entered_ns - d->base_ns;
                timer[who] = TRUE;
            }
        }
    }
    cells[COL_CONN] = wmem_strdup_printf(NULL, "%u", row->conn_id);
    cells[COL_CSTATE] = wmem_strdup(NULL, tcps_state_name(state[0]));
    cells[COL_SSTATE] = wmem_strdup(NULL, tcps_state_name(state[1]));
    cells[COL_CADDR] = known ? tcpstate_endpoint_str(NULL, &ci, TCPS_CLIENT) : wmem_strdup(NULL, "?");
    cells[COL_SADDR] = known ? tcpstate_endpoint_str(NULL, &ci, TCPS_SERVER) : wmem_strdup(NULL, "?");
    cells[COL_CSINCE] = since_str(since[0], entered[0], timer[0]);
    cells[COL_SSINCE] = since_str(since[1], entered[1], timer[1]);
    cells[COL_EVENTS] = tcpstate_events_str(NULL, events, ",", "-");
}

/* Whether the protocol is enabled: a disabled one queues nothing on the tap. */
static gboolean tcpstate_enabled(void) {
    int proto = proto_get_id_by_filter_name("tcpstate");

    return proto < 0 || proto_is_protocol_enabled(find_protocol_by_id(proto));
}

static void print_row(const char *const *cells, const int width[COL_COUNT]) {
    for (int c = 0; c < COL_COUNT; c++) {
        if (c == COL_COUNT - 1)
            printf("%s\n", cells[c]);
        else
            printf("%-*s ", width[c], cells[c]);
    }
}

static void free_cells(char **cells) {
    for (int c = 0; c < COL_COUNT; c++)
        wmem_free(NULL, cells[c]);
}

static void conns_draw(void *tapdata) {
    conns_data *d = (conns_data *)tapdata;
    gint64 at = d->at_time ? d->time_rel_ns : d->last_rel_ns;
    guint n = d->order->len;
    char **cells = g_new0(char *, (gsize)(n ? n : 1) * COL_COUNT);
    int width[COL_COUNT];

    for (int c = 0; c < COL_COUNT; c++)
        width[c] = (int)strlen(col_names[c]);
    for (guint i = 0; i < n; i++) {
        uint32_t id = g_array_index(d->order, uint32_t, i);
        const conns_row *row =
            (const conns_row *)g_hash_table_lookup(d->rows, GUINT_TO_POINTER(id));
        row_cells(d, row, at, cells + i * COL_COUNT);
        for (int c = 0; c < COL_COUNT; c++) {
            int len = (int)g_utf8_strlen(cells[i * COL_COUNT + c], -1);
            if (len > width[c])
                width[c] = len;
        }
    }
    printf("================================================================================\n");
    if (!tcpstate_enabled())
        printf("TCP State (tcpstate) is disabled (--disable-protocol, or Analyze > Enabled "
               "Protocols): no connection is tracked\n");
    if (d->at_time)
        printf("TCP connections (tcpstate,conns) at %.6f s: %u\n", (double)at / 1e9, n);
    else
        printf("TCP connections (tcpstate,conns) at the end of the capture, %.6f s: %u\n",
               (double)at / 1e9, n);
    print_row(col_names, width);
    for (guint i = 0; i < n; i++) {
        print_row((const char *const *)(cells + i * COL_COUNT), width);
        free_cells(cells + i * COL_COUNT);
    }
    printf("================================================================================\n");
    g_free(cells);
}

static void conns_finish(void *tapdata) {
    conns_data *d = (conns_data *)tapdata;

    g_hash_table_destroy(d->rows);
    g_hash_table_destroy(d->frame_ns);
    g_array_free(d->order, TRUE);
    g_free(d);
}

/* -z tcpstate,conns or -z tcpstate,conns,TIME. Errors are reported here, with
 * report_failure(), and the callback returns "OK" where it returns anything (from 4.6 on,
 * tcpstate-compat.h), so that tshark behaves the same on every version. */
static tcpstate_stat_init_ret conns_init(const char *opt_arg, void *userdata _U_) {
    conns_data *d;
    GString *err;
    const char *rest = opt_arg + strlen(CONNS_CLI);
    double when = 0;

    if (*rest == ',') {
        char *end;
        when = g_ascii_strtod(rest + 1, &end);
        if (end == rest + 1 || *end != '\0' || !(when >= 0) || when > 1e12) {
            report_failure("tcpstate,conns: TIME must be seconds since the first frame "
                           "(e.g. -z tcpstate,conns,1.5), not \"%s\"",
                           rest + 1);
            return TCPSTATE_STAT_INIT_OK;
        }
    } else if (*rest != '\0') {
        report_failure("tcpstate,conns: usage -z tcpstate,conns[,TIME]");
        return TCPSTATE_STAT_INIT_OK;
    }
    d = g_new0(conns_data, 1);
    d->at_time = *rest == ',';
    d->time_rel_ns = (gint64)(when * 1e9 + 0.5);
    d->rows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    d->frame_ns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    d->order = g_array_new(FALSE, FALSE, (guint)sizeof(uint32_t));
    err = register_tap_listener(TCPSTATE_TAP_NAME, d, NULL, TL_REQUIRES_NOTHING, conns_reset,
                                conns_packet, conns_draw, conns_finish);
    if (err != NULL) {
        report_failure("tcpstate,conns: cannot listen to the tcpstate tap: %s", err->str);
        g_string_free(err, TRUE);
        conns_finish(d);
    }
    return TCPSTATE_STAT_INIT_OK;
}

/* ---- The table in Wireshark (stat-table UI) ------------------------------------------ */

#define TABLE_CLI "tcpstate,connections"
#define TABLE_NAME "TCP connections"

/* What the table's rows come from: one set, as the UI's tables are (a dialog at a time). */
static conns_data *table_data;
static GHashTable *table_pairs; /* "client|server" -> latest conn_id on that port pair */
static GHashTable *table_tw;    /* conn_ids whose row shows a TIME_WAIT (a timer is set) */

static conns_data *conns_data_new(void) {
    conns_data *d = g_new0(conns_data, 1);

    d->rows = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    d->frame_ns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    d->order = g_array_new(FALSE, FALSE, (guint)sizeof(uint32_t));
    return d;
}

static void table_clear_data(void) {
    if (table_data == NULL) {
        table_data = conns_data_new();
        table_pairs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        table_tw = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    conns_reset(table_data);
    g_hash_table_remove_all(table_pairs);
    g_hash_table_remove_all(table_tw);
}

static void table_free_item(stat_tap_table *table _U_, guint row _U_, guint column _U_,
                            stat_tap_table_item_type *field) {
    if (field->type == TABLE_ITEM_STRING) {
        g_free((char *)field->value.string_value);
        field->value.string_value = NULL;
    }
}

/* Empties the table: its rows go, with their strings. */
static void table_reset(stat_tap_table *table) {
    for (guint r = 0; r < table->num_elements; r++) {
        for (guint c = 0; c < table->num_fields; c++)
            table_free_item(table, r, c, stat_tap_get_field_data(table, r, c));
        g_free(table->elements[r]);
    }
    g_free(table->elements);
    table->elements = NULL;
    table->num_elements = 0;
    table_clear_data();
}

static void table_init(stat_tap_table_ui *ui) {
    stat_tap_table *table = stat_tap_find_table(ui, TABLE_NAME);

    if (table == NULL) {
        table = stat_tap_init_table(TABLE_NAME, COL_COUNT, 0, NULL);
        stat_tap_add_table(ui, table);
    }
    table_reset(table);
}

/* Writes a connection's row (made if new) with the cells -z tcpstate,conns would print at
 * the latest packet seen. */
static void table_refresh(stat_tap_table *table, conns_row *row) {
    stat_tap_table_item_type items[COL_COUNT];
    char *cells[COL_COUNT];
    gboolean tw;

    if (row->table_row == 0) {
        memset(items, 0, sizeof items);
        for (int c = 0; c < COL_COUNT; c++)
            items[c].type = c == COL_CONN ? TABLE_ITEM_UINT : TABLE_ITEM_STRING;
        row->table_row = table->num_elements + 1;
        stat_tap_init_table_row(table, row->table_row - 1, COL_COUNT, items);
    }
    row_cells(table_data, row, table_data->last_rel_ns, cells);
    tw = strcmp(cells[COL_CSTATE], "TIME_WAIT") == 0 || strcmp(cells[COL_SSTATE], "TIME_WAIT") == 0;
    for (int c = 0; c < COL_COUNT; c++) {
        stat_tap_table_item_type *item =
            stat_tap_get_field_data(table, row->table_row - 1, (guint)c);
        if (c == COL_CONN) {
            item->value.uint_value = row->conn_id;
            continue;
        }
        table_free_item(table, row->table_row - 1, (guint)c, item);
        item->value.string_value = g_strdup(cells[c]);
    }
    if (tw && tcps_time_wait_ns(table_data->tracker) != 0)
        g_hash_table_add(table_tw, GUINT_TO_POINTER(row->conn_id));
    else
        g_hash_table_remove(table_tw, GUINT_TO_POINTER(row->conn_id));
    free_cells(cells);
}

static conns_row *table_row_of(uint32_t conn_id) {
    return (conns_row *)g_hash_table_lookup(table_data->rows, GUINT_TO_POINTER(conn_id));
}

/* A new connection: the one it follows on the same port pair (a port reuse) is refreshed,
 * as the reuse ends it. */
static void table_new_conn(stat_tap_table *table, conns_row *row) {
    tcps_conn_info ci;
    char *key, *c, *s;
    gpointer prev;

    if (table_data->tracker == NULL ||
        !tcps_conn_get(table_data->tracker, row->conn_id - 1, 0, &ci))
        return;
    c = tcpstate_endpoint_str(NULL, &ci, TCPS_CLIENT);
    s = tcpstate_endpoint_str(NULL, &ci, TCPS_SERVER);
    key = g_strdup_printf("%s|%s", c, s);
    wmem_free(NULL, c);
    wmem_free(NULL, s);
    prev = g_hash_table_lookup(table_pairs, key);
    if (prev != NULL && table_row_of(GPOINTER_TO_UINT(prev)) != NULL)
        table_refresh(table, table_row_of(GPOINTER_TO_UINT(prev)));
    g_hash_table_insert(table_pairs, key, GUINT_TO_POINTER(row->conn_id));
}

static tap_packet_status table_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                      const void *data, tap_flags_t flags) {
    stat_data_t *sd = (stat_data_t *)tapdata;
    const tcpstate_tap_info *ti = (const tcpstate_tap_info *)data;
    stat_tap_table *table;
    conns_row *row;
    gboolean is_new;

    if (sd->stat_tap_data->tables->len == 0 || ti->rec.conn_id == 0)
        return TAP_PACKET_DONT_REDRAW;
    table = g_array_index(sd->stat_tap_data->tables, stat_tap_table *, 0);
    if (table_data == NULL)
        table_clear_data();
    is_new = table_row_of(ti->rec.conn_id) == NULL;
    conns_packet(table_data, pinfo, edt, data, flags);
    row = table_row_of(ti->rec.conn_id);
    if (row == NULL)
        return TAP_PACKET_DONT_REDRAW;
    table_refresh(table, row);
    if (is_new)
        table_new_conn(table, row);
    if (g_hash_table_size(table_tw) != 0) { /* the TIME_WAIT timer runs to this packet */
        GList *ids = g_hash_table_get_keys(table_tw);
        for (GList *l = ids; l != NULL; l = l->next)
            if (GPOINTER_TO_UINT(l->data) != row->conn_id)
                table_refresh(table, table_row_of(GPOINTER_TO_UINT(l->data)));
        g_list_free(ids);
    }
    return TAP_PACKET_REDRAW;
}

void tcpstate_conns_register(void) {
    static stat_tap_ui ui = {REGISTER_STAT_GROUP_GENERIC, "TCP State Connections", CONNS_CLI,
                             conns_init, 0, NULL};
    static stat_tap_table_item fields[COL_COUNT] = {
        {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Conn", "%u"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Client-State", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Server-State", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Client-Address:Port", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Server-Address:Port", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Client-Since", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Server-Since", "%s"},
        {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Events", "%s"},
    };
    static stat_tap_table_ui table_ui = {REGISTER_PACKET_STAT_GROUP_UNSORTED,
                                         "TCP State Connections",
                                         TCPSTATE_TAP_NAME,
                                         TABLE_CLI,
                                         table_init,
                                         table_packet,
                                         table_reset,
                                         table_free_item,
                                         NULL,
                                         COL_COUNT,
                                         fields,
                                         0,
                                         NULL,
                                         NULL,
                                         0};

    register_stat_tap_ui(&ui, NULL);
    register_stat_tap_table_ui(&table_ui);
}
