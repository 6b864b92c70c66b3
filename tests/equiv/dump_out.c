/* dump_out.c: buffered text output for tcps_dump (dump_out.h). */
#include "dump_out.h"

#include <stdarg.h>
#include <string.h>

void out_init(dump_out *o, FILE *f)
{
    o->f = f;
    o->n = 0;
    o->bytes = 0;
    o->failed = 0;
}

void out_flush(dump_out *o)
{
    if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
        o->failed = 1;
    o->n = 0;
    if (fflush(o->f) != 0)
        o->failed = 1;
}

/* Room for n more bytes (n <= sizeof(buf)). */
static char *room(dump_out *o, size_t n)
{
    if (o->n + n > sizeof(o->buf)) {
        if (fwrite(o->buf, 1, o->n, o->f) != o->n)
            o->failed = 1;
        o->n = 0;
    }
    return o->buf + o->n;
}

static void put(dump_out *o, const char *s, size_t n)
{
    while (n) {
        size_t k = n < sizeof(o->buf) ? n : sizeof(o->buf);
        memcpy(room(o, k), s, k);
        o->n += k;
        o->bytes += k;
        s += k;
        n -= k;
    }
}

void out_str(dump_out *o, const char *s)
{
    put(o, s, strlen(s));
}

void out_char(dump_out *o, char c)
{
    *room(o, 1) = c;
    o->n++;
    o->bytes++;
}

/* " [-]digits" of v, written backwards from the end of t. */
static void put_dec(dump_out *o, uint64_t v, int neg)
{
    char t[24];
    size_t i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg)
        t[--i] = '-';
    t[--i] = ' ';
    put(o, t + i, sizeof(t) - i);
}

void out_u(dump_out *o, uint64_t v)
{
    put_dec(o, v, 0);
}

void out_i(dump_out *o, int64_t v)
{
    put_dec(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void out_x(dump_out *o, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char t[24];
    size_t i = sizeof(t);
    do {
        t[--i] = hex[v & 15];
        v >>= 4;
    } while (v);
    t[--i] = ' ';
    put(o, t + i, sizeof(t) - i);
}

void out_bytes(dump_out *o, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    out_char(o, ' ');
    for (size_t i = 0; i < n; i++) {
        out_char(o, hex[p[i] >> 4]);
        out_char(o, hex[p[i] & 15]);
    }
}

void out_fmt(dump_out *o, const char *fmt, ...)
{
    char t[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof(t), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, t, (size_t)n < sizeof(t) ? (size_t)n : sizeof(t) - 1);
}
