/* dump_out.h: buffered text output for tcps_dump, with number formatting
 * cheaper than printf (a dump holds tens of millions of numbers). */
#ifndef DUMP_OUT_H
#define DUMP_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct dump_out {
    FILE *f;
    char buf[1 << 16];
    size_t n;
    uint64_t bytes; /* written so far, flushed or not */
    int failed;     /* a write failed */
} dump_out;

void out_init(dump_out *o, FILE *f);
void out_flush(dump_out *o);
void out_str(dump_out *o, const char *s);
void out_char(dump_out *o, char c);
/* " <v>": a space, then v in decimal or hexadecimal. */
void out_u(dump_out *o, uint64_t v);
void out_i(dump_out *o, int64_t v);
void out_x(dump_out *o, uint64_t v);
/* " <hex bytes>" of n bytes. */
void out_bytes(dump_out *o, const uint8_t *p, size_t n);
/* printf-style, for the rare lines. */
void out_fmt(dump_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif /* DUMP_OUT_H */
