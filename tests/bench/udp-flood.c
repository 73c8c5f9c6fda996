// The load generator: small UDP datagrams as fast as one core sends them, with sendmmsg.
// Usage: udp-flood ADDRESS PORT SECONDS [PAYLOAD_BYTES] [MAX_PACKETS]
// Stops at SECONDS or MAX_PACKETS, whichever comes first (both bounded), and prints
// {"sent": N, "seconds": S} on stdout. Send errors (ENOBUFS, ECONNREFUSED) are counted, not fatal.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: udp-flood ADDRESS PORT SECONDS [PAYLOAD_BYTES] [MAX_PACKETS]\n"); return 2; }
  double seconds = atof(argv[3]);
  size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 18;
  unsigned long max = argc > 5 ? strtoul(argv[5], NULL, 10) : 100000000UL;
  if (seconds <= 0 || seconds > 120 || size > 1400) { fprintf(stderr, "udp-flood: SECONDS must be in (0, 120], PAYLOAD_BYTES at most 1400\n"); return 2; }
  struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
  int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
  if (rc) { fprintf(stderr, "udp-flood: %s: %s\n", argv[1], gai_strerror(rc)); return 2; }
  int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) { perror("udp-flood: socket/connect"); return 1; }
  static char payload[1400];
  memset(payload, 'x', sizeof payload);
  struct iovec iov = { payload, size };
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) { msgs[i].msg_hdr.msg_iov = &iov; msgs[i].msg_hdr.msg_iovlen = 1; }
  unsigned long sent = 0, errors = 0;
  double start = now(), end = start + seconds, t = start;
  while (sent < max) {
    int want = max - sent < BATCH ? (int)(max - sent) : BATCH;
    int n = sendmmsg(fd, msgs, want, 0);
    if (n > 0) sent += n; else errors++;
    // Reading the clock every batch costs little next to 64 sends.
    if ((t = now()) >= end) break;
  }
  printf("{\"sent\": %lu, \"errors\": %lu, \"seconds\": %.3f}\n", sent, errors, t - start);
  return 0;
}
