// Round-trip latency of small UDP datagrams, each from a new socket, so each is the first packet
// of a new flow (the one the kernel queues to the agent).
// Usage: udp-rtt echo PORT SECONDS        answers every datagram (v4 and v6) until SECONDS pass
//        udp-rtt ping ADDRESS PORT COUNT  COUNT probes, one at a time, 200 ms timeout each;
//                                         prints {"count", "lost", "p50us", "p99us", "maxus"}
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int echo(int port, double seconds) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0), zero = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("udp-rtt: bind"); return 1; }
  fprintf(stderr, "ready\n");
  double end = now_us() + seconds * 1e6;
  char buf[2048];
  struct pollfd p = { fd, POLLIN, 0 };
  while (now_us() < end) {
    if (poll(&p, 1, 100) <= 0) continue;
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n >= 0) sendto(fd, buf, n, 0, (struct sockaddr *)&from, len);
  }
  return 0;
}

static int ping(const char *addr, const char *port, int count) {
  if (count <= 0 || count > 100000) { fprintf(stderr, "udp-rtt: COUNT must be in 1..100000\n"); return 2; }
  struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
  int rc = getaddrinfo(addr, port, &hints, &ai);
  if (rc) { fprintf(stderr, "udp-rtt: %s: %s\n", addr, gai_strerror(rc)); return 2; }
  double *rtt = calloc(count, sizeof *rtt);
  int got = 0, lost = 0;
  char buf[64] = "rtt-probe";
  for (int i = 0; i < count; i++) {
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    connect(fd, ai->ai_addr, ai->ai_addrlen);
    double t0 = now_us();
    send(fd, buf, 16, 0);
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 200) == 1 && recv(fd, buf, sizeof buf, 0) > 0) rtt[got++] = now_us() - t0;
    else lost++;
    close(fd);
  }
  qsort(rtt, got, sizeof *rtt, cmp);
  double p50 = got ? rtt[got / 2] : -1, p99 = got ? rtt[(int)(got * 0.99)] : -1, max = got ? rtt[got - 1] : -1;
  printf("{\"count\": %d, \"lost\": %d, \"p50us\": %.1f, \"p99us\": %.1f, \"maxus\": %.1f}\n", count, lost, p50, p99, max);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "echo")) return echo(atoi(argv[2]), atof(argv[3]));
  if (argc == 5 && !strcmp(argv[1], "ping")) return ping(argv[2], argv[3], atoi(argv[4]));
  fprintf(stderr, "usage: udp-rtt echo PORT SECONDS | udp-rtt ping ADDRESS PORT COUNT\n");
  return 2;
}
