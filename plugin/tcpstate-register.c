/* tcpstate-register.c: the plugin: Wireshark's entry points, and everything it registers
 * (protocol, fields, preferences, postdissector, TCP header reader, tap and its listeners),
 * with the state of a capture made by one init routine and freed by one cleanup routine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define WS_BUILD_DLL

#include <stdint.h>

#include <glib.h>

#include <ws_symbol_export.h>
#include <ws_version.h>

#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "packet-tcpstate.h"
#include "tcpstate-compat.h"
#include "tcpstate-tap.h"
#include "tcpstate-tcp-reader.h"
#include "tcpstate.h"

#if TCPSTATE_HAVE_PLUGIN_DESCRIBE
#include <wsutil/plugins.h>
#endif

/* ---- Plugin entry points -------------------------------------------------------------- */

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = TCPS_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
#if TCPSTATE_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
#endif

void proto_register_tcpstate(void);
void proto_reg_handoff_tcpstate(void);

static int proto_tcpstate = -1;

/* ---- Preferences ---------------------------------------------------------------------- */

enum { TCPSTATE_TW_OFF = 0, TCPSTATE_TW_LINUX = 60, TCPSTATE_TW_RFC = 240 };
static gint pref_time_wait_s = TCPSTATE_TW_OFF;
static tcpstate_pref_bool pref_midstream = TRUE;
static gint pref_vantage = TCPS_VANTAGE_UNKNOWN;
static tcpstate_pref_bool pref_info_column = TRUE;

static const enum_val_t time_wait_vals[] = {
    {"off", "Off (until the port pair is reused)", TCPSTATE_TW_OFF},
    {"linux", "60 s (Linux)", TCPSTATE_TW_LINUX},
    {"rfc", "240 s (RFC 9293, 2 MSL)", TCPSTATE_TW_RFC},
    {NULL, NULL, 0},
};

static const enum_val_t vantage_vals[] = {
    {"unknown", "Unknown", TCPS_VANTAGE_UNKNOWN},
    {"client", "Near the client", TCPS_VANTAGE_CLIENT},
    {"server", "Near the server", TCPS_VANTAGE_SERVER},
    {NULL, NULL, 0},
};

static void register_prefs(void) {
    module_t *module = prefs_register_protocol(proto_tcpstate, NULL);

    prefs_register_enum_preference(
        module, "time_wait", "TIME_WAIT timer",
        "How long an endpoint stays in TIME_WAIT (2 MSL) before the tracker moves it to CLOSED: "
        "off, 60 s as Linux does, or 240 s as RFC 9293 says (MSL of 2 minutes).",
        &pref_time_wait_s, time_wait_vals, FALSE);
    prefs_register_bool_preference(
        module, "midstream", "Track connections picked up midstream",
        "Track connections whose handshake is not in the capture; their states are assumed.",
        &pref_midstream);
    prefs_register_enum_preference(
        module, "vantage", "Capture vantage point",
        "Where the capture was taken. Near an endpoint, a FIN that endpoint sends reaches the "
        "other end only when the other end's ACK, or the near end's next segment, shows it; "
        "unknown: at once.",
        &pref_vantage, vantage_vals, FALSE);
    prefs_register_bool_preference(module, "info_column", "Show the states in the Info column",
                                   "Append the client and server states to the Info column.",
                                   &pref_info_column);
}

/* ---- The capture: one tracker per capture file and preference set --------------------- */

static tcpstate_capture capture;

static void capture_init(void) {
    tcps_config cfg;

    tcps_config_init(&cfg);
    cfg.time_wait_ns = (uint64_t)pref_time_wait_s * G_GUINT64_CONSTANT(1000000000);
    cfg.midstream = pref_midstream ? 1 : 0;
    cfg.vantage = (tcps_vantage)pref_vantage;
    tcpstate_capture_init(&capture, &cfg);
}

static void capture_cleanup(void) {
    tcpstate_capture_free(&capture);
}

/* The postdissector (packet-tcpstate.c) and the TCP header reader (tcpstate-tcp-reader.c),
 * given the capture. */
static int dissect_tcpstate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_) {
    return tcpstate_dissect(&capture, pref_info_column, tvb, pinfo, tree);
}

static int dissect_tcp_reader(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data) {
    return tcpstate_reader_dissect(&capture.reader, tvb, pinfo, tree, data);
}

/* ---- Registration --------------------------------------------------------------------- */

void proto_register_tcpstate(void) {
    int tap;

    /* Long name (the tree), short name (Preferences > Protocols, Expert Info's Protocol
     * column, Enabled Protocols, "Disable ..."), filter name. */
    proto_tcpstate = proto_register_protocol("TCP State", "TCP State", "tcpstate");
    tap = register_tap(TCPSTATE_TAP_NAME);
    tcpstate_dissector_register(proto_tcpstate, tap);
    register_prefs();
    register_postdissector(create_dissector_handle(dissect_tcpstate, proto_tcpstate));
    register_init_routine(capture_init);
    register_cleanup_routine(capture_cleanup);
    tcpstate_flow_register(proto_tcpstate);
}

void proto_reg_handoff_tcpstate(void) {
    tcpstate_reader_handoff(dissect_tcp_reader);
}

/* Statistics and the connection table are tap listeners (tcpstate-stats.c, -conns.c). */
static void register_tap_listeners(void) {
    tcpstate_stats_register();
    tcpstate_conns_register();
}

void plugin_register(void) {
    static proto_plugin plug;
    static tap_plugin tap_plug;

    plug.register_protoinfo = proto_register_tcpstate;
    plug.register_handoff = proto_reg_handoff_tcpstate;
    proto_register_plugin(&plug);
    tap_plug.register_tap_listener = register_tap_listeners;
    tap_register_plugin(&tap_plug);
}

#if TCPSTATE_HAVE_PLUGIN_DESCRIBE
uint32_t plugin_describe(void) {
    return WS_PLUGIN_DESC_DISSECTOR;
}
#endif
