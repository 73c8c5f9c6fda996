// The NFQUEUE consumer behind agent/src/queue/native.ts. Per wake-up of the socket it drains every
// waiting packet (recvmmsg, many messages per system call, until EAGAIN), hands JavaScript one
// batch (the packets' bytes in one Buffer, their metadata in a shared Uint32Array), reads the
// verdicts back from a shared Uint8Array, and sends them, one batch verdict per run of consecutive
// equal verdicts. The three arrays are made once and shared for the queue's life: a batch
// allocates nothing, and JavaScript must not keep a view of a packet past its callback.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <memory>
#include <string.h>
#include <sys/socket.h>
#include <vector>

#include <linux/netfilter.h>
extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
}

namespace {

// Metadata words per packet; native.ts reads them with the same layout.
constexpr uint32_t META_WORDS = 5;  // id, mark, flags, offset, length
constexpr uint32_t FLAG_INBOUND = 1;
// Verdict codes written by native.ts.
constexpr uint8_t V_DROP = 0, V_ACCEPT = 1, V_REJECT = 2;
constexpr size_t RECV_SIZE = 0x10000 + 4096;
// Messages per recvmmsg: each has its own receive buffer (only the bytes written become resident).
constexpr unsigned RECV_BATCH = 32;
// Packet bytes per batch handed to JavaScript; a batch is delivered early if the next would not fit.
constexpr size_t BATCH_BYTES = 1 << 20;
constexpr int RCVBUF_BYTES = 8 << 20;

class Queue : public Napi::ObjectWrap<Queue> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Queue", {InstanceMethod("close", &Queue::Close)});
  }

  // new Queue({num, maxLen, failOpen, copyRange, maxBatch, rejectMark, markMask}, onBatch)
  // onBatch(data: Buffer, count: number): reads this.meta, writes this.verdicts.
  Queue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Queue>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Queue(options, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    const char* bad = nullptr;
    auto u32 = [&](const char* k) {
      Napi::Value v = o.Get(k);
      if (v.IsNumber()) return v.As<Napi::Number>().Uint32Value();
      if (!bad) bad = k;
      return 0u;
    };
    num_ = u32("num");
    uint32_t maxLen = u32("maxLen");
    bool failOpen = o.Get("failOpen").ToBoolean();
    uint32_t copyRange = u32("copyRange");
    maxBatch_ = u32("maxBatch");
    rejectMark_ = u32("rejectMark");
    markMask_ = u32("markMask");
    failVerdict_ = failOpen ? V_ACCEPT : V_DROP;
    // native.ts validates; this only keeps a wrong call from running with zeros.
    if (bad || maxBatch_ == 0 || copyRange == 0) {
      std::string field = bad ? bad : maxBatch_ == 0 ? "maxBatch" : "copyRange";
      Napi::TypeError::New(env, "new Queue: options." + field + " must be a positive number").ThrowAsJavaScriptException();
      return;
    }
    onBatch_ = Napi::Persistent(info[1].As<Napi::Function>());
    // Entering JavaScript through MakeCallback (not Call) runs promise jobs and nextTicks after
    // each batch, as for any other I/O callback: a ban's kernel update must not wait for a timer.
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "vpsfw:nfqueue", info.This().As<Napi::Object>());

    if (const char* err = Open(maxLen, failOpen, copyRange)) {
      int saved = errno;
      Teardown();
      Napi::Error e = Napi::Error::New(env, std::string(err) + ": " + strerror(saved));
      e.Set("errno", Napi::Number::New(env, saved));
      e.ThrowAsJavaScriptException();
      return;
    }
    metaArray_ = Napi::Persistent(Napi::Uint32Array::New(env, maxBatch_ * META_WORDS));
    verdictArray_ = Napi::Persistent(Napi::Uint8Array::New(env, maxBatch_));
    batchBuffer_ = Napi::Persistent(Napi::Buffer<uint8_t>::New(env, BATCH_BYTES));
    meta_ = metaArray_.Value().Data();
    verdicts_ = verdictArray_.Value().Data();
    batch_ = batchBuffer_.Value().Data();
    info.This().As<Napi::Object>().Set("meta", metaArray_.Value());
    info.This().As<Napi::Object>().Set("verdicts", verdictArray_.Value());

    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, OnReadable);
    env_ = env;
  }

  ~Queue() override { Teardown(); }

 private:
  const char* Open(uint32_t maxLen, bool failOpen, uint32_t copyRange) {
    h_ = nfq_open();
    if (!h_) return "nfq_open";
    // Modern kernels ignore these (one queue serves both families); older ones need them.
    // (No nfq_unbind_pf first: on old kernels it unbinds every process's queues of that family.)
    if (nfq_bind_pf(h_, AF_INET) < 0) return "nfq_bind_pf(AF_INET)";
    if (nfq_bind_pf(h_, AF_INET6) < 0) return "nfq_bind_pf(AF_INET6)";
    qh_ = nfq_create_queue(h_, num_, &Queue::OnPacket, this);
    if (!qh_) return "nfq_create_queue (is another process bound to this queue? does this process hold CAP_NET_ADMIN?)";
    if (nfq_set_mode(qh_, NFQNL_COPY_PACKET, copyRange) < 0) return "nfq_set_mode";
    if (nfq_set_queue_maxlen(qh_, maxLen) < 0) return "nfq_set_queue_maxlen";
    uint32_t flags = failOpen ? NFQA_CFG_F_FAIL_OPEN : 0;
    if (nfq_set_queue_flags(qh_, NFQA_CFG_F_FAIL_OPEN, flags) < 0) return "nfq_set_queue_flags(FAIL_OPEN)";
    fd_ = nfq_fd(h_);
    nfnl_rcvbufsiz(nfq_nfnlh(h_), RCVBUF_BYTES);
    // A full socket buffer loses messages; the kernel counts them (user_dropped) and, when
    // fail-open, accepts the packets. recv must not fail for it.
    int one = 1;
    setsockopt(fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    recvBuf_.resize(RECV_SIZE * RECV_BATCH);
    for (unsigned i = 0; i < RECV_BATCH; i++) {
      iov_[i] = {recvBuf_.data() + i * RECV_SIZE, RECV_SIZE};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    return nullptr;
  }

  static int OnPacket(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void* self) {
    auto* q = static_cast<Queue*>(self);
    nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph) return 0;
    if (q->count_ == q->maxBatch_) {
      // Only if one recv held more packets than a batch: judged by the fail mode, not lost.
      nfq_set_verdict(q->qh_, ntohl(ph->packet_id), q->failVerdict_ == V_ACCEPT ? NF_ACCEPT : NF_DROP, 0, nullptr);
      return 0;
    }
    unsigned char* data = nullptr;
    int len = nfq_get_payload(nfa, &data);
    if (len < 0) len = 0;
    uint32_t* m = q->meta_ + q->count_ * META_WORDS;
    m[0] = ntohl(ph->packet_id);
    m[1] = nfq_get_nfmark(nfa);
    // Packets from the INPUT hook carry an input device; OUTPUT ones only an output device.
    m[2] = nfq_get_indev(nfa) != 0 ? FLAG_INBOUND : 0;
    m[3] = static_cast<uint32_t>(q->used_);
    m[4] = static_cast<uint32_t>(len);
    // Room was made before the message was parsed (Drain): a payload is shorter than its message.
    memcpy(q->batch_ + q->used_, data, len);
    q->used_ += len;
    q->count_++;
    return 0;
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    auto* q = static_cast<Queue*>(handle->data);
    if (q && q->h_) q->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    while (h_) {
      int n = recvmmsg(fd_, msgs_, RECV_BATCH, MSG_DONTWAIT, nullptr);
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN (drained), or an error the next wake-up will see again.
      if (n <= 0) break;
      for (int i = 0; i < n && h_; i++) {
        size_t len = msgs_[i].msg_len;
        if (count_ == maxBatch_ || used_ + len > BATCH_BYTES) Deliver();
        if (h_) nfq_handle_packet(h_, reinterpret_cast<char*>(iov_[i].iov_base), static_cast<int>(len));
      }
      if (static_cast<unsigned>(n) < RECV_BATCH) break;
    }
    if (count_ > 0 && h_) Deliver();
  }

  void Deliver() {
    uint32_t count = count_;
    memset(verdicts_, failVerdict_, count);
    used_ = 0;
    count_ = 0;
    onBatch_.MakeCallback(Value(), {batchBuffer_.Value(), Napi::Number::New(env_, count)}, *asyncContext_);
    Napi::Error pending;
    if (env_.IsExceptionPending()) pending = env_.GetAndClearPendingException();
    if (h_) SendVerdicts(count);  // close() from the callback already let the kernel release them
    // A throwing handler is a bug: its packets got the fail verdict; the process hears about it.
    if (!pending.IsEmpty()) napi_fatal_exception(env_, pending.Value());
  }

  void SendVerdicts(uint32_t count) {
    // A batch verdict covers every pending id up to the one given: one message per run of equal
    // accept/drop verdicts; a reject carries its own mark, so it goes alone.
    for (uint32_t i = 0; i < count; i++) {
      uint32_t id = meta_[i * META_WORDS];
      uint8_t v = verdicts_[i];
      if (v == V_REJECT) {
        uint32_t mark = (meta_[i * META_WORDS + 1] & ~markMask_) | rejectMark_;
        nfq_set_verdict2(qh_, id, NF_REPEAT, mark, 0, nullptr);
        continue;
      }
      if (i + 1 < count && verdicts_[i + 1] == v) continue;
      nfq_set_verdict_batch(qh_, id, v == V_ACCEPT ? NF_ACCEPT : NF_DROP);
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  void Teardown() {
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    // Destroying the queue unbinds it: the kernel drops (or, fail-open, accepts) what is pending.
    if (qh_) nfq_destroy_queue(qh_), qh_ = nullptr;
    if (h_) nfq_close(h_), h_ = nullptr;
  }

  Napi::Env env_{nullptr};
  nfq_handle* h_ = nullptr;
  nfq_q_handle* qh_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  int fd_ = -1;
  uint32_t num_ = 0, maxBatch_ = 0, rejectMark_ = 0, markMask_ = 0, count_ = 0;
  uint8_t failVerdict_ = V_DROP;
  std::vector<uint8_t> recvBuf_;
  mmsghdr msgs_[RECV_BATCH];
  iovec iov_[RECV_BATCH];
  uint8_t* batch_ = nullptr;
  size_t used_ = 0;
  uint32_t* meta_ = nullptr;
  uint8_t* verdicts_ = nullptr;
  Napi::FunctionReference onBatch_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::Reference<Napi::Uint32Array> metaArray_;
  Napi::Reference<Napi::Uint8Array> verdictArray_;
  Napi::Reference<Napi::Buffer<uint8_t>> batchBuffer_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Queue", Queue::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(vpsfw_queue, Init)
