// The NFLOG reader behind agent/src/queue/nflog.ts: copies of packets the kernel logged (and went
// on judging: the packet itself is never held), in batches as the queue's (reader.h). No verdicts.
#include "addon.h"
#include "reader.h"
#include "util.h"

#include <algorithm>

extern "C" {
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnfnetlink/libnfnetlink.h>
}

namespace vpsfw {
namespace {

// The kernel gathers logged packets into one message until it holds QTHRESH of them, its
// NLBUFSIZ bytes are full, or TIMEOUT hundredths of a second passed since the first. The
// defaults (100 packets, 1 s) would make a detector see a lone scan probe a second late; 10 ms is
// the shortest wait that still lets a flood's packets share messages, and 64 packets of headers
// (about 250 bytes each with their attributes) fill 16 KiB.
constexpr uint32_t QTHRESH = 64;
constexpr uint32_t TIMEOUT = 1;
constexpr uint32_t NLBUFSIZ = 16 << 10;

class Log : public BatchReader<Log> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Log", {InstanceMethod("close", &Log::Close)});
  }

  // new Log({group, copyRange, maxBatch}, onBatch); onBatch(data: Buffer, count: number) reads this.meta.
  explicit Log(const Napi::CallbackInfo& info) : BatchReader<Log>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Log(options, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    Options o(info[0].As<Napi::Object>());
    uint32_t group = o.U32("group");
    uint32_t copyRange = o.U32("copyRange");
    uint32_t maxBatch = o.U32("maxBatch");
    if (o.bad() || group > 0xffff || maxBatch == 0 || copyRange == 0) {
      ThrowBadOption(env, "Log", o.bad() ? o.bad() : group > 0xffff ? "group" : maxBatch == 0 ? "maxBatch" : "copyRange");
      return;
    }
    Prepare(info, "vpsfw:nflog", maxBatch, 0, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET);
    if (const char* err = Open(static_cast<uint16_t>(group), copyRange, std::min(QTHRESH, maxBatch))) {
      int saved = errno;
      Teardown();
      ErrnoError(env, err, saved).ThrowAsJavaScriptException();
      return;
    }
    Listen(nflog_fd(h_));
  }

  ~Log() override { Teardown(); }

 private:
  friend class BatchReader<Log>;

  const char* Open(uint16_t group, uint32_t copyRange, uint32_t qthresh) {
    h_ = nflog_open();
    if (!h_) return "nflog_open";
    // As for the queue: configuration answers are awaited in a loop that may read packets.
    nfnl_set_rcv_buffer_size(nflog_nfnlh(h_), RECV_SIZE);
    // Ignored by modern kernels, needed by older ones (and no unbind first, as for the queue).
    // nfnetlink refuses every request without CAP_NET_ADMIN, so a refusal of the first says that;
    // of the bind after it, that the group is another socket's.
    if (nflog_bind_pf(h_, AF_INET) < 0) return errno == EPERM ? "nflog_bind_pf (this process lacks CAP_NET_ADMIN)" : "nflog_bind_pf(AF_INET)";
    if (nflog_bind_pf(h_, AF_INET6) < 0) return "nflog_bind_pf(AF_INET6)";
    gh_ = nflog_bind_group(h_, group);
    if (!gh_) return errno == EPERM ? "nflog_bind_group (another process is bound to this group)" : "nflog_bind_group";
    if (nflog_callback_register(gh_, &Log::OnPacket, this) < 0) return "nflog_callback_register";
    if (nflog_set_mode(gh_, NFULNL_COPY_PACKET, copyRange) < 0) return "nflog_set_mode";
    // At most a batch of packets per message, so a message always fits in an empty batch.
    if (nflog_set_qthresh(gh_, qthresh) < 0) return "nflog_set_qthresh";
    if (nflog_set_timeout(gh_, TIMEOUT) < 0) return "nflog_set_timeout";
    // (This also sets a receive buffer for ten such messages; Listen sets the large one after.)
    if (nflog_set_nlbufsiz(gh_, NLBUFSIZ) < 0) return "nflog_set_nlbufsiz";
    return nullptr;
  }

  // Returns 1 (go on): 0 would end the library's wait for a configuration answer early.
  static int OnPacket(nflog_g_handle*, nfgenmsg*, nflog_data* nfd, void* self) {
    auto* l = static_cast<Log*>(self);
    if (!l->h_) return 1;
    char* data = nullptr;
    int len = nflog_get_payload(nfd, &data);
    uint32_t indev = nflog_get_indev(nfd);
    // Drain made room for every packet of the message; a full batch could only come from the
    // library's configuration loop, and a log copy is never owed a verdict.
    l->Append(data, len, indev != 0, indev != 0 ? indev : nflog_get_outdev(nfd));
    return 1;
  }

  bool IsOpen() const { return h_ != nullptr; }
  void Parse(char* msg, int len) { nflog_handle_packet(h_, msg, len); }
  void BeforeDeliver(uint32_t) {}
  void AfterDeliver(uint32_t) {}

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  void Teardown() {
    StopListening();
    // Unbinding frees the group for the next reader.
    nflog_handle* h = h_;
    h_ = nullptr;
    if (gh_) nflog_unbind_group(gh_), gh_ = nullptr;
    if (h) nflog_close(h);
  }

  nflog_handle* h_ = nullptr;
  nflog_g_handle* gh_ = nullptr;
};

}  // namespace

Napi::Function LogClass(Napi::Env env) { return Log::Init(env); }

}  // namespace vpsfw
