/* tcpstate-text.h: the plugin's texts: state names, state pairs and summaries, endpoints,
 * TCP flags and event lists (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_TEXT_H
#define TCPSTATE_TEXT_H

#include <stdint.h>

#include <epan/wmem_scopes.h>

#include "tcpstate.h"

/* "10.99.1.1:40001" or "[fd99::1]:40001" for endpoint who (TCPS_CLIENT or TCPS_SERVER) of a
 * connection, allocated in scope. */
char *tcpstate_endpoint_str(wmem_allocator_t *scope, const tcps_conn_info *ci, int who);

/* "FIN, ACK" for TCP flags, allocated in scope; "<none>" without flags. */
char *tcpstate_flags_str(wmem_allocator_t *scope, uint8_t flags);

#endif /* TCPSTATE_TEXT_H */
