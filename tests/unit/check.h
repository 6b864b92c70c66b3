/* Minimal assertion helpers that print both operands (as libuv's test/task.h). */
#ifndef TCPS_TEST_CHECK_H
#define TCPS_TEST_CHECK_H

#include <stdio.h>

extern int check_failures;

#define CHECK_STATE(ctx, what, got, want)                                            \
    do {                                                                             \
        if ((got) != (want)) {                                                       \
            fprintf(stderr, "  %s: %s is %s, expected %s\n", (ctx), (what),          \
                    tcps_state_name(got), tcps_state_name(want));                    \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CHECK_INT(ctx, what, got, want)                                              \
    do {                                                                             \
        long long g_ = (long long)(got), w_ = (long long)(want);                     \
        if (g_ != w_) {                                                              \
            fprintf(stderr, "  %s: %s is %lld, expected %lld\n", (ctx), (what), g_, w_); \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#endif
