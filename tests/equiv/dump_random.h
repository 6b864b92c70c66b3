/* dump_random.h: random inputs in the fuzz format (tests/fuzz/fuzz_decode.h)
 * that reach deep states, for tcps_dump --random.
 *
 * Ten tuples at a time (IPv4 and IPv6 keys), each running a loose model of a
 * connection's life: handshake (refused, retransmitted, new ISN, simultaneous
 * open, midstream pickup), data both ways with lagging ACKs, keep-alives, zero
 * windows, FINs from either side or both, RSTs in and out of the window, and
 * reuse of the tuple once closed; a closed tuple is sometimes swapped for
 * another (of up to 512 zones: thousands of tuples over a run, so the
 * connection table grows and probes). On top of the model,
 * segments are dropped, duplicated, retransmitted, held back (reordered) and
 * mutated (random flags, sequence and acknowledgement numbers, lengths), and
 * a few go to odd tuples (port 0, a socket connected to itself, an unknown
 * address family). Time goes forward by micro- or milliseconds, sometimes by
 * seconds (TIME_WAIT timers run out), rarely backwards; a few records share
 * the previous one's frame or ask for live queries. The same n and seed give
 * the same bytes on every platform.
 */
#ifndef DUMP_RANDOM_H
#define DUMP_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* The header and n records (*size bytes, malloc'ed); NULL if out of memory. */
uint8_t *random_input(uint64_t n, uint64_t seed, size_t *size);

#endif /* DUMP_RANDOM_H */
