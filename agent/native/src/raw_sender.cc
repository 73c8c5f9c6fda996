// Raw IP sockets for the packets the agent builds itself (the resets that kill a connection):
// whole packets, headers included, each carrying a mark (SO_MARK) by which the agent's own rules
// know them. agent/src/queue/raw-sender.ts wraps it.
#include "addon.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vpsfw {
namespace {

class RawSender : public Napi::ObjectWrap<RawSender> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RawSender", {InstanceMethod("send", &RawSender::Send), InstanceMethod("close", &RawSender::Close)});
  }

  // new RawSender({mark})
  explicit RawSender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSender>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "new RawSender(options)").ThrowAsJavaScriptException();
      return;
    }
    Options o(info[0].As<Napi::Object>());
    uint32_t mark = o.U32("mark");
    if (o.bad()) {
      ThrowBadOption(env, "RawSender", o.bad());
      return;
    }
    const char* err = OpenSocket(AF_INET, mark, &fd4_);
    if (!err) {
      err = OpenSocket(AF_INET6, mark, &fd6_);
      // A host without IPv6 still sends IPv4; send() says why an IPv6 packet cannot go.
      if (err && errno == EAFNOSUPPORT) no6_ = errno, err = nullptr;
    }
    if (err) {
      int saved = errno;
      Teardown();
      ErrnoError(env, err, saved).ThrowAsJavaScriptException();
    }
  }

  ~RawSender() override { Teardown(); }

 private:
  // IPPROTO_RAW sends the header given: IPv4 sets IP_HDRINCL (the kernel still fills in the
  // checksum, and the id if it is 0), and Linux makes an IPv6 IPPROTO_RAW socket IPV6_HDRINCL.
  static const char* OpenSocket(int family, uint32_t mark, int* fd) {
    *fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (*fd < 0) return family == AF_INET ? "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)" : "socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)";
    int one = 1;
    if (family == AF_INET && setsockopt(*fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) return "setsockopt(IP_HDRINCL)";
    if (setsockopt(*fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return "setsockopt(SO_MARK) (does this process hold CAP_NET_ADMIN?)";
    return nullptr;
  }

  // send(packet: Buffer): the family from the version nibble, the destination from the header.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "send(packet: Buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto b = info[0].As<Napi::Buffer<uint8_t>>();
    const uint8_t* p = b.Data();
    size_t len = b.Length();
    unsigned version = len > 0 ? p[0] >> 4 : 0;
    if (fd4_ < 0) {
      Napi::Error::New(env, "send: the raw sender is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ssize_t sent;
    if (version == 4 && len >= 20) {
      sockaddr_in to{};
      to.sin_family = AF_INET;
      memcpy(&to.sin_addr, p + 16, 4);
      // MSG_DONTWAIT: a full send buffer is an error for the caller, never a stalled event loop.
      sent = sendto(fd4_, p, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to);
    } else if (version == 6 && len >= 40) {
      if (fd6_ < 0) return Fail(env, "no IPv6 raw socket", no6_);
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      memcpy(&to.sin6_addr, p + 24, 16);
      sent = sendto(fd6_, p, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to);
    } else {
      Napi::TypeError::New(env, "send: not an IPv4 or IPv6 packet (" + std::to_string(len) + " bytes, version " + std::to_string(version) + ")").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (sent < 0) return Fail(env, version == 4 ? "sendto (IPv4)" : "sendto (IPv6)", errno);
    return env.Undefined();
  }

  Napi::Value Fail(Napi::Env env, const char* what, int err) {
    ErrnoError(env, what, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  void Teardown() {
    if (fd4_ >= 0) close(fd4_), fd4_ = -1;
    if (fd6_ >= 0) close(fd6_), fd6_ = -1;
  }

  int fd4_ = -1, fd6_ = -1;
  // Why there is no IPv6 socket (errno), when the host has no IPv6.
  int no6_ = 0;
};

}  // namespace

Napi::Function RawSenderClass(Napi::Env env) { return RawSender::Init(env); }

}  // namespace vpsfw
