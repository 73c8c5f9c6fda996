// The load generator: small UDP datagrams as fast as one core sends them, with sendmmsg.
// Usage: udp-flood ADDRESS PORT SECONDS [PAYLOAD_BYTES] [MAX_PACKETS] [SOURCES]
// Stops at SECONDS or MAX_PACKETS, whichever comes first (both bounded), and prints
// {"sent": N, "errors": E, "seconds": S, "cpu": C} on stdout. Send errors (ENOBUFS, ECONNREFUSED)
// are counted, not fatal. C: the process's CPU seconds, user and system; on a kernel without IRQ
// time accounting (this machine's) they include the softirq work run on its time, which on veth
// is the receiver's.
// SOURCES: comma-separated local addresses, one flow (socket) from each, a batch each in turn;
// an address given twice is two flows from it (two source ports). Default: one flow.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define BATCH 64
#define MAX_FLOWS 32

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 7) { fprintf(stderr, "usage: udp-flood ADDRESS PORT SECONDS [PAYLOAD_BYTES] [MAX_PACKETS] [SOURCES]\n"); return 2; }
  double seconds = atof(argv[3]);
  size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 18;
  unsigned long max = argc > 5 ? strtoul(argv[5], NULL, 10) : 100000000UL;
  if (seconds <= 0 || seconds > 120 || size > 1400) { fprintf(stderr, "udp-flood: SECONDS must be in (0, 120], PAYLOAD_BYTES at most 1400\n"); return 2; }
  struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
  int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
  if (rc) { fprintf(stderr, "udp-flood: %s: %s\n", argv[1], gai_strerror(rc)); return 2; }
  int fds[MAX_FLOWS], flows = 0;
  char *sources = argc > 6 ? argv[6] : NULL;
  do {
    char *source = sources ? strsep(&sources, ",") : NULL;
    if (flows == MAX_FLOWS) { fprintf(stderr, "udp-flood: at most %d SOURCES\n", MAX_FLOWS); return 2; }
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) { perror("udp-flood: socket"); return 1; }
    if (source) {
      struct addrinfo *local;
      struct addrinfo want = { .ai_family = ai->ai_family, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST };
      if ((rc = getaddrinfo(source, NULL, &want, &local))) { fprintf(stderr, "udp-flood: source %s: %s\n", source, gai_strerror(rc)); return 2; }
      if (bind(fd, local->ai_addr, local->ai_addrlen) < 0) { perror("udp-flood: bind"); return 1; }
      freeaddrinfo(local);
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) { perror("udp-flood: connect"); return 1; }
    fds[flows++] = fd;
  } while (sources);
  static char payload[1400];
  memset(payload, 'x', sizeof payload);
  struct iovec iov = { payload, size };
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) { msgs[i].msg_hdr.msg_iov = &iov; msgs[i].msg_hdr.msg_iovlen = 1; }
  unsigned long sent = 0, errors = 0, batches = 0;
  double start = now(), end = start + seconds, t = start;
  while (sent < max) {
    int want = max - sent < BATCH ? (int)(max - sent) : BATCH;
    int n = sendmmsg(fds[batches++ % flows], msgs, want, 0);
    if (n > 0) sent += n; else errors++;
    // Reading the clock every batch costs little next to 64 sends.
    if ((t = now()) >= end) break;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("{\"sent\": %lu, \"errors\": %lu, \"seconds\": %.3f, \"cpu\": %.6f}\n", sent, errors, t - start, cpu);
  return 0;
}
