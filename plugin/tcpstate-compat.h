/* tcpstate-compat.h: the Wireshark 4.0 / 4.4 / 4.6 API differences the plugin meets, as
 * macros and types; the only place that tests the Wireshark version (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_COMPAT_H
#define TCPSTATE_COMPAT_H

#include <stdbool.h>

#include <glib.h>

#include <ws_version.h>

/* The Wireshark the plugin is built against is maj.min or later. */
#define TCPSTATE_WS_AT_LEAST(maj, min)                                                             \
    (WIRESHARK_VERSION_MAJOR > (maj) ||                                                            \
     (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* pntoh16/32 (wsutil/pint.h) are named pntohu16/32 from 4.6 on. */
#if TCPSTATE_WS_AT_LEAST(4, 6)
#define TCPSTATE_NTOH16(p) pntohu16(p)
#define TCPSTATE_NTOH32(p) pntohu32(p)
#else
#define TCPSTATE_NTOH16(p) pntoh16(p)
#define TCPSTATE_NTOH32(p) pntoh32(p)
#endif

/* tvb_get_guint8 is deprecated from 4.4 on, tvb_get_uint8 absent in 4.0. */
#if TCPSTATE_WS_AT_LEAST(4, 4)
#define TCPSTATE_TVB_U8(tvb, off) tvb_get_uint8((tvb), (off))
#else
#define TCPSTATE_TVB_U8(tvb, off) tvb_get_guint8((tvb), (off))
#endif

/* Boolean preferences, and the booleans of the Flow Graph's items (seq_analysis_item_t,
 * mirrored in tcpstate-flow.c), are gboolean in 4.0 and bool from 4.4 on. */
#if TCPSTATE_WS_AT_LEAST(4, 4)
typedef bool tcpstate_pref_bool;
typedef bool tcpstate_sa_bool;
#else
typedef gboolean tcpstate_pref_bool;
typedef gboolean tcpstate_sa_bool;
#endif

/* plugin_describe() (and <wsutil/plugins.h>, which says what it returns) exist from 4.4 on. */
#if TCPSTATE_WS_AT_LEAST(4, 4)
#define TCPSTATE_HAVE_PLUGIN_DESCRIBE 1
#else
#define TCPSTATE_HAVE_PLUGIN_DESCRIBE 0
#endif

/* A -z tap's init callback (stat_tap_ui) returns bool from 4.6 on, void before: such a
 * callback returns tcpstate_stat_init_ret, with `return TCPSTATE_STAT_INIT_OK;`. */
#if TCPSTATE_WS_AT_LEAST(4, 6)
typedef bool tcpstate_stat_init_ret;
#define TCPSTATE_STAT_INIT_OK true
#else
typedef void tcpstate_stat_init_ret;
#define TCPSTATE_STAT_INIT_OK
#endif

/* From 4.6 on, tshark's epan_cleanup() frees every tap listener at exit, calling its
 * finish callback. */
#if TCPSTATE_WS_AT_LEAST(4, 6)
#define TCPSTATE_TAP_LISTENERS_FREED_AT_EXIT 1
#else
#define TCPSTATE_TAP_LISTENERS_FREED_AT_EXIT 0
#endif

#endif /* TCPSTATE_COMPAT_H */
