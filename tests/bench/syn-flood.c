// The SYN load: IPv4 TCP SYNs built by hand (raw socket, IP_HDRINCL) and sent with sendmmsg, from
// source addresses taken in turn from a prefix, so a flood from many sources costs one process.
// Usage: syn-flood -d ADDRESS -p PORT -s PREFIX/LEN -n SOURCES -t SECONDS -c COUNT [-r RATE]
//   -s, -n  the sources: the first SOURCES host addresses of PREFIX/LEN (its network and broadcast
//           addresses are skipped below /31), one per packet in turn; -n 1 is one fixed source
//           (PREFIX/32 names it exactly)
//   -t, -c  both bounds: stops at SECONDS or COUNT packets, whichever comes first
//   -r      packets per second at most (default: as fast as the core sends)
// Every SYN has its own source port and sequence number, so each is a new connection to
// conntrack. Prints {"sent": N, "errors": E, "seconds": S} on stdout; send errors (ENOBUFS) are
// counted, not fatal.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define BATCH 64
#define PACKET 40 /* IPv4 header + TCP header, no options, no data */
#define FIRST_PORT 1024

static const char usage[] = "usage: syn-flood -d ADDRESS -p PORT -s PREFIX/LEN -n SOURCES -t SECONDS -c COUNT [-r RATE]\n";

static int fail(const char *what) {
  fprintf(stderr, "syn-flood: %s\n%s", what, usage);
  return 2;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t) {
  struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/** Parses a whole decimal number in [min, max]; -1 if it is not one. */
static double number(const char *s, double min, double max) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  return errno || end == s || *end || v < min || v > max ? -1 : v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
  return sum;
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/** xorshift32: sequence numbers that differ per packet without a system call. */
static uint32_t next_random(uint32_t *s) {
  *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5;
  return *s;
}

/** One SYN from src:sport to dst:dport (host byte order), both checksums filled. */
static void build(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t id, uint32_t seq) {
  memset(b, 0, PACKET);
  b[0] = 0x45;
  put16(b + 2, PACKET);
  put16(b + 4, id);
  b[8] = 64;
  b[9] = IPPROTO_TCP;
  put32(b + 12, src);
  put32(b + 16, dst);
  put16(b + 10, fold(sum16(b, 20, 0)));
  uint8_t *t = b + 20;
  put16(t, sport);
  put16(t + 2, dport);
  put32(t + 4, seq);
  t[12] = 5 << 4; /* data offset: 5 words */
  t[13] = 0x02;   /* SYN */
  put16(t + 14, 64240);
  /* Pseudo-header: source, destination, protocol, TCP length. */
  uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IPPROTO_TCP + (PACKET - 20);
  put16(t + 16, fold(sum16(t, PACKET - 20, pseudo)));
}

int main(int argc, char **argv) {
  const char *dst_arg = NULL, *src_arg = NULL;
  double port = -1, sources = -1, seconds = -1, count = -1, rate = 0;
  int opt;
  while ((opt = getopt(argc, argv, "d:p:s:n:t:c:r:")) != -1) {
    switch (opt) {
      case 'd': dst_arg = optarg; break;
      case 's': src_arg = optarg; break;
      case 'p': if ((port = number(optarg, 1, 65535)) < 0) return fail("-p PORT must be in 1..65535"); break;
      case 'n': if ((sources = number(optarg, 1, 1 << 24)) < 0) return fail("-n SOURCES must be in 1..16777216"); break;
      case 't': if ((seconds = number(optarg, 0.001, 120)) < 0) return fail("-t SECONDS must be in (0, 120]"); break;
      case 'c': if ((count = number(optarg, 1, 1e9)) < 0) return fail("-c COUNT must be in 1..1000000000"); break;
      case 'r': if ((rate = number(optarg, 1, 1e8)) < 0) return fail("-r RATE must be in 1..100000000 packets/s"); break;
      default: return fail("unknown option");
    }
  }
  if (optind != argc) return fail("unexpected argument");
  if (!dst_arg || !src_arg || port < 0 || sources < 0 || seconds < 0 || count < 0) return fail("-d, -p, -s, -n, -t and -c are all required");
  if (port != (int)port || sources != (int)sources || count != (unsigned long)count) return fail("PORT, SOURCES and COUNT must be whole numbers");

  struct in_addr dst;
  if (inet_pton(AF_INET, dst_arg, &dst) != 1) return fail("-d ADDRESS must be an IPv4 address");
  char prefix[INET_ADDRSTRLEN];
  const char *slash = strchr(src_arg, '/');
  double len = slash ? number(slash + 1, 0, 32) : -1;
  struct in_addr base;
  if (!slash || len < 0 || len != (int)len || (size_t)(slash - src_arg) >= sizeof prefix) return fail("-s must be PREFIX/LEN, e.g. 198.18.0.0/15");
  memcpy(prefix, src_arg, slash - src_arg);
  prefix[slash - src_arg] = 0;
  if (inet_pton(AF_INET, prefix, &base) != 1) return fail("-s PREFIX must be an IPv4 address");
  uint32_t net = ntohl(base.s_addr);
  uint64_t size = 1ULL << (32 - (int)len);
  if (net & (uint32_t)(size - 1)) return fail("-s PREFIX has host bits set (give the network, e.g. 198.18.0.0/15)");
  /* Below /31 the network and broadcast addresses are not hosts: never send from them. */
  uint32_t first = len <= 30 ? net + 1 : net;
  uint64_t hosts = len <= 30 ? size - 2 : size;
  if ((uint64_t)sources > hosts) return fail("-n SOURCES is larger than the prefix has host addresses");

  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW implies IP_HDRINCL */
  int one = 1;
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) { perror("syn-flood: raw socket (needs CAP_NET_RAW)"); return 1; }
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };

  static uint8_t packets[BATCH][PACKET];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){ packets[i], PACKET };
    msgs[i].msg_hdr = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1 };
  }
  /* At a set rate, small batches keep the packets evenly spaced (a batch per millisecond or so). */
  int batch = rate > 0 && rate < BATCH * 1000 ? (int)(rate / 1000) + 1 : BATCH;
  unsigned long max = (unsigned long)count, sent = 0, errors = 0;
  uint32_t n = (uint32_t)sources, daddr = ntohl(dst.s_addr), seed = (uint32_t)getpid() * 2654435761u | 1;
  double start = now(), end = start + seconds, t = start;
  while (sent < max && t < end) {
    if (rate > 0) sleep_until(start + sent / rate);
    int want = max - sent < (unsigned long)batch ? (int)(max - sent) : batch;
    for (int i = 0; i < want; i++) {
      unsigned long k = sent + i;
      build(packets[i], first + (uint32_t)(k % n), daddr, FIRST_PORT + k % (65536 - FIRST_PORT), (uint16_t)(int)port, (uint16_t)k, next_random(&seed));
    }
    int got = sendmmsg(fd, msgs, want, 0);
    if (got > 0) sent += got; else errors++;
    t = now();
  }
  printf("{\"sent\": %lu, \"errors\": %lu, \"seconds\": %.3f}\n", sent, errors, t - start);
  return 0;
}
