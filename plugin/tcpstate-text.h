/* tcpstate-text.h: the plugin's texts: state pairs, the state summary of a tree label and
 * of the Info column, endpoints, TCP flags and event lists (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_TEXT_H
#define TCPSTATE_TEXT_H

#include <stdint.h>

#include <glib.h>

#include <epan/wmem_scopes.h>

#include "tcpstate-tap.h"
#include "tcpstate.h"

/* "FIN_WAIT_2/CLOSE_WAIT" (sep "/") or "FIN_WAIT_2 / CLOSE_WAIT" (sep " / "): client state,
 * sep, server state, allocated in scope. */
char *tcpstate_pair_str(wmem_allocator_t *scope, const uint8_t states[2], const char *sep);

/* Size of the tree labels' buffers (tcpstate_*_label): Wireshark's ITEM_LABEL_LENGTH. */
#define TCPSTATE_LABEL_SIZE 240
/* Longest endpoint or certainty text a label takes ("[" IPv6 "]:" port is 55 bytes). */
#define TCPSTATE_ENDPOINT_MAX 64

/* prefix, then "client FIN_WAIT_1 -> FIN_WAIT_2, server CLOSE_WAIT" (the tree's label) into
 * buf, with its terminating NUL; prefix at most 64 bytes. */
void tcpstate_summary_label(char buf[TCPSTATE_LABEL_SIZE], const char *prefix,
                            const tcpstate_rec *rec);

/* "Client 10.99.1.1:40001: ESTABLISHED (certain), since frame 3" (who "Client") into buf,
 * with its terminating NUL; who at most 16 bytes. Built without printf: a shown or printed
 * tree (tshark -T fields, -V) has two a frame. */
void tcpstate_endpoint_label(char buf[TCPSTATE_LABEL_SIZE], const char *who, const char *endpoint,
                             uint8_t state, const char *certainty, guint32 entered);

/* "Hindsight: client CLOSED, server TIME_WAIT" into buf, with its terminating NUL. */
void tcpstate_hindsight_label(char buf[TCPSTATE_LABEL_SIZE], const uint8_t after[2]);

/* Size of the buffer tcpstate_info_text() writes: its longest text, with two state names of
 * at most 12 bytes each, has 72 bytes with the terminating NUL. */
#define TCPSTATE_INFO_SIZE 96

/* " [C:FIN_WAIT_1->FIN_WAIT_2 S:CLOSE_WAIT]" (the Info column's text) into buf, with its
 * terminating NUL. */
void tcpstate_info_text(char buf[TCPSTATE_INFO_SIZE], const tcpstate_rec *rec);

/* "10.99.1.1:40001" or "[fd99::1]:40001" for endpoint who (TCPS_CLIENT or TCPS_SERVER) of a
 * connection, allocated in scope. */
char *tcpstate_endpoint_str(wmem_allocator_t *scope, const tcps_conn_info *ci, int who);

/* "FIN,ACK" for TCP flags (TCPS_FIN ...), allocated in scope; "<none>" without flags. */
char *tcpstate_flags_str(wmem_allocator_t *scope, uint8_t flags);

/* The names of events ("active_close,passive_close" for sep ","), in event order, allocated
 * in scope; none when there is no event. */
char *tcpstate_events_str(wmem_allocator_t *scope, uint64_t events, const char *sep,
                          const char *none);

#endif /* TCPSTATE_TEXT_H */
