/* tcpstate.h: derive both endpoints' RFC 9293 states from observed TCP segments.
 *
 * A passive observer feeds every TCP segment of a capture, in capture order, to
 * tcps_process(); for each one it gets a record with the state of the client
 * (sender of the first SYN) and of the server, before and after that segment,
 * how sure the tracker is of each, and the typed events of the segment.
 * No I/O, no Wireshark, no aborts: any input gives a record or "not tracked".
 *
 * The implementation, a file per concern (tcps_internal.h says more):
 * names.c (names), diagram.c (the RFC 9293 diagram as a table; every state
 * change goes through it), conn_table.c (connections and their lookup),
 * segment.c (the state machine of one segment), hindsight.c (the log and its
 * replay), process.c (tcps_process() and the connection queries).
 */
#ifndef TCPSTATE_H
#define TCPSTATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TCPS_VERSION "0.1.0"

/* RFC 9293 section 3.3.2 states, in the order of BSD's tcp_fsm.h. */
#define TCPS_STATE_MAP(XX)                                                     \
    XX(CLOSED, "CLOSED")                                                       \
    XX(LISTEN, "LISTEN")                                                       \
    XX(SYN_SENT, "SYN_SENT")                                                   \
    XX(SYN_RECEIVED, "SYN_RECEIVED")                                           \
    XX(ESTABLISHED, "ESTABLISHED")                                             \
    XX(CLOSE_WAIT, "CLOSE_WAIT")                                               \
    XX(FIN_WAIT_1, "FIN_WAIT_1")                                               \
    XX(CLOSING, "CLOSING")                                                     \
    XX(LAST_ACK, "LAST_ACK")                                                   \
    XX(FIN_WAIT_2, "FIN_WAIT_2")                                               \
    XX(TIME_WAIT, "TIME_WAIT")

typedef enum {
#define TCPS__STATE_ENUM(name, str) TCPS_##name,
    TCPS_STATE_MAP(TCPS__STATE_ENUM)
#undef TCPS__STATE_ENUM
    TCPS_STATE_COUNT
} tcps_state;

/* How the tracker knows an endpoint's state. */
#define TCPS_CERTAINTY_MAP(XX)                                                 \
    XX(ASSUMED, "assumed")     /* no segment shows it (LISTEN, midstream) */   \
    XX(INFERRED, "inferred")   /* entered on receipt of a peer's segment,  \
                                  delivery assumed */                          \
    XX(CONFIRMED, "confirmed") /* inferred, then proven by the endpoint's  \
                                  own later segment (its ACK) */               \
    XX(OBSERVED, "observed")   /* entered by a segment the endpoint sent */

typedef enum {
#define TCPS__CERT_ENUM(name, str) TCPS_CERT_##name,
    TCPS_CERTAINTY_MAP(TCPS__CERT_ENUM)
#undef TCPS__CERT_ENUM
    TCPS_CERT_COUNT
} tcps_certainty;

/* Events of one segment. Severity: 0 = chat (normal life of a connection),
 * 1 = note (unusual but legal), 2 = warn (anomaly: the capture or a stack
 * misbehaves). XX(NAME, token, severity, description) */
#define TCPS_EVENT_MAP(XX)                                                               \
    XX(NEW_CONNECTION, "new_connection", 0, "First segment of a connection")             \
    XX(HANDSHAKE_COMPLETE, "handshake_complete", 0, "Three-way handshake complete")      \
    XX(SIMULTANEOUS_OPEN, "simultaneous_open", 1, "Both ends sent a SYN (simultaneous open)") \
    XX(REFUSED, "refused", 1, "Connection refused: RST answering the SYN")               \
    XX(ACTIVE_CLOSE, "active_close", 0, "Active close: first FIN of the connection")     \
    XX(PASSIVE_CLOSE, "passive_close", 0, "Passive close: FIN after the peer's FIN")     \
    XX(THREE_WAY_CLOSE, "three_way_close", 0, "FIN that also acknowledges the peer's FIN (three-way close)") \
    XX(SIMULTANEOUS_CLOSE, "simultaneous_close", 1, "FINs crossed (simultaneous close)") \
    XX(RESET_ACCEPTED, "reset_accepted", 1, "RST accepted: connection aborted")          \
    XX(RESET_CHALLENGE, "reset_challenge", 2, "RST in window but not exact: receiver should send a challenge ACK (RFC 5961)") \
    XX(RESET_IGNORED, "reset_ignored", 2, "RST outside the receive window: ignored")     \
    XX(RETRANSMITTED_SYN, "retransmitted_syn", 1, "Retransmitted SYN")                   \
    XX(RETRANSMITTED_SYNACK, "retransmitted_synack", 1, "Retransmitted SYN-ACK")         \
    XX(RETRANSMITTED_FIN, "retransmitted_fin", 1, "Retransmitted FIN")                   \
    XX(SYN_NEW_ISN, "syn_new_isn", 1, "SYN retried with a new initial sequence number")  \
    XX(KEEPALIVE, "keepalive", 0, "Keep-alive probe")                                    \
    XX(ZERO_WINDOW_PROBE, "zero_window_probe", 1, "Zero-window probe")                   \
    XX(DUPLICATE, "duplicate", 1, "Same segment seen twice")                             \
    XX(DATA_AFTER_FIN, "data_after_fin", 2, "Data beyond the sender's FIN")              \
    XX(PORT_REUSE, "port_reuse", 1, "New connection reusing the address and port pair")  \
    XX(MIDSTREAM, "midstream", 1, "Connection picked up midstream: states assumed")      \
    XX(TIME_WAIT_EXPIRED, "time_wait_expired", 0, "TIME_WAIT 2*MSL timer expired")       \
    XX(HANDSHAKE_UNSEEN, "handshake_unseen", 2, "Segment implies handshake segments the capture lacks") \
    XX(ACKED_UNSEEN, "acked_unseen", 2, "ACK covers data the capture did not show")      \
    XX(BAD_FLAGS, "bad_flags", 2, "Invalid flag combination")                            \
    XX(BAD_ACK, "bad_ack", 2, "ACK does not acknowledge the SYN it answers")             \
    XX(UNEXPECTED, "unexpected", 2, "Segment not acceptable in the receiver's state")    \
    XX(REORDERED, "reordered", 1, "Segment captured after later segments of its sender")     \
    XX(REVISED, "revised", 1, "Segment shows the sender was not in the state shown before: its previous state is revised") \
    XX(SYN_CHALLENGE, "syn_challenge", 2, "SYN in a synchronized state: the receiver sends a challenge ACK and changes nothing (RFC 5961 4.2)")

typedef enum {
#define TCPS__EVENT_ENUM(name, tok, sev, desc) TCPS_EV_##name,
    TCPS_EVENT_MAP(TCPS__EVENT_ENUM)
#undef TCPS__EVENT_ENUM
    TCPS_EVENT_COUNT
} tcps_event;

#define TCPS_EVENT_BIT(ev) (UINT64_C(1) << (ev))

/* TCP header flags, as on the wire. */
enum {
    TCPS_FIN = 0x01,
    TCPS_SYN = 0x02,
    TCPS_RST = 0x04,
    TCPS_PSH = 0x08,
    TCPS_ACK = 0x10,
    TCPS_URG = 0x20,
    TCPS_ECE = 0x40,
    TCPS_CWR = 0x80
};

/* Endpoint index in records. */
enum { TCPS_CLIENT = 0, TCPS_SERVER = 1 };

/* Where the capture was taken. Unknown: a segment is taken as received when
 * it is captured. Near an endpoint: a FIN that endpoint sends was captured as
 * it left, and reaches the far end when the far end's ACK of it, or the near
 * end's next segment (in order), shows it; what the far end sends is captured
 * as it arrives. */
typedef enum {
    TCPS_VANTAGE_UNKNOWN = 0,
    TCPS_VANTAGE_CLIENT = 1,
    TCPS_VANTAGE_SERVER = 2
} tcps_vantage;

typedef struct tcps_config {
    uint64_t time_wait_ns; /* 2*MSL; 0 = TIME_WAIT ends only by reuse (default) */
    int midstream;         /* 1 = track connections first seen without SYN (default) */
    tcps_vantage vantage;  /* default TCPS_VANTAGE_UNKNOWN */
    int hindsight;         /* 1 = keep what tcps_hindsight() needs (default) */
} tcps_config;

/* One observed TCP segment. Addresses in network byte order; IPv4 uses the
 * first 4 bytes of src/dst and family 4; IPv6 family 6. */
typedef struct tcps_segment {
    uint8_t family;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t zone;    /* keeps apart identical tuples seen in different places, e.g.
                         the TCP layer's index in a frame (tunnels); else 0 */
    uint32_t seq, ack;
    uint32_t len;     /* payload bytes */
    uint8_t flags;    /* TCPS_FIN ... TCPS_CWR */
    int8_t wscale;    /* window scale option on a SYN, -1 if absent */
    uint16_t win;     /* window field as on the wire (unscaled) */
    uint64_t time_ns; /* capture time */
    uint32_t frame;   /* capture frame number */
} tcps_segment;

/* The outcome of one segment. Index 0 = client, 1 = server. before[] is the
 * state just before this segment (it may differ from the previous record's
 * after[] when a timer expired or an in-flight SYN was delivered between, and
 * for the sender when its segment shows it was not in the state shown before:
 * event revised). Every change from before[] to after[], and from one
 * record's after[] to the next one's before[] but for a revised one, is a
 * path of RFC 9293's state diagram. */
typedef struct tcps_record {
    uint64_t events;       /* TCPS_EVENT_BIT(ev) set for each event */
    uint32_t conn_id;      /* 1, 2, ... in order of first segment */
    uint32_t entered[2];   /* frame where after[i] was entered */
    uint8_t before[2];     /* tcps_state */
    uint8_t after[2];      /* tcps_state */
    uint8_t cert_before[2]; /* tcps_certainty */
    uint8_t cert[2];       /* tcps_certainty of after[i] */
    uint8_t ended_before[2]; /* 1 if before[i] is after the end of the connection */
    uint8_t ended[2];      /* 1 if after[i] ends the connection for endpoint i */
    uint8_t sender;        /* TCPS_CLIENT or TCPS_SERVER */
    uint8_t roles_assumed; /* 1 if client/server were guessed (no SYN seen) */
} tcps_record;

/* A connection as known now (for connection tables). A conn_id's client and
 * server addresses and ports are fixed when it is created and never swap. */
typedef struct tcps_conn_info {
    uint32_t conn_id;
    uint8_t family;
    uint8_t addr[2][16]; /* client, server */
    uint16_t port[2];
    uint32_t zone;
    uint8_t state[2];
    uint8_t cert[2];
    uint32_t entered[2];        /* frame where state[i] was entered */
    uint64_t entered_ns[2];     /* capture time of that frame */
    uint64_t events;            /* union of the connection's events */
    uint32_t first_frame, last_frame;
    uint8_t roles_assumed;
} tcps_conn_info;

typedef struct tcps_tracker tcps_tracker;

/* Defaults: no TIME_WAIT timer, midstream pickup on, vantage unknown. */
void tcps_config_init(tcps_config *cfg);

/* New tracker (cfg NULL = defaults); NULL only when out of memory. */
tcps_tracker *tcps_new(const tcps_config *cfg);

/* Frees the tracker and everything it holds. NULL is fine. */
void tcps_free(tcps_tracker *t);

/* Feed one segment in capture order. Returns 1 and fills *out, or 0 when the
 * segment is not tracked (midstream off and no SYN; an invalid flag
 * combination on an unknown tuple, which creates no connection; out of
 * memory): *out is then zeroed but for events (bad_flags). */
int tcps_process(tcps_tracker *t, const tcps_segment *seg, tcps_record *out);

/* Number of connections so far, and connection i (0-based, conn_id i + 1)
 * with its states after the last segment fed. At capture time now_ns (0 = no
 * time) a configured TIME_WAIT timer is applied. Returns 0 if i is out of
 * range. */
size_t tcps_conn_count(const tcps_tracker *t);
int tcps_conn_get(const tcps_tracker *t, size_t i, uint64_t now_ns, tcps_conn_info *out);

/* The TIME_WAIT timer (2*MSL) the tracker was configured with; 0 = none. */
uint64_t tcps_time_wait_ns(const tcps_tracker *t);

/* An endpoint's state as of capture time at_ns, given that it entered state
 * at *entered_ns (both absolute capture times) and no later segment of its
 * connection came before at_ns: TIME_WAIT becomes CLOSED once the configured
 * 2*MSL timer ran out (RFC 9293 3.10.8), and *entered_ns is then the moment
 * it ran out. Returns the state (state itself when nothing expired, and for
 * at_ns 0 = no time). The one place the timer rule lives: tcps_conn_get()
 * and the plugin's connection table ask it. */
int tcps_state_at(const tcps_tracker *t, int state, uint64_t *entered_ns, uint64_t at_ns);

/* Hindsight: each endpoint's best-known state just before and just after
 * frame `frame` of connection conn_id, given every segment fed so far; call it
 * once the whole capture was fed. Later segments can show that an earlier one
 * reached its receiver later than it was captured (the receiver's ACK did not
 * cover it: FINs crossed, SYNs crossed), or never (the SYN-ACK or FIN it
 * acknowledged was retransmitted), or that the passive end had no listener
 * (refused) or opened actively (simultaneous open). The causal records of
 * tcps_process() never change; this replays the connection's significant
 * segments with those deliveries moved. Returns 1 and fills before/after; 2
 * when no such evidence exists for the connection: hindsight is then the
 * causal record of that frame (before/after untouched); 0 when unknown
 * (unknown connection, frame before it, hindsight off or out of memory). */
int tcps_hindsight(tcps_tracker *t, uint32_t conn_id, uint32_t frame, uint8_t before[2],
                   uint8_t after[2]);

/* Names: "LAST_ACK", "observed", "three_way_close"; "?" when out of range. */
const char *tcps_state_name(int state);
const char *tcps_certainty_name(int cert);
const char *tcps_event_name(int ev);
const char *tcps_event_description(int ev);
int tcps_event_severity(int ev); /* 0 chat, 1 note, 2 warn; -1 out of range */

/* Progress order of states for one endpoint within one connection: a state
 * never moves to a lower rank. CLOSED is rank 0 before any segment and rank 8
 * after the connection ended for that endpoint (ended != 0); LISTEN after an
 * RST in SYN_RECEIVED is also an end (rank 8). */
int tcps_state_rank(int state, int ended);

#ifdef __cplusplus
}
#endif

#endif /* TCPSTATE_H */
