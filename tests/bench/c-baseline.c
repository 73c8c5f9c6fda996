// The practical ceiling for a user-space NFQUEUE consumer: accepts every packet, one verdict each,
// no work. Usage: c-baseline QUEUE_NUM [MAX_LEN]. Runs until SIGTERM/SIGINT, then prints
// {"received": N} on stdout.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;
static unsigned long received;

static void on_signal(int sig) { (void)sig; stop = 1; }

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  received++;
  return nfq_set_verdict(qh, ntohl(ph->packet_id), NF_ACCEPT, 0, NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: c-baseline QUEUE_NUM [MAX_LEN]\n"); return 2; }
  uint16_t num = (uint16_t)atoi(argv[1]);
  uint32_t maxlen = argc > 2 ? (uint32_t)atoi(argv[2]) : 1024;
  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  nfq_bind_pf(h, AF_INET);
  nfq_bind_pf(h, AF_INET6);
  struct nfq_q_handle *qh = nfq_create_queue(h, num, on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, maxlen);
  int fd = nfq_fd(h);
  int one = 1;
  // Queue overflow is the measured outcome here, not an error to stop on.
  setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  struct sigaction sa = { .sa_handler = on_signal };
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  fprintf(stderr, "ready\n");
  static char buf[0x10000 + 4096] __attribute__((aligned));
  while (!stop) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS) continue;
      perror("recv");
      break;
    }
    nfq_handle_packet(h, buf, (int)n);
  }
  printf("{\"received\": %lu}\n", received);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
