/* oom_hook.c: the counting allocation functions of oom_hook.h. */
#define TCPS_OOM_HOOK_IMPL
#include "oom_hook.h"

static unsigned long calls, failed, fail_at;
static int persist;

void oom_arm(unsigned long at, int keep_failing)
{
    calls = failed = 0;
    fail_at = at;
    persist = keep_failing;
}

unsigned long oom_calls(void)
{
    return calls;
}

unsigned long oom_failed(void)
{
    return failed;
}

static int fail_now(void)
{
    calls++;
    if (fail_at != 0 && (calls == fail_at || (persist && calls > fail_at))) {
        failed++;
        return 1;
    }
    return 0;
}

void *oom_malloc(size_t n)
{
    return fail_now() ? NULL : malloc(n);
}

void *oom_calloc(size_t m, size_t n)
{
    return fail_now() ? NULL : calloc(m, n);
}

void *oom_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : realloc(p, n);
}
