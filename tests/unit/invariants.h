/* Invariants every record stream must keep, whatever the input: used by the
 * perturbation test (and the fuzz target). */
#ifndef TCPS_TEST_INVARIANTS_H
#define TCPS_TEST_INVARIANTS_H

#include <stddef.h>

#include "tcpstate.h"

typedef struct inv_state inv_state;

inv_state *inv_new(void);
void inv_free(inv_state *s);

/* Checks one record; returns NULL if fine, else a static message. */
const char *inv_check(inv_state *s, const tcps_record *r);

/* Can an endpoint in state a (ended ea) be in state b (ended eb) later in the
 * same connection: is there a path of RFC 9293's state diagram from one to
 * the other? (Written from the RFC in invariants.c, not from the tracker.) */
int inv_path(int a, int ea, int b, int eb);

#endif
