// The NFQUEUE consumer behind agent/src/queue/native.ts. Packets come in batches (reader.h); the
// verdicts come back from a shared Uint8Array and go out one batch verdict per run of consecutive
// packets with the same verdict and resulting mark.
#include "addon.h"
#include "reader.h"
#include "util.h"

#include <arpa/inet.h>

#include <linux/netfilter.h>
extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
}

namespace vpsfw {
namespace {

// The queue's own metadata words per packet, before the common ones (reader.h); native-binding.ts
// reads the same layout.
constexpr uint32_t OWN_WORDS = 2;  // id, mark
// Verdict codes written by native.ts.
constexpr uint8_t V_DROP = 0, V_ACCEPT = 1, V_REJECT = 2, V_DONE = 3;

class Queue : public BatchReader<Queue> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Queue", {InstanceMethod("close", &Queue::Close)});
  }

  // new Queue({num, maxLen, failOpen, copyRange, maxBatch, markMask, passMark, rejectMark, doneMark}, onBatch)
  // onBatch(data: Buffer, count: number): reads this.meta, writes this.verdicts.
  explicit Queue(const Napi::CallbackInfo& info) : BatchReader<Queue>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Queue(options, onBatch)").ThrowAsJavaScriptException();
      return;
    }
    Options o(info[0].As<Napi::Object>());
    uint32_t num = o.U32("num");
    uint32_t maxLen = o.U32("maxLen");
    bool failOpen = o.Bool("failOpen");
    uint32_t copyRange = o.U32("copyRange");
    uint32_t maxBatch = o.U32("maxBatch");
    markMask_ = o.U32("markMask");
    passMark_ = o.U32("passMark");
    rejectMark_ = o.U32("rejectMark");
    doneMark_ = o.U32("doneMark");
    failVerdict_ = failOpen ? V_ACCEPT : V_DROP;
    if (o.bad() || maxBatch == 0 || copyRange == 0) {
      ThrowBadOption(env, "Queue", o.bad() ? o.bad() : maxBatch == 0 ? "maxBatch" : "copyRange");
      return;
    }
    Prepare(info, "vpsfw:nfqueue", maxBatch, OWN_WORDS, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET);
    verdictArray_ = Napi::Persistent(Napi::Uint8Array::New(env, maxBatch));
    verdicts_ = verdictArray_.Value().Data();
    info.This().As<Napi::Object>().Set("verdicts", verdictArray_.Value());

    if (const char* err = Open(num, maxLen, failOpen, copyRange)) {
      int saved = errno;
      Teardown();
      ErrnoError(env, err, saved).ThrowAsJavaScriptException();
      return;
    }
    Listen(nfq_fd(h_));
  }

  ~Queue() override { Teardown(); }

 private:
  friend class BatchReader<Queue>;

  // What a verdict code does: the netfilter verdict, and the mark it leaves (none for a drop, or
  // for an accept when passMark is 0). Every mark keeps the packet's bits outside markMask.
  struct Action {
    uint32_t verdict, mark;
    bool setsMark;
    bool operator==(const Action& o) const { return verdict == o.verdict && mark == o.mark && setsMark == o.setsMark; }
  };

  const char* Open(uint32_t num, uint32_t maxLen, bool failOpen, uint32_t copyRange) {
    h_ = nfq_open();
    if (!h_) return "nfq_open";
    // Configuration waits for the kernel's answer in the library's own receive loop, which also
    // reads packets already queued: its buffer must hold a whole one.
    nfnl_set_rcv_buffer_size(nfq_nfnlh(h_), RECV_SIZE);
    // Modern kernels ignore these (one queue serves both families); older ones need them.
    // (No nfq_unbind_pf first: on old kernels it unbinds every process's queues of that family.)
    // nfnetlink refuses every request without CAP_NET_ADMIN, so a refusal of the first says that;
    // of the bind after it, that the queue is another socket's.
    if (nfq_bind_pf(h_, AF_INET) < 0) return errno == EPERM ? "nfq_bind_pf (this process lacks CAP_NET_ADMIN)" : "nfq_bind_pf(AF_INET)";
    if (nfq_bind_pf(h_, AF_INET6) < 0) return "nfq_bind_pf(AF_INET6)";
    qh_ = nfq_create_queue(h_, num, &Queue::OnPacket, this);
    if (!qh_) return errno == EPERM ? "nfq_create_queue (another process is bound to this queue)" : "nfq_create_queue";
    if (nfq_set_mode(qh_, NFQNL_COPY_PACKET, copyRange) < 0) return "nfq_set_mode";
    if (nfq_set_queue_maxlen(qh_, maxLen) < 0) return "nfq_set_queue_maxlen";
    uint32_t flags = failOpen ? NFQA_CFG_F_FAIL_OPEN : 0;
    if (nfq_set_queue_flags(qh_, NFQA_CFG_F_FAIL_OPEN, flags) < 0) return "nfq_set_queue_flags(FAIL_OPEN)";
    return nullptr;
  }

  // Returns 1 (go on): 0 would end the library's wait for a configuration answer early.
  static int OnPacket(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void* self) {
    auto* q = static_cast<Queue*>(self);
    nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph || !q->h_) return 1;
    unsigned char* data = nullptr;
    int len = nfq_get_payload(nfa, &data);
    // Packets from the INPUT hook carry an input device; OUTPUT ones only an output device.
    uint32_t indev = nfq_get_indev(nfa);
    uint32_t* m = q->Append(data, len, indev != 0, indev != 0 ? indev : nfq_get_outdev(nfa));
    if (!m) {
      // Only if one recv held more packets than a batch: judged by the fail mode, not lost.
      nfq_set_verdict(q->qh_, ntohl(ph->packet_id), q->failVerdict_ == V_ACCEPT ? NF_ACCEPT : NF_DROP, 0, nullptr);
      return 1;
    }
    m[0] = ntohl(ph->packet_id);
    m[1] = nfq_get_nfmark(nfa);
    return 1;
  }

  bool IsOpen() const { return h_ != nullptr; }
  void Parse(char* msg, int len) { nfq_handle_packet(h_, msg, len); }
  void BeforeDeliver(uint32_t count) { memset(verdicts_, failVerdict_, count); }
  void AfterDeliver(uint32_t count) { SendVerdicts(count); }

  Action ActionFor(uint32_t i) const {
    uint32_t kept = meta_[i * metaWords_ + 1] & ~markMask_;
    switch (verdicts_[i]) {
      case V_ACCEPT:
        // NF_REPEAT: the packet runs the hook again, and the PASS mark lets it past our rules to
        // the ones after them. Without a pass mark (the benchmark's bare rule) a plain accept.
        return passMark_ ? Action{NF_REPEAT, kept | passMark_, true} : Action{NF_ACCEPT, 0, false};
      case V_REJECT:
        return {NF_REPEAT, kept | rejectMark_, true};
      case V_DONE:
        return {NF_REPEAT, kept | doneMark_, true};
      default:
        return {NF_DROP, 0, false};
    }
  }

  void SendVerdicts(uint32_t count) {
    // A batch verdict covers every pending id up to the one given, with one verdict and one mark:
    // one message per run of packets whose action is the same.
    if (count == 0) return;
    Action a = ActionFor(0);
    for (uint32_t i = 0; i < count; i++) {
      Action next = i + 1 < count ? ActionFor(i + 1) : Action{};
      if (i + 1 < count && next == a) continue;
      uint32_t id = meta_[i * metaWords_];
      if (a.setsMark) nfq_set_verdict_batch2(qh_, id, a.verdict, a.mark);
      else nfq_set_verdict_batch(qh_, id, a.verdict);
      a = next;
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Teardown();
    return info.Env().Undefined();
  }

  void Teardown() {
    StopListening();
    // Unbinding waits for the kernel's answer and may read packets meanwhile: OnPacket ignores
    // them once h_ is cleared. Destroying the queue lets the kernel drop (or, fail-open, accept)
    // what is pending.
    nfq_handle* h = h_;
    h_ = nullptr;
    if (qh_) nfq_destroy_queue(qh_), qh_ = nullptr;
    if (h) nfq_close(h);
  }

  nfq_handle* h_ = nullptr;
  nfq_q_handle* qh_ = nullptr;
  uint32_t markMask_ = 0, passMark_ = 0, rejectMark_ = 0, doneMark_ = 0;
  uint8_t failVerdict_ = V_DROP;
  uint8_t* verdicts_ = nullptr;
  Napi::Reference<Napi::Uint8Array> verdictArray_;
};

}  // namespace

Napi::Function QueueClass(Napi::Env env) { return Queue::Init(env); }

}  // namespace vpsfw
