/* pcapread.h: the TCP segments of a pcap or pcapng file, for test tools.
 *
 * Reads pcap (micro- or nanosecond, either byte order) and pcapng (any
 * number of sections and interfaces; enhanced, simple and obsolete packet
 * blocks; if_tsresol, if_tsoffset) files, one packet at a time. Link types:
 * Ethernet (802.1Q/802.1ad VLAN tags), raw IP (12, 14, 101, 228, 229), Linux
 * cooked v1 and v2, BSD null and loopback, NFLOG. Network: IPv4 and IPv6 (with
 * extension headers), IP-in-IP, IPv6-in-IP and GRE tunnels (the zone is the
 * tunnel depth: 0 outside any tunnel). Non-first fragments and packets
 * without TCP are skipped, but counted as frames: a segment's frame is its
 * packet's index in the file, from 1. The payload length comes from the IP
 * header (captures cut to the headers keep their lengths); the window scale
 * option is read from SYNs. One TCP layer per packet (the first found).
 *
 * A malformed file (truncated record or block, impossible length) gives an
 * error message, never a crash; the segments before it were returned.
 */
#ifndef PCAPREAD_H
#define PCAPREAD_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstate.h"

typedef struct pcapread pcapread;

/* 1 if the file at path starts as a pcap or pcapng file, else 0. */
int pcapread_probe(const char *path);

/* Opens a capture. NULL when it cannot be read or is neither pcap nor
 * pcapng, with the reason in err (errlen bytes). */
pcapread *pcapread_open(const char *path, char *err, size_t errlen);

/* The next TCP segment: 1 and *seg filled; 0 at the end of the file; -1 when
 * the file is malformed (the message: pcapread_error()). */
int pcapread_next(pcapread *r, tcps_segment *seg);

/* The message of the last error ("" if none), with the path, packet number
 * and byte offset. */
const char *pcapread_error(const pcapread *r);

/* Packets read so far (TCP or not). */
uint32_t pcapread_frames(const pcapread *r);

/* Closes the file; NULL is fine. */
void pcapread_close(pcapread *r);

#endif /* PCAPREAD_H */
