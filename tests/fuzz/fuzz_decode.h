/* fuzz_decode.h: the fuzz input format, bytes -> configuration and segments.
 *
 * Shared by the libFuzzer target (fuzz_tracker.c) and the equivalence dump
 * (tests/equiv/tcps_dump.c), so both read an input the same way.
 *
 * Input layout (all integers little-endian):
 *   header, FUZZ_HDR bytes:
 *     [0] config: bit 0 midstream OFF; bits 1-2 vantage (3 = unknown);
 *         bit 3 hindsight OFF; bits 4-5 TIME_WAIT: off, 1 ms, 60 s, 240 s
 *     [1] queries: bit 0 hindsight of every frame at the end; bit 1
 *         hindsight of the current frame while feeding; bit 2
 *         tcps_conn_get() of every connection at the end
 *     [2..3] start time, seconds
 *   then records of FUZZ_REC bytes:
 *     [0] tuple: bits 0-6 key (fuzz_tuple()), bit 7 direction (b -> a)
 *     [1] mode: bit 0 zone 1; bit 1 seq relative to the sender's last end;
 *         bit 2 ack relative to the receiver's last end; bit 3 window scale
 *         option present; bits 4-5 time unit of the delta (us, ms, s, ms
 *         backwards); bit 6 same frame number as the previous record (a
 *         second TCP layer of one frame); bit 7 tcps_conn_get() now
 *     [2] TCP flags
 *     [3] window scale shift (int8) with mode bit 3; else zone bits 1-8 (up
 *         to 512 zones: many distinct tuples, hash probing)
 *     [4..7] seq (absolute, or a signed delta)
 *     [8..11] ack (absolute, or a signed delta)
 *     [12..15] payload length
 *     [16..17] window
 *     [18..19] time delta
 * A trailing partial record is ignored. pcap2seed.py writes this format from
 * captures.
 */
#ifndef FUZZ_DECODE_H
#define FUZZ_DECODE_H

#include <stdint.h>

#include "tcpstate.h"

#define FUZZ_HDR 4
#define FUZZ_REC 20
#define FUZZ_KEYS 128

/* Header byte 1. */
enum { FUZZ_Q_HINDSIGHT_END = 1, FUZZ_Q_HINDSIGHT_LIVE = 2, FUZZ_Q_CONN_END = 4 };
/* Record byte 1 (mode). */
enum { FUZZ_M_CONN_NOW = 0x80 };

/* Decoding state carried from record to record. */
typedef struct fuzz_decoder {
    uint32_t end[FUZZ_KEYS][2]; /* last sequence end per key and direction */
    uint64_t now;               /* capture time of the last record, ns */
    uint32_t frame;             /* frame number of the last record */
} fuzz_decoder;

/* The configuration of header byte 0. */
void fuzz_config(const uint8_t *hdr, tcps_config *cfg);

/* Starts decoding an input whose FUZZ_HDR header bytes are hdr. */
void fuzz_decode_start(fuzz_decoder *d, const uint8_t *hdr);

/* The segment of the next record (FUZZ_REC bytes at rec). */
void fuzz_decode_next(fuzz_decoder *d, const uint8_t *rec, tcps_segment *s);

#endif /* FUZZ_DECODE_H */
