#define _POSIX_C_SOURCE 200809L
/* The scenario table: expectations are RFC 9293's, written by hand from the
 * RFC text (section in `why`), never produced by the tracker.
 * Client 10.0.0.1:40000, server 10.0.0.2:80; ISNs client 1000, server 5000. */
#include "scenarios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The textbook connection up to both ESTABLISHED with 10 bytes from the client. */
#define OPEN                                                                   \
    "c S 1000 0 0 SYN_SENT:o LISTEN:a +new_connection;"                        \
    "s SA 5000 1001 0 ESTABLISHED:i SYN_RECEIVED:o;"                           \
    "c A 1001 5001 0 ESTABLISHED:c ESTABLISHED:i +handshake_complete;"          \
    "c PA 1001 5001 10 ESTABLISHED ESTABLISHED;"                               \
    "s A 5001 1011 0 ESTABLISHED ESTABLISHED;"

/* ... then the client closes first (four segments). */
#define CLIENT_CLOSE                                                           \
    OPEN "c FA 1011 5001 0 FIN_WAIT_1:o CLOSE_WAIT:i +active_close;"           \
         "s A 5001 1012 0 FIN_WAIT_2:i CLOSE_WAIT:c;"                          \
         "s FA 5001 1012 0 TIME_WAIT:i LAST_ACK:o +passive_close -three_way_close;" \
         "c A 1012 5002 0 TIME_WAIT:c CLOSED:i;"

#define SERVER_CLOSE                                                           \
    OPEN "s FA 5001 1011 0 CLOSE_WAIT:i FIN_WAIT_1:o +active_close;"           \
         "c A 1011 5002 0 CLOSE_WAIT:c FIN_WAIT_2:i;"                          \
         "c FA 1011 5002 0 LAST_ACK:o TIME_WAIT:i +passive_close;"             \
         "s A 5002 1012 0 CLOSED:i TIME_WAIT:c;"

const scenario scenarios[] = {
    {"handshake_client_close", "3.3.2 fig. 5: CLOSED->SYN_SENT->ESTABLISHED->FIN_WAIT_1->FIN_WAIT_2"
     "->TIME_WAIT; LISTEN->SYN_RECEIVED->ESTABLISHED->CLOSE_WAIT->LAST_ACK->CLOSED",
     CLIENT_CLOSE, 0, 0, 0},
    {"server_closes_first", "3.6 normal close, server active", SERVER_CLOSE, 0, 0, 0},
    {"three_way_close", "3.10.7.4 eighth: FIN_WAIT_1 + FIN acknowledging our FIN -> TIME_WAIT",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1:o CLOSE_WAIT:i +active_close;"
          "s FA 5001 1012 0 TIME_WAIT:i LAST_ACK:o +three_way_close +passive_close;"
          "c A 1012 5002 0 TIME_WAIT:c CLOSED:i",
     0, 0, 0},
    {"fin_acked_only_past_fin", "3.10.7.4 fifth: our FIN is acknowledged by ACK >= FIN seq + 1",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s A 5001 1011 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s PA 5001 1011 5 FIN_WAIT_1 CLOSE_WAIT;"
          "s A 5006 1012 0 FIN_WAIT_2 CLOSE_WAIT",
     0, 0, 0},
    {"simultaneous_close", "3.6 fig. 13 / 3.10.7.4 eighth: FINs cross, FIN_WAIT_1 -> CLOSING -> TIME_WAIT",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT +active_close h=FIN_WAIT_1/ESTABLISHED;"
          "s FA 5001 1011 0 CLOSING:i CLOSING:i +simultaneous_close -three_way_close"
          " h=CLOSING/FIN_WAIT_1;"
          "s A 5002 1012 0 TIME_WAIT CLOSING h=TIME_WAIT/CLOSING;"
          "c A 1012 5002 0 TIME_WAIT TIME_WAIT h=TIME_WAIT/TIME_WAIT",
     0, 0, 0},
    {"simultaneous_close_other_order", "3.6 fig. 13, the server's FIN captured first",
     OPEN "s FA 5001 1011 0 CLOSE_WAIT FIN_WAIT_1 +active_close;"
          "c FA 1011 5001 0 CLOSING CLOSING +simultaneous_close;"
          "c A 1012 5002 0 CLOSING TIME_WAIT;"
          "s A 5002 1012 0 TIME_WAIT TIME_WAIT",
     0, 0, 0},
    {"simultaneous_open", "3.5 fig. 7 / 3.10.7.3 fourth: SYN_SENT -> SYN_RECEIVED -> ESTABLISHED on both",
     "c S 1000 0 0 SYN_SENT:o LISTEN:a h=SYN_SENT/CLOSED;"
     "s S 5000 0 0 SYN_RECEIVED:i SYN_SENT:o +simultaneous_open h=SYN_RECEIVED/SYN_SENT;"
     "c SA 1000 5001 0 SYN_RECEIVED:o ESTABLISHED:i h=SYN_RECEIVED/ESTABLISHED;"
     "s SA 5000 1001 0 ESTABLISHED:i ESTABLISHED +handshake_complete h=ESTABLISHED/ESTABLISHED",
     0, 0, 0},
    {"refused", "3.10.7.3 first: RST acknowledging the SYN in SYN_SENT; 3.10.7.1: no listener,"
     " so in hindsight the server was CLOSED",
     "c S 1000 0 0 SYN_SENT LISTEN:a h=SYN_SENT/CLOSED;"
     "s RA 0 1001 0 CLOSED:i CLOSED:o +refused +reset_accepted h=CLOSED/CLOSED",
     0, 0, 0},
    {"rst_syn_sent_bad_ack", "3.10.7.3 first: RST whose ACK does not acknowledge the SYN is dropped",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s RA 0 999 0 SYN_SENT LISTEN +reset_ignored -refused",
     0, 0, 0},
    {"rst_exact_established", "RFC 5961 3.2: RST at exactly RCV.NXT resets (3.10.7.4 second)",
     OPEN "c R 1011 0 0 CLOSED:o CLOSED:i +reset_accepted", 0, 0, 0},
    {"rst_in_window_inexact", "RFC 5961 3.2: in window but not RCV.NXT: challenge ACK, no change",
     OPEN "c R 1500 0 0 ESTABLISHED ESTABLISHED +reset_challenge -reset_accepted;"
          "s A 5001 1011 0 ESTABLISHED ESTABLISHED",
     0, 0, 0},
    {"rst_out_of_window", "RFC 5961 3.2 / 3.10.7.4 first: RST outside the window is ignored",
     OPEN "c R 900000 0 0 ESTABLISHED ESTABLISHED +reset_ignored", 0, 0, 0},
    {"rst_syn_received_passive", "3.10.7.4 second: passive SYN_RECEIVED returns to LISTEN on RST",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c R 1001 0 0 CLOSED:o LISTEN +reset_accepted",
     0, 0, 0},
    {"rst_close_wait", "3.10.7.4 second: RST in CLOSE_WAIT (abort, 3.10.5)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s A 5001 1012 0 FIN_WAIT_2 CLOSE_WAIT;"
          "s RA 5001 1012 0 CLOSED:i CLOSED:o +reset_accepted",
     0, 0, 0},
    {"rst_fin_wait_1", "3.10.7.4 second: RST in FIN_WAIT_1 enters CLOSED",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s R 5001 0 0 CLOSED:i CLOSED:o +reset_accepted",
     0, 0, 0},
    {"rst_fin_wait_2", "3.10.7.4 second: RST in FIN_WAIT_2 (e.g. to data after close) enters CLOSED",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s A 5001 1012 0 FIN_WAIT_2 CLOSE_WAIT;"
          "s PA 5001 1012 10 FIN_WAIT_2 CLOSE_WAIT;"
          "c R 1012 0 0 CLOSED:o CLOSED:i +reset_accepted",
     0, 0, 0},
    {"rst_closing", "3.10.7.4 second: RST in CLOSING enters CLOSED",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s FA 5001 1011 0 CLOSING CLOSING;"
          "s R 5002 0 0 CLOSED CLOSED +reset_accepted",
     0, 0, 0},
    {"rst_last_ack", "3.10.7.4 second: RST in LAST_ACK enters CLOSED",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s FA 5001 1012 0 TIME_WAIT LAST_ACK;"
          "c R 1012 0 0 CLOSED:o CLOSED:i +reset_accepted",
     0, 0, 0},
    {"fin_in_syn_received", "3.10.7.4 fifth then eighth: ACK,FIN in SYN_RECEIVED: ESTABLISHED, CLOSE_WAIT",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c FA 1001 5001 0 FIN_WAIT_1 CLOSE_WAIT:i",
     0, 0, 0},
    {"rst_in_time_wait", "3.10.7.4 second: RST in TIME_WAIT enters CLOSED",
     SERVER_CLOSE "c R 1012 0 0 CLOSED CLOSED:i +reset_accepted;", 0, 0, 0},
    {"syn_sent_abort", "3.10.5 ABORT in SYN_SENT: the client resets, the listener stays LISTEN",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "c R 1001 0 0 CLOSED:o LISTEN +reset_accepted",
     0, 0, 0},
    {"listen_until_answer", "3.10.7.2: the passive side is LISTEN until its SYN-ACK shows SYN_RECEIVED",
     "c S 1000 0 0 SYN_SENT LISTEN:a;"
     "c S 1000 0 0 t=1000 SYN_SENT LISTEN:a +retransmitted_syn;"
     "s SA 5000 1001 0 t=1001 ESTABLISHED SYN_RECEIVED:o",
     0, 0, 0},
    {"syn_new_isn", "a SYN retried with a new ISN before any answer is the same attempt",
     "c S 1000 0 0 SYN_SENT LISTEN #1;"
     "c S 3000 0 0 t=1000 SYN_SENT LISTEN +syn_new_isn -new_connection #1;"
     "s SA 5000 3001 0 t=1001 ESTABLISHED SYN_RECEIVED -bad_ack #1",
     0, 0, 0},
    {"retransmitted_synack", "3.10.7.3: a retransmitted SYN-ACK changes nothing",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "s SA 5000 1001 0 t=1000 ESTABLISHED SYN_RECEIVED +retransmitted_synack;"
     "c A 1001 5001 0 t=1001 ESTABLISHED ESTABLISHED",
     0, 0, 0},
    {"lost_last_ack", "3.10.7.4: LAST_ACK retransmits its FIN: the first ACK was lost (hindsight)",
     CLIENT_CLOSE "s FA 5001 1012 0 t=300 TIME_WAIT CLOSED +retransmitted_fin;"
                  "c A 1012 5002 0 t=301 TIME_WAIT CLOSED h=TIME_WAIT/CLOSED",
     0, 0, 0},
    {"lost_last_ack_hindsight", "the lost ACK leaves the server in LAST_ACK until the next one",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s FA 5001 1012 0 TIME_WAIT LAST_ACK h=TIME_WAIT/LAST_ACK;"
          "c A 1012 5002 0 TIME_WAIT CLOSED h=TIME_WAIT/LAST_ACK;"
          "s FA 5001 1012 0 t=300 TIME_WAIT CLOSED +retransmitted_fin h=TIME_WAIT/LAST_ACK;"
          "c A 1012 5002 0 t=301 TIME_WAIT CLOSED h=TIME_WAIT/CLOSED",
     0, 0, 0},
    {"lost_third_ack_hindsight", "3.10.7.3: the server retransmits its SYN-ACK: the ACK was lost",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED h=ESTABLISHED/SYN_RECEIVED;"
     "s SA 5000 1001 0 t=1000 ESTABLISHED ESTABLISHED +retransmitted_synack h=ESTABLISHED/SYN_RECEIVED;"
     "c A 1001 5001 0 t=1001 ESTABLISHED ESTABLISHED h=ESTABLISHED/ESTABLISHED",
     0, 0, 0},
    {"lost_synack_hindsight", "the client retries its SYN after the SYN-ACK: that SYN-ACK was lost",
     "c S 1000 0 0 SYN_SENT LISTEN h=SYN_SENT/LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED h=SYN_SENT/SYN_RECEIVED;"
     "c S 1000 0 0 t=1000 ESTABLISHED SYN_RECEIVED +retransmitted_syn h=SYN_SENT/SYN_RECEIVED;"
     "s SA 5000 1001 0 t=1001 ESTABLISHED SYN_RECEIVED +retransmitted_synack"
     " h=ESTABLISHED/SYN_RECEIVED;"
     "c A 1001 5001 0 t=1002 ESTABLISHED ESTABLISHED h=ESTABLISHED/ESTABLISHED",
     0, 0, 0},
    {"retransmitted_fin", "3.10.7.4 eighth: a FIN already received changes nothing",
     OPEN "c FA 1011 5001 0 t=10 FIN_WAIT_1 CLOSE_WAIT;"
          "c FA 1011 5001 0 t=300 FIN_WAIT_1 CLOSE_WAIT +retransmitted_fin -duplicate;"
          "s A 5001 1012 0 t=301 FIN_WAIT_2 CLOSE_WAIT",
     0, 0, 0},
    {"keepalive", "3.8.4: a keep-alive (SEG.SEQ = SND.NXT - 1) changes nothing",
     OPEN "c A 1010 5001 0 t=7000 ESTABLISHED ESTABLISHED +keepalive;"
          "s A 5001 1011 0 t=7001 ESTABLISHED ESTABLISHED",
     0, 0, 0},
    {"zero_window_probe", "3.8.6.1: probes of a zero window change nothing",
     OPEN "s A 5001 1011 0 win=0 ESTABLISHED ESTABLISHED;"
          "c PA 1011 5001 1 t=200 ESTABLISHED ESTABLISHED +zero_window_probe;"
          "c A 1010 5001 0 t=400 ESTABLISHED ESTABLISHED +zero_window_probe -keepalive",
     0, 0, 0},
    {"duplicate_frame", "the same frame captured twice changes nothing",
     OPEN "c PA 1011 5001 5 t=5 ESTABLISHED ESTABLISHED -duplicate;"
          "c PA 1011 5001 5 t=5 ESTABLISHED ESTABLISHED +duplicate;"
          "c FA 1016 5001 0 t=6 FIN_WAIT_1 CLOSE_WAIT;"
          "c FA 1016 5001 0 t=6 FIN_WAIT_1 CLOSE_WAIT +duplicate",
     0, 0, 0},
    {"reuse_after_time_wait", "a new SYN on the pair after the close starts a new connection",
     CLIENT_CLOSE "c S 90000 0 0 t=2000 SYN_SENT LISTEN +new_connection +port_reuse #2;"
                  "s SA 7000 90001 0 t=2001 ESTABLISHED SYN_RECEIVED #2",
     0, 0, 0},
    {"reuse_after_server_close", "reuse when the server holds TIME_WAIT",
     SERVER_CLOSE "c S 90000 0 0 t=2000 SYN_SENT LISTEN +port_reuse #2", 0, 0, 0},
    {"time_wait_stays", "3.10.8: TIME_WAIT ends only by 2*MSL or reuse (timer off)",
     CLIENT_CLOSE "s FA 5001 1012 0 t=70000 TIME_WAIT CLOSED +retransmitted_fin", 0, 0, 0},
    {"time_wait_timer", "3.10.8: TIME_WAIT -> CLOSED when the 2*MSL timer expires",
     CLIENT_CLOSE "s FA 5001 1012 0 t=70000 CLOSED CLOSED +time_wait_expired", 60000, 0, 0},
    {"time_wait_timer_not_yet", "3.10.8: before 2*MSL, TIME_WAIT stays",
     CLIENT_CLOSE "s FA 5001 1012 0 t=30000 TIME_WAIT CLOSED -time_wait_expired", 60000, 0, 0},
    {"midstream_client_sends", "midstream pickup: both ESTABLISHED assumed; well-known port is the server",
     "c PA 1000 5000 10 ESTABLISHED:a ESTABLISHED:a +midstream @c;"
     "s A 5000 1010 0 ESTABLISHED:a ESTABLISHED:a @s",
     0, 0, 0},
    {"midstream_server_sends_first", "midstream pickup: roles from the well-known port",
     "s PA 5000 1000 10 ESTABLISHED:a ESTABLISHED:a +midstream @s", 0, 0, 0},
    {"midstream_lower_port", "midstream pickup, no well-known port: the lower port is the server",
     "c PA 1000 5000 10 sp=6000 dp=5000 ESTABLISHED:a ESTABLISHED:a @c;"
     "c FA 1010 5000 0 sp=6000 dp=5000 FIN_WAIT_1:o CLOSE_WAIT:i @c",
     0, 0, 0},
    {"midstream_off", "midstream pickup disabled: a connection without SYN is not tracked",
     "c PA 1000 5000 10 X X;"
     "c S 1000 0 0 t=10 SYN_SENT LISTEN",
     0, 1, 0},
    {"synack_first", "roles from the SYN-ACK when the SYN is missing",
     "s SA 5000 1001 0 ESTABLISHED:i SYN_RECEIVED:o +handshake_unseen @s;"
     "c A 1001 5001 0 ESTABLISHED:c ESTABLISHED:i @c",
     0, 0, 0},
    {"handshake_reordered", "a SYN captured after its SYN-ACK changes nothing",
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c S 1000 0 0 ESTABLISHED SYN_RECEIVED +retransmitted_syn +reordered -new_connection",
     0, 0, 0},
    {"synack_missing", "an ACK from SYN_SENT proves a SYN-ACK the capture lacks (3.10.7.2"
     " third, 3.10.7.3 fourth): between the frames SYN_RECEIVED / ESTABLISHED",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "c A 1001 5001 0 ESTABLISHED:i ESTABLISHED:i +handshake_unseen +handshake_complete",
     0, 0, 0},
    {"syn_received_close", "3.10.4: CLOSE in SYN_RECEIVED sends FIN, FIN_WAIT_1",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "s FA 5001 1001 0 CLOSE_WAIT:i FIN_WAIT_1:o +active_close",
     0, 0, 0},
    {"fast_open", "RFC 7413: data on the SYN; SYN-ACK acknowledging it",
     "c S 1000 0 20 SYN_SENT LISTEN;"
     "s SA 5000 1021 0 ESTABLISHED SYN_RECEIVED -bad_ack;"
     "c A 1021 5001 0 ESTABLISHED ESTABLISHED +handshake_complete",
     0, 0, 0},
    {"sequence_wrap", "3.4: sequence arithmetic is modulo 2^32",
     "c S 4294967280 0 0 SYN_SENT LISTEN;"
     "s SA 5000 4294967281 0 ESTABLISHED SYN_RECEIVED;"
     "c A 4294967281 5001 0 ESTABLISHED ESTABLISHED;"
     "c PA 4294967281 5001 20 ESTABLISHED ESTABLISHED;"
     "s A 5001 5 0 ESTABLISHED ESTABLISHED -acked_unseen;"
     "c FA 5 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
     "s A 5001 5 0 FIN_WAIT_1 CLOSE_WAIT;"
     "s A 5001 6 0 FIN_WAIT_2 CLOSE_WAIT",
     0, 0, 0},
    {"syn_fin", "SYN+FIN is not a valid segment: no state effect, no connection",
     "c SF 1000 0 0 X X;"
     "c S 1000 0 0 t=10 SYN_SENT LISTEN #1 -port_reuse",
     0, 0, 0},
    {"syn_fin_in_connection", "SYN+FIN within a connection: bad flags, no state effect",
     OPEN "c SF 1011 5001 0 ESTABLISHED ESTABLISHED +bad_flags", 0, 0, 0},
    {"data_after_fin", "3.10.7.4 seventh: no data after the sender's FIN",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "c PA 1012 5001 5 FIN_WAIT_1 CLOSE_WAIT +data_after_fin",
     0, 0, 0},
    {"acked_unseen", "an ACK beyond what the capture showed the peer send",
     OPEN "s A 5001 1100 0 ESTABLISHED ESTABLISHED +acked_unseen", 0, 0, 0},
    {"vantage_client_close", "vantage client: the client's FIN reaches the server when its ACK shows",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1:o ESTABLISHED +active_close;"
          "s A 5001 1012 0 FIN_WAIT_2:i CLOSE_WAIT:c;"
          "s FA 5001 1012 0 TIME_WAIT:i LAST_ACK:o +passive_close;"
          "c A 1012 5002 0 TIME_WAIT:c CLOSED:i",
     0, 0, TCPS_VANTAGE_CLIENT},
    {"vantage_client_simultaneous_close", "3.6 fig. 13 at the client: the server's FIN, sent before "
     "the client's arrived, takes it FIN_WAIT_1; the client's reaches it before the client's ACK",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 ESTABLISHED +active_close;"
          "s FA 5001 1011 0 CLOSING:i FIN_WAIT_1:o +simultaneous_close;"
          "c A 1012 5002 0 CLOSING TIME_WAIT;"
          "s A 5002 1012 0 TIME_WAIT TIME_WAIT",
     0, 0, TCPS_VANTAGE_CLIENT},
    {"vantage_server_three_way_close", "3.10.7.4 eighth at the server: its FIN,ACK reaches the client "
     "when the client's ACK shows, FIN_WAIT_1 -> TIME_WAIT",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT +active_close;"
          "s FA 5001 1012 0 FIN_WAIT_1 LAST_ACK +passive_close +three_way_close;"
          "c A 1012 5002 0 TIME_WAIT:c CLOSED:i",
     0, 0, TCPS_VANTAGE_SERVER},
    {"vantage_client_fin_retransmitted", "vantage client: a FIN not yet acknowledged reaches the "
     "server in order, before the client's next segment (its retransmission)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 ESTABLISHED;"
          "c FA 1011 5001 0 t=200 FIN_WAIT_1 CLOSE_WAIT +retransmitted_fin;"
          "s A 5001 1012 0 t=201 FIN_WAIT_2 CLOSE_WAIT:c",
     0, 0, TCPS_VANTAGE_CLIENT},
    /* Receiver acceptance (issue 14), each seen in random kernel cases
     * (pcaps/random/, tests/kernel/random_test.py). */
    {"rst_noack_rejects_synack",
     "3.10.7.1, Linux tcp_v4_send_reset: an RST without ACK, <SEQ=SEG.ACK>, answers a segment"
     " with no connection: the client had closed in SYN-SENT (3.10.4) and never took the"
     " SYN-ACK (hindsight); the passive server returns to LISTEN (3.10.7.4 second)",
     "c S 1000 0 0 SYN_SENT LISTEN h=SYN_SENT/LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED h=CLOSED/SYN_RECEIVED;"
     "c R 1001 0 0 CLOSED LISTEN +reset_accepted h=CLOSED/LISTEN",
     0, 0, 0},
    {"rst_noack_rejects_fin",
     "3.10.7.1, Linux: a FIN answered by an RST without ACK was not taken: an orphan in"
     " FIN-WAIT-2 (tcp_fin_timeout) or closed for reading never entered TIME-WAIT (hindsight)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT;"
          "s A 5001 1012 0 FIN_WAIT_2 CLOSE_WAIT;"
          "s FA 5001 1012 0 TIME_WAIT LAST_ACK h=FIN_WAIT_2/LAST_ACK;"
          "c R 1012 0 0 CLOSED CLOSED +reset_accepted h=CLOSED/CLOSED",
     0, 0, 0},
    {"rst_ignored_closes_its_sender",
     "RFC 5961 3.2: an RST outside the window is ignored by its receiver; its sender, sending"
     " nothing after, aborted (3.10.5) or had no connection (3.10.7.1): CLOSED in hindsight",
     OPEN "s R 900000 0 0 ESTABLISHED ESTABLISHED +reset_ignored h=ESTABLISHED/CLOSED;"
          "c PA 1011 5001 10 ESTABLISHED ESTABLISHED h=ESTABLISHED/CLOSED",
     0, 0, 0},
    {"rst_forged_sender_goes_on",
     "RFC 5961 3: an RST outside the window whose sender goes on sending was not its own"
     " (forged): its sender stays ESTABLISHED in hindsight too",
     OPEN "s R 900000 0 0 ESTABLISHED ESTABLISHED +reset_ignored h=ESTABLISHED/ESTABLISHED;"
          "s PA 5001 1011 10 ESTABLISHED ESTABLISHED h=ESTABLISHED/ESTABLISHED",
     0, 0, 0},
    {"fin_above_gap_ack_at_once",
     "3.10.7.4: a FIN above a sequence gap waits for the gap (eighth), its ACK is taken at once"
     " (fifth): SYN-RECEIVED -> ESTABLISHED, CLOSE_WAIT only once the gap fills (hindsight)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT h=FIN_WAIT_1/ESTABLISHED;"
     "s A 5001 1001 0 FIN_WAIT_1 CLOSE_WAIT h=FIN_WAIT_1/ESTABLISHED;"
     "c PA 1001 5001 10 FIN_WAIT_1 CLOSE_WAIT;"
     "s A 5001 1012 0 FIN_WAIT_2 CLOSE_WAIT h=FIN_WAIT_2/CLOSE_WAIT",
     0, 0, 0},
    {"duplicate_synack_no_lost_ack",
     "a SYN-ACK the network duplicated (identical, within 1 ms) is no retransmission: the"
     " client's ACK was not lost (3.10.7.3 needs an RTO to retransmit)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 t=1 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 t=1 ESTABLISHED ESTABLISHED h=ESTABLISHED/ESTABLISHED;"
     "s SA 5000 1001 0 t=1 ESTABLISHED ESTABLISHED +duplicate h=ESTABLISHED/ESTABLISHED;"
     "s FA 5001 1001 0 t=2 CLOSE_WAIT FIN_WAIT_1 h=CLOSE_WAIT/FIN_WAIT_1",
     0, 0, 0},
    {"fin_retransmitted_first_lost",
     "3.10.7.4: FINs crossed, the client's first FIN lost: the server, whose own FIN was"
     " acknowledged first, goes FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT on the retransmission"
     " (its FIN answers without covering it, and nothing of it is acknowledged before the"
     " retransmission: the first copy never arrived; Linux, random case 2091)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED;"
     "c FA 1001 5001 0 t=10 FIN_WAIT_1 CLOSE_WAIT h=FIN_WAIT_1/ESTABLISHED;"
     "s FA 5001 1001 0 t=11 CLOSING CLOSING h=CLOSING/FIN_WAIT_1;"
     "c A 1002 5002 0 t=12 CLOSING TIME_WAIT h=CLOSING/FIN_WAIT_2;"
     "c FA 1001 5002 0 t=210 CLOSING TIME_WAIT h=CLOSING/TIME_WAIT;"
     "s A 5002 1002 0 t=211 TIME_WAIT TIME_WAIT h=TIME_WAIT/TIME_WAIT",
     0, 0, 0},
    {"rst_above_fin_arrives_after_it",
     "3.10.7.4 first (RFC 5961 3.2): an RST is taken only at the next expected sequence number,"
     " so an RST above its sender's FIN in flight comes after that FIN: CLOSE_WAIT, then CLOSED,"
     " though the receiver's segment sent meanwhile does not cover the FIN (Linux, random case"
     " 2031)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED;"
     "s FA 5001 1001 0 t=5 CLOSE_WAIT FIN_WAIT_1;"
     "s RA 5002 1001 0 t=5 CLOSED CLOSED hb=CLOSE_WAIT/FIN_WAIT_1 h=CLOSED/CLOSED;"
     "c PA 1001 5001 100 t=6 CLOSED CLOSED",
     0, 0, 0},
    {"rst_at_fin_fin_never_arrived",
     "3.10.7.4 first: an RST at its sender's FIN's own sequence number closes the receiver only"
     " if that FIN never arrived (after it, the RST is below the window); the receiver sends"
     " nothing after it: ESTABLISHED -> CLOSED, never CLOSE_WAIT (Linux, random case 2034)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED;"
     "s FA 5001 1001 0 t=5 CLOSE_WAIT FIN_WAIT_1;"
     "c PA 1001 5001 1 t=6 CLOSE_WAIT FIN_WAIT_1 h=ESTABLISHED/FIN_WAIT_1;"
     "s R 5001 0 0 t=6 CLOSED CLOSED h=CLOSED/CLOSED hb=ESTABLISHED/FIN_WAIT_1",
     0, 0, 0},
    {"rst_crossing_receiver_sends",
     "3.10.7.4 first: an endpoint that goes on sending after an RST it would accept had not"
     " received it: the RST crossed its segments and arrived after the last of them (here its"
     " FIN: CLOSE_WAIT -> LAST_ACK -> CLOSED; Linux, random case 2082)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED;"
     "c FA 1001 5001 0 t=5 FIN_WAIT_1 CLOSE_WAIT;"
     "s A 5001 1002 0 t=6 FIN_WAIT_2 CLOSE_WAIT;"
     "s PA 5001 1002 100 t=7 FIN_WAIT_2 CLOSE_WAIT;"
     "c R 1002 0 0 t=7 CLOSED CLOSED h=CLOSED/CLOSE_WAIT;"
     "s PA 5101 1002 100 t=7 CLOSED CLOSED h=CLOSED/CLOSE_WAIT;"
     "s FA 5201 1002 0 t=7 CLOSED CLOSED h=CLOSED/LAST_ACK;"
     "c R 1002 0 0 t=7 CLOSED CLOSED h=CLOSED/CLOSED",
     0, 0, 0},
    {"synack_retransmitted_first_lost",
     "3.10.7.3 fourth: a client in SYN-SENT acknowledges a SYN-ACK at once; a SYN-ACK sent"
     " again with no ACK of the client in between shows the first never arrived; the client,"
     " closed meanwhile, answers the second with an RST (3.10.7.1): never ESTABLISHED (Linux,"
     " random case 3066)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED h=SYN_SENT/SYN_RECEIVED;"
     "s SA 5000 1001 0 t=1000 ESTABLISHED SYN_RECEIVED +retransmitted_synack"
     " h=CLOSED/SYN_RECEIVED;"
     "c R 1001 0 0 t=1005 CLOSED LISTEN h=CLOSED/LISTEN",
     0, 0, 0},
    {"syn_in_synchronized_state_challenged",
     "RFC 5961 4.2 (RFC 9293 3.10.7.4 fourth): a SYN arriving in a synchronized state draws a"
     " challenge ACK and changes nothing; its sender, itself still synchronized, cannot have"
     " sent it from its socket: no new connection (a forged SYN; Linux, random case 2017)",
     OPEN "s FA 5001 1011 0 CLOSE_WAIT FIN_WAIT_1 +active_close;"
          "s S 9000 0 0 CLOSE_WAIT FIN_WAIT_1 +syn_challenge -new_connection -port_reuse"
          " h=CLOSE_WAIT/FIN_WAIT_1;"
          "c A 1011 5002 0 CLOSE_WAIT FIN_WAIT_2;"
          "c FA 1011 5002 0 LAST_ACK TIME_WAIT +passive_close;"
          "s A 5002 1012 0 CLOSED TIME_WAIT h=CLOSED/TIME_WAIT",
     0, 0, 0},
    {"syn_to_client_time_wait_acked",
     "a client's TIME-WAIT has no listener to give a SYN to: it answers with an ACK and stays"
     " (Linux tcp_timewait_state_process(), TCP_TW_SYN without a listener; RFC 9293 3.10.7.4"
     " fourth); the RST that answers that ACK at its sequence number ends it (RFC 5961 3.2,"
     " Linux without tcp_rfc1337; seen in the first capture of random case 2017)",
     CLIENT_CLOSE "s S 9000 0 0 TIME_WAIT CLOSED +syn_challenge -new_connection -port_reuse;"
                  "c A 1012 5002 0 TIME_WAIT CLOSED;"
                  "s R 5002 0 0 CLOSED CLOSED +reset_accepted h=CLOSED/CLOSED",
     0, 0, 0},
    {"forged_rst_sender_goes_on",
     "RFC 5961 3: an RST its receiver accepts closes the receiver; an end that goes on sending"
     " data after it did not send it (a forged RST, 3.10.7.4 first): it stays ESTABLISHED, had"
     " a connection when the SYN-ACK came, and is closed by the peer's RST answering its data"
     " (3.10.7.1; Linux, random case 2001)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED h=ESTABLISHED/SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED +handshake_complete h=ESTABLISHED/ESTABLISHED;"
     "c R 1001 0 0 CLOSED CLOSED +reset_accepted h=ESTABLISHED/CLOSED;"
     "c A 1001 5001 100 CLOSED CLOSED h=ESTABLISHED/CLOSED;"
     "s R 5001 0 0 CLOSED CLOSED h=CLOSED/CLOSED",
     0, 0, 0},
    {"data_to_closed_reader_rst_before_fin",
     "Linux: data reaching a socket closed for reading is answered by an RST at the data's ACK"
     " number (3.10.7.1 <SEQ=SEG.ACK>), and the socket is gone; a FIN sent before that RST"
     " came reaches no socket (answered by the second RST): FIN_WAIT_1 -> CLOSED, never"
     " FIN_WAIT_2 or TIME_WAIT (random case 2020)",
     OPEN "s PA 5001 1011 100 ESTABLISHED ESTABLISHED;"
          "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT +active_close;"
          "s FA 5101 1012 0 TIME_WAIT LAST_ACK h=FIN_WAIT_1/LAST_ACK;"
          "c R 1011 0 0 CLOSED CLOSED +reset_accepted hb=FIN_WAIT_1/LAST_ACK h=CLOSED/CLOSED;"
          "c R 1012 0 0 CLOSED CLOSED h=CLOSED/CLOSED",
     0, 0, 0},
    {"abort_rst_ack_short_of_fin",
     "3.10.7.4 first: an RST's ACK field changes nothing at its receiver; but an abort's RST"
     " carries its sender's RCV.NXT (Linux tcp_send_active_reset(), 3.10.5): one short of the"
     " peer's FIN shows the FIN had not arrived: ESTABLISHED -> CLOSED, never CLOSE_WAIT"
     " (random cases 4059, 4153)",
     OPEN "s FA 5001 1011 0 CLOSE_WAIT FIN_WAIT_1 +active_close h=ESTABLISHED/FIN_WAIT_1;"
          "c RA 1011 5001 0 CLOSED CLOSED +reset_accepted hb=ESTABLISHED/FIN_WAIT_1"
          " h=CLOSED/CLOSED",
     0, 0, 0},
    {"abort_rst_ack_short_of_data",
     "an abort's RST carries its sender's RCV.NXT (Linux tcp_send_active_reset(), 3.10.5): one"
     " short of the end of the peer's data shows that data, and the ACK of the sender's FIN"
     " it carried, had not arrived: FIN_WAIT_1 -> CLOSED, never FIN_WAIT_2 (random case 4038)",
     OPEN "s FA 5001 1011 0 CLOSE_WAIT FIN_WAIT_1 +active_close;"
          "c PA 1011 5002 100 CLOSE_WAIT FIN_WAIT_2 h=CLOSE_WAIT/FIN_WAIT_1;"
          "c FA 1111 5002 0 LAST_ACK TIME_WAIT h=LAST_ACK/FIN_WAIT_1;"
          "s RA 5002 1011 0 CLOSED CLOSED +reset_accepted hb=LAST_ACK/FIN_WAIT_1 h=CLOSED/CLOSED",
     0, 0, 0},
    {"synack_copy_after_data",
     "3.10.7.2/3.10.7.3: a SYN-ACK is retransmitted only from SYN-RECEIVED, and data or a FIN"
     " is sent only once ESTABLISHED (Linux, no Fast Open): the same SYN-ACK captured after its"
     " sender's data is a copy from the network (a duplicate or reordered), and says nothing"
     " of the client's ACK being lost (random case 4025)",
     "c S 1000 0 0 SYN_SENT LISTEN;"
     "s SA 5000 1001 0 ESTABLISHED SYN_RECEIVED;"
     "c A 1001 5001 0 ESTABLISHED ESTABLISHED +handshake_complete h=ESTABLISHED/ESTABLISHED;"
     "s PA 5001 1001 10 ESTABLISHED ESTABLISHED h=ESTABLISHED/ESTABLISHED;"
     "s SA 5000 1001 0 t=30 ESTABLISHED ESTABLISHED +retransmitted_synack +reordered"
     " h=ESTABLISHED/ESTABLISHED",
     0, 0, 0},
    {"rst_no_ack_after_own_abort",
     "3.10.7.1: an RST without ACK answers a segment that found no connection; a segment its"
     " sender had acknowledged (here the FIN, by the abort's RST) found one: a later RST"
     " answering a late copy of older data does not undo that FIN's CLOSE_WAIT (random case"
     " 4118)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT h=FIN_WAIT_1/CLOSE_WAIT;"
          "s RA 5001 1012 0 CLOSED CLOSED +reset_accepted hb=FIN_WAIT_1/CLOSE_WAIT"
          " h=CLOSED/CLOSED;"
          "c PA 1001 5001 10 t=30 CLOSED CLOSED h=CLOSED/CLOSED;"
          "s R 5001 0 0 t=31 CLOSED CLOSED h=CLOSED/CLOSED",
     0, 0, 0},
    {"fin_copy_after_ack_not_lost",
     "a copy of a FIN carrying an ACK below one its sender already sent was made before that"
     " one (a duplicate or reordered copy, not a retransmission; Linux retransmits a lone FIN"
     " no sooner than TCP_RTO_MIN): it says nothing of the peer's ACK being lost, and the"
     " sender went FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT (random case 4132)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT +active_close;"
          "s A 5001 1012 0 FIN_WAIT_2 CLOSE_WAIT h=FIN_WAIT_2/CLOSE_WAIT;"
          "s FA 5001 1012 0 TIME_WAIT LAST_ACK h=TIME_WAIT/LAST_ACK;"
          "c A 1012 5002 0 TIME_WAIT CLOSED;"
          "c FA 1011 5001 0 t=5 TIME_WAIT CLOSED +retransmitted_fin +reordered"
          " h=TIME_WAIT/CLOSED",
     0, 0, 0},
    {"fin_ack_segment_delayed_whole",
     "a segment arrives whole: an ACK of the peer acknowledging everything before a FIN"
     " segment, but not the FIN, shows the segment had not arrived, its ACK field neither"
     " (only a FIN above a sequence gap waits while its ACK is taken, 3.10.7.4): FIN_WAIT_1 ->"
     " TIME_WAIT when it comes, no FIN_WAIT_2 (random case 4092)",
     OPEN "c FA 1011 5001 0 FIN_WAIT_1 CLOSE_WAIT +active_close;"
          "s FA 5001 1012 0 TIME_WAIT LAST_ACK h=FIN_WAIT_1/LAST_ACK;"
          "c A 1012 5001 0 t=40 TIME_WAIT LAST_ACK h=FIN_WAIT_1/LAST_ACK;"
          "c A 1012 5002 0 t=41 TIME_WAIT CLOSED h=TIME_WAIT/CLOSED",
     0, 0, 0},
    {"syn_copy_after_abort",
     "a SYN with the connection's own ISN seen after its sender's abort is an old copy (a new"
     " SYN would open a new connection): its missing ACK tells nothing of the FIN the sender"
     " had acknowledged, nor does it show that the abort's RST was forged (RFC 5961 3):"
     " ESTABLISHED -> CLOSE_WAIT -> CLOSED (random case 4064)",
     OPEN "s FA 5001 1011 0 CLOSE_WAIT FIN_WAIT_1 +active_close h=CLOSE_WAIT/FIN_WAIT_1;"
          "c RA 1011 5002 0 CLOSED CLOSED +reset_accepted h=CLOSED/CLOSED;"
          "c S 1000 0 0 t=30 CLOSED CLOSED +retransmitted_syn +reordered h=CLOSED/CLOSED",
     0, 0, 0},
};

const size_t n_scenarios = sizeof(scenarios) / sizeof(scenarios[0]);

void scenario_config(const scenario *sc, tcps_config *cfg)
{
    tcps_config_init(cfg);
    cfg->time_wait_ns = sc->time_wait_ms * 1000000ull;
    cfg->midstream = !sc->no_midstream;
    cfg->vantage = (tcps_vantage)sc->vantage;
}

static int find_name(const char *tok, size_t n, const char *(*name)(int), int count)
{
    for (int i = 0; i < count; i++) {
        const char *s = name(i);
        if (strlen(s) == n && strncmp(s, tok, n) == 0)
            return i;
    }
    return -1;
}

static int parse_flags(const char *tok, uint8_t *out)
{
    uint8_t f = 0;
    for (const char *p = tok; *p; p++) {
        switch (*p) {
        case 'S': f |= TCPS_SYN; break;
        case 'A': f |= TCPS_ACK; break;
        case 'F': f |= TCPS_FIN; break;
        case 'R': f |= TCPS_RST; break;
        case 'P': f |= TCPS_PSH; break;
        case '.': break;
        default: return -1;
        }
    }
    *out = f;
    return 0;
}

static int parse_expect(const char *tok, int *state, int *cert)
{
    *state = -1;
    *cert = -1;
    if (strcmp(tok, "*") == 0)
        return 0;
    if (strcmp(tok, "X") == 0) {
        *state = -2; /* not tracked */
        return 0;
    }
    const char *colon = strchr(tok, ':');
    size_t n = colon ? (size_t)(colon - tok) : strlen(tok);
    *state = find_name(tok, n, tcps_state_name, TCPS_STATE_COUNT);
    if (*state < 0)
        return -1;
    if (colon) {
        const char *letters = "aico";
        const char *p = colon[1] ? strchr(letters, colon[1]) : NULL;
        if (!p)
            return -1;
        *cert = (int)(p - letters);
    }
    return 0;
}

/* The options t= win= ws= sp= dp= from tok[i] on; returns the index of the first other token. */
static int parse_options(char **tok, int i, int n, tcps_segment *s)
{
    for (; i < n && strchr(tok[i], '='); i++) {
        unsigned long long v = strtoull(strchr(tok[i], '=') + 1, NULL, 10);
        if (strncmp(tok[i], "t=", 2) == 0)
            s->time_ns = v * 1000000ull;
        else if (strncmp(tok[i], "win=", 4) == 0)
            s->win = (uint16_t)v;
        else if (strncmp(tok[i], "ws=", 3) == 0)
            s->wscale = (int8_t)v;
        else if (strncmp(tok[i], "sp=", 3) == 0)
            s->sport = (uint16_t)v;
        else if (strncmp(tok[i], "dp=", 3) == 0)
            s->dport = (uint16_t)v;
    }
    return i;
}

/* CLIENT/SERVER hindsight states of an h= or hb= token into exp[2]. */
static int parse_pair(char *v, int exp[2])
{
    char *slash = strchr(v, '/');
    int c2 = -1;
    if (!slash || parse_expect(slash + 1, &exp[1], &c2) < 0)
        return -1;
    *slash = 0;
    return parse_expect(v, &exp[0], &c2);
}

/* One token after the expected states: h=CLIENT/SERVER (hindsight after the
 * segment), hb=CLIENT/SERVER (just before it), #N, @c or @s, +event, -event. */
static int parse_annotation(char *tok, int idx, step *st, char *err, size_t errlen)
{
    char k = tok[0];
    if (strncmp(tok, "h=", 2) == 0 || strncmp(tok, "hb=", 3) == 0) {
        int before = tok[1] == 'b';
        if (parse_pair(tok + (before ? 3 : 2), before ? st->exp_hsb : st->exp_hs) < 0) {
            snprintf(err, errlen, "step %d: bad hindsight %s", idx + 1, tok);
            return -1;
        }
    } else if (k == '#') {
        st->exp_conn = atoi(tok + 1);
    } else if (k == '@') {
        st->exp_sender = tok[1] == 's' ? TCPS_SERVER : TCPS_CLIENT;
    } else if (k == '+' || k == '-') {
        int ev = find_name(tok + 1, strlen(tok + 1), tcps_event_name, TCPS_EVENT_COUNT);
        if (ev < 0) {
            snprintf(err, errlen, "step %d: unknown event %s", idx + 1, tok);
            return -1;
        }
        if (k == '+')
            st->want_ev |= TCPS_EVENT_BIT(ev);
        else
            st->deny_ev |= TCPS_EVENT_BIT(ev);
    } else {
        snprintf(err, errlen, "step %d: unknown token %s", idx + 1, tok);
        return -1;
    }
    return 0;
}

static int parse_line(char *line, int idx, step *st, char *err, size_t errlen)
{
    char *tok[32];
    int n = 0;
    for (char *p = strtok(line, " \t"); p && n < 32; p = strtok(NULL, " \t"))
        tok[n++] = p;
    if (n < 7) {
        snprintf(err, errlen, "step %d: too few fields", idx + 1);
        return -1;
    }
    memset(st, 0, sizeof(*st));
    tcps_segment *s = &st->seg;
    int client = tok[0][0] == 'c';
    uint8_t ca[4] = {10, 0, 0, 1}, sa[4] = {10, 0, 0, 2};
    s->family = 4;
    memcpy(s->src, client ? ca : sa, 4);
    memcpy(s->dst, client ? sa : ca, 4);
    s->sport = client ? 40000 : 80;
    s->dport = client ? 80 : 40000;
    s->win = 65535;
    s->wscale = -1;
    s->frame = (uint32_t)idx + 1;
    s->time_ns = (uint64_t)idx * 1000u; /* 1 us apart unless t= */
    if (parse_flags(tok[1], &s->flags) < 0) {
        snprintf(err, errlen, "step %d: bad flags %s", idx + 1, tok[1]);
        return -1;
    }
    s->seq = (uint32_t)strtoul(tok[2], NULL, 10);
    s->ack = (uint32_t)strtoul(tok[3], NULL, 10);
    s->len = (uint32_t)strtoul(tok[4], NULL, 10);
    int i = parse_options(tok, 5, n, s);
    if (i + 2 > n || parse_expect(tok[i], &st->exp_state[0], &st->exp_cert[0]) < 0 ||
        parse_expect(tok[i + 1], &st->exp_state[1], &st->exp_cert[1]) < 0) {
        snprintf(err, errlen, "step %d: bad expected states", idx + 1);
        return -1;
    }
    st->exp_sender = -1;
    st->exp_hs[0] = st->exp_hs[1] = st->exp_hsb[0] = st->exp_hsb[1] = -1;
    for (i += 2; i < n; i++)
        if (parse_annotation(tok[i], idx, st, err, errlen) < 0)
            return -1;
    return 0;
}

int scenario_parse(const scenario *sc, step *steps, size_t max, char *err, size_t errlen)
{
    size_t len = strlen(sc->lines);
    char *buf = malloc(len + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(buf, sc->lines, len + 1);
    int count = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, ";", &save); line; line = strtok_r(NULL, ";", &save)) {
        if (strspn(line, " \t") == strlen(line))
            continue;
        if ((size_t)count >= max) {
            snprintf(err, errlen, "too many steps");
            free(buf);
            return -1;
        }
        /* strtok inside parse_line: copy the line out first */
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s", line);
        if (parse_line(tmp, count, &steps[count], err, errlen) < 0) {
            free(buf);
            return -1;
        }
        count++;
    }
    free(buf);
    return count;
}
