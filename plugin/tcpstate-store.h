/* tcpstate-store.h: the records of a capture, by frame: what the first pass learnt of each
 * tracked TCP layer and of each malformed one, kept compact for every later pass
 * (private to plugin/).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TCPSTATE_STORE_H
#define TCPSTATE_STORE_H

#include <glib.h>

#include "tcpstate-tap.h"
#include "tcpstate.h"

typedef struct tcpstate_store tcpstate_store;

/* A malformed TCP layer: not tracked. */
typedef struct tcpstate_bad {
    guint32 frame;
    guint32 reason; /* tcpstate_bad_reason (tcpstate-tcp-reader.h) */
} tcpstate_bad;

/* An empty store, for one capture; freed by tcpstate_store_free() (NULL is fine). */
tcpstate_store *tcpstate_store_new(void);
void tcpstate_store_free(tcpstate_store *s);

/* First pass, in frame order: the tracker's record of a segment (rec->conn_id != 0), and a
 * malformed layer. */
void tcpstate_store_add(tcpstate_store *s, const tcps_record *rec, const tcps_segment *seg);
void tcpstate_store_add_bad(tcpstate_store *s, guint32 frame, guint32 reason);

/* Every pass. The records of a frame are consecutive, in the order they were added:
 * tcpstate_store_find() gives the index of the first one (-1 for none), and
 * tcpstate_store_next() the one after idx when it is of the same frame (-1 when not). A
 * NULL store has no records. */
gint tcpstate_store_find(tcpstate_store *s, guint32 frame);
gint tcpstate_store_next(const tcpstate_store *s, guint idx, guint32 frame);

/* Record idx into *rec, but for rec->entered (zero): tcpstate_store_entered(). */
void tcpstate_store_get(const tcpstate_store *s, guint idx, tcpstate_rec *rec);

/* Fills rec->entered, for rec, a record of frame: a walk of the connection's transitions. */
void tcpstate_store_entered(const tcpstate_store *s, guint32 frame, tcpstate_rec *rec);

/* The malformed layers of frame, *n of them (none: NULL, 0). */
const tcpstate_bad *tcpstate_store_bad(const tcpstate_store *s, guint32 frame, guint *n);

#endif /* TCPSTATE_STORE_H */
