/* oom_hook.h: allocation failures on demand, for the out-of-memory tests (oom_tracker.c,
 * oom_plugin.c). Force-included (-include) into the tracker's sources of the test build
 * only (tcpstate_tracker_oom in CMakeLists.txt): their malloc, calloc and realloc go
 * through the counting versions of oom_hook.c; tracker/ itself is unchanged.
 */
#ifndef TCPS_OOM_HOOK_H
#define TCPS_OOM_HOOK_H

#include <stddef.h>
#include <stdlib.h>

void *oom_malloc(size_t n);
void *oom_calloc(size_t m, size_t n);
void *oom_realloc(void *p, size_t n);

/* From now on, count the allocation calls, and fail call number fail_at (1 = the next
 * one; 0 = none), and with persist every one after it too. */
void oom_arm(unsigned long fail_at, int persist);
/* Allocation calls since oom_arm(), and how many were failed. */
unsigned long oom_calls(void);
unsigned long oom_failed(void);

#ifndef TCPS_OOM_HOOK_IMPL
#define malloc(n) oom_malloc(n)
#define calloc(m, n) oom_calloc(m, n)
#define realloc(p, n) oom_realloc(p, n)
#endif

#endif
