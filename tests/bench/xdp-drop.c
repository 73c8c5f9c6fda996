// The bench's XDP drop program: a packet whose source address is in `ban4` (IPv4) or `ban6`
// (IPv6) is dropped, every other packet passes. The earliest drop Linux offers, to set
// vpsfw's raw-table drop against (tests/bench/ban-drop.js). Untagged Ethernet only: the lab's
// veth links carry no VLANs. Like vpsfw's raw rules, it lets IPv6 neighbour discovery by (a ban
// must not cut a neighbour off at the link; ARP is not IP, so it passes anyway).
// Built with clang -O2 -target bpf (tests/bench/tools.js); attached with
// `ip link set dev X xdpgeneric|xdpdrv obj xdp-drop.o sec xdp`, the maps filled with bpftool.
#include <linux/bpf.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// The value means nothing: a key's presence is the ban.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __be32);
  __type(value, __u8);
} ban4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct in6_addr);
  __type(value, __u8);
} ban6 SEC(".maps");

SEC("xdp")
int xdp_drop_banned(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_PASS;
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return XDP_PASS;
    return bpf_map_lookup_elem(&ban4, &ip->saddr) ? XDP_DROP : XDP_PASS;
  }
  if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr *ip6 = (void *)(eth + 1);
    if ((void *)(ip6 + 1) > end) return XDP_PASS;
    if (ip6->nexthdr == IPPROTO_ICMPV6) {
      struct icmp6hdr *icmp = (void *)(ip6 + 1);
      if ((void *)(icmp + 1) > end) return XDP_PASS;
      // Router and neighbour solicitation and advertisement.
      if (icmp->icmp6_type >= 133 && icmp->icmp6_type <= 136) return XDP_PASS;
    }
    return bpf_map_lookup_elem(&ban6, &ip6->saddr) ? XDP_DROP : XDP_PASS;
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
