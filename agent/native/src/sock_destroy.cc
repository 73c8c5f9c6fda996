// SOCK_DESTROY (sock_diag): the kernel aborts one of this host's TCP sockets, found by its
// four-tuple. It sends the reset to the remote peer itself, from that socket, and the application
// holding it gets ECONNABORTED. No packet leaves the agent's own sockets, so a unit whose
// IPAddressDeny= filters them (systemd attaches that filter to the agent's cgroup) can still kill a
// connection. Needs CAP_NET_ADMIN and a kernel built with CONFIG_INET_DIAG_DESTROY.
#include "addon.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vpsfw {
namespace {

// One request and its acknowledgement; errno on failure (ENOENT: no such socket here).
int Destroy(int family, const uint8_t* local, uint16_t localPort, const uint8_t* remote, uint16_t remotePort) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return errno;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DESTROY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  msg.req.sdiag_family = static_cast<uint8_t>(family);
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0u;
  // The socket's own view: src is this host's end, dst the peer's.
  msg.req.id.idiag_sport = htons(localPort);
  msg.req.id.idiag_dport = htons(remotePort);
  size_t len = family == AF_INET ? 4 : 16;
  memcpy(msg.req.id.idiag_src, local, len);
  memcpy(msg.req.id.idiag_dst, remote, len);
  msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  int err = 0;
  if (sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    err = errno;
  } else {
    alignas(nlmsghdr) char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    auto* h = reinterpret_cast<nlmsghdr*>(buf);
    if (n < 0) err = errno;
    else if (n < static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR) err = EPROTO;
    else err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
  }
  close(fd);
  return err;
}

// destroySocket(family: 4 | 6, local: Buffer, localPort, remote: Buffer, remotePort)
Napi::Value DestroySocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  size_t len = family == 4 ? 4 : family == 6 ? 16 : 0;
  if (len == 0 || info.Length() < 5 || !info[1].IsBuffer() || !info[3].IsBuffer() || !info[2].IsNumber() || !info[4].IsNumber() || info[1].As<Napi::Buffer<uint8_t>>().Length() != len ||
      info[3].As<Napi::Buffer<uint8_t>>().Length() != len) {
    Napi::TypeError::New(env, "destroySocket(family: 4 | 6, local: Buffer, localPort: number, remote: Buffer, remotePort: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int err = Destroy(family == 4 ? AF_INET : AF_INET6, info[1].As<Napi::Buffer<uint8_t>>().Data(), static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value()),
                    info[3].As<Napi::Buffer<uint8_t>>().Data(), static_cast<uint16_t>(info[4].As<Napi::Number>().Uint32Value()));
  if (err != 0) ErrnoError(env, "SOCK_DESTROY", err).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace

Napi::Function DestroySocketFunction(Napi::Env env) { return Napi::Function::New(env, DestroySocket, "destroySocket"); }

}  // namespace vpsfw
