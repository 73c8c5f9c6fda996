// The batching both netlink readers (Queue, Log) share. Per wake-up of the socket it drains every
// waiting message (recvmmsg, many messages per system call, until EAGAIN); the reader's library
// parses each into packets, Append copies them into one Buffer, and JavaScript gets them as one
// batch: the bytes in that Buffer, their metadata in a shared Uint32Array. Both are made once for
// the reader's life: a batch allocates nothing, and JavaScript must not keep a view of a packet
// past its callback.
//
// T provides IsOpen(), Parse(message, length) (hands a message to its library, whose callback
// calls Append), BeforeDeliver(count) and AfterDeliver(count) (what happens around the callback).
#pragma once

#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <linux/netlink.h>
#include <memory>
#include <string.h>
#include <sys/socket.h>
#include <vector>

namespace vpsfw {

constexpr uint32_t FLAG_INBOUND = 1;

template <typename T>
class BatchReader : public Napi::ObjectWrap<T> {
 protected:
  // Every packet's metadata ends with these words, after the reader's own: flags, offset, length,
  // ifindex (the in-interface of an inbound packet, the out-interface of an outbound one).
  static constexpr uint32_t TAIL_WORDS = 4;
  // Room for one netlink message: a whole 64 KiB packet and its attributes.
  static constexpr size_t RECV_SIZE = 0x10000 + 4096;

  explicit BatchReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}

  // Before the socket opens: the libraries hand over packets that arrive while they wait for the
  // kernel's answer to a configuration request, so the batch must exist by then. `packetType` is
  // the netlink message type that carries one packet.
  void Prepare(const Napi::CallbackInfo& info, const char* resource, uint32_t maxBatch, uint32_t ownWords, uint16_t packetType) {
    env_ = info.Env();
    Napi::Object self = info.This().As<Napi::Object>();
    maxBatch_ = maxBatch;
    ownWords_ = ownWords;
    metaWords_ = ownWords + TAIL_WORDS;
    packetType_ = packetType;
    onBatch_ = Napi::Persistent(info[1].As<Napi::Function>());
    // Entering JavaScript through MakeCallback (not Call) runs promise jobs and nextTicks after
    // each batch, as for any other I/O callback: a ban's kernel update must not wait for a timer.
    asyncContext_ = std::make_unique<Napi::AsyncContext>(env_, resource, self);
    metaArray_ = Napi::Persistent(Napi::Uint32Array::New(env_, maxBatch * metaWords_));
    batchBuffer_ = Napi::Persistent(Napi::Buffer<uint8_t>::New(env_, BATCH_BYTES));
    meta_ = metaArray_.Value().Data();
    batch_ = batchBuffer_.Value().Data();
    self.Set("meta", metaArray_.Value());
    recvBuf_.resize(RECV_SIZE * RECV_BATCH);
    for (unsigned i = 0; i < RECV_BATCH; i++) {
      iov_[i] = {recvBuf_.data() + i * RECV_SIZE, RECV_SIZE};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  // Once the socket is configured: a large receive buffer, no ENOBUFS, and polling.
  void Listen(int fd) {
    fd_ = fd;
    // SO_RCVBUFFORCE passes the system's rmem_max, for a process with CAP_NET_ADMIN.
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &RCVBUF_BYTES, sizeof RCVBUF_BYTES) < 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &RCVBUF_BYTES, sizeof RCVBUF_BYTES);
    }
    // A full socket buffer loses messages; the kernel counts them (a queue's user_dropped; when
    // fail-open it accepts those packets). recv must not fail for it.
    int one = 1;
    setsockopt(fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env_, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, OnReadable);
  }

  void StopListening() {
    if (!poll_) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  // The next packet of the batch: its bytes copied in, the common words filled. Returns its
  // metadata, whose first words are the reader's own to fill, or nullptr when the batch is full.
  uint32_t* Append(const void* data, int len, bool inbound, uint32_t ifindex) {
    if (len < 0) len = 0;
    if (count_ == maxBatch_ || used_ + len > BATCH_BYTES) return nullptr;
    uint32_t* m = meta_ + count_ * metaWords_;
    uint32_t* tail = m + ownWords_;
    tail[0] = inbound ? FLAG_INBOUND : 0;
    tail[1] = static_cast<uint32_t>(used_);
    tail[2] = static_cast<uint32_t>(len);
    tail[3] = ifindex;
    memcpy(batch_ + used_, data, len);
    used_ += len;
    count_++;
    return m;
  }

  Napi::Env env_{nullptr};
  uint32_t* meta_ = nullptr;
  uint32_t metaWords_ = 0;

 private:
  // Messages per recvmmsg: each has its own receive buffer (only the bytes written become resident).
  static constexpr unsigned RECV_BATCH = 32;
  // Packet bytes per batch handed to JavaScript; a batch is delivered early if the next message
  // would not fit.
  static constexpr size_t BATCH_BYTES = 1 << 20;
  static constexpr int RCVBUF_BYTES = 8 << 20;

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    auto* r = static_cast<BatchReader*>(handle->data);
    if (r && static_cast<T*>(r)->IsOpen()) r->Drain();
  }

  void Drain() {
    Napi::HandleScope scope(env_);
    T* self = static_cast<T*>(this);
    while (self->IsOpen()) {
      int n = recvmmsg(fd_, msgs_, RECV_BATCH, MSG_DONTWAIT, nullptr);
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN (drained), or an error the next wake-up will see again.
      if (n <= 0) break;
      for (int i = 0; i < n && self->IsOpen(); i++) {
        char* msg = static_cast<char*>(iov_[i].iov_base);
        size_t len = msgs_[i].msg_len;
        // Room for the whole message first: NFQUEUE sends a packet per message, NFLOG up to its
        // group's threshold, and a payload is shorter than its message.
        if (count_ > 0 && (count_ + PacketsIn(msg, len) > maxBatch_ || used_ + len > BATCH_BYTES)) Deliver();
        if (self->IsOpen()) self->Parse(msg, static_cast<int>(len));
      }
      if (static_cast<unsigned>(n) < RECV_BATCH) break;
    }
    if (count_ > 0 && self->IsOpen()) Deliver();
  }

  uint32_t PacketsIn(const char* msg, size_t len) const {
    uint32_t n = 0;
    int left = static_cast<int>(len);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(msg); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == packetType_) n++;
    }
    return n;
  }

  void Deliver() {
    T* self = static_cast<T*>(this);
    uint32_t count = count_;
    self->BeforeDeliver(count);
    used_ = 0;
    count_ = 0;
    onBatch_.MakeCallback(this->Value(), {batchBuffer_.Value(), Napi::Number::New(env_, count)}, *asyncContext_);
    Napi::Error pending;
    if (env_.IsExceptionPending()) pending = env_.GetAndClearPendingException();
    // close() from the callback has already let the kernel release a queue's packets.
    if (self->IsOpen()) self->AfterDeliver(count);
    // A throwing handler is a bug: a queue's packets got the fail verdict; the process hears about it.
    if (!pending.IsEmpty()) napi_fatal_exception(env_, pending.Value());
  }

  uv_poll_t* poll_ = nullptr;
  int fd_ = -1;
  uint32_t maxBatch_ = 0, ownWords_ = 0, count_ = 0;
  uint16_t packetType_ = 0;
  std::vector<uint8_t> recvBuf_;
  mmsghdr msgs_[RECV_BATCH];
  iovec iov_[RECV_BATCH];
  uint8_t* batch_ = nullptr;
  size_t used_ = 0;
  Napi::FunctionReference onBatch_;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::Reference<Napi::Uint32Array> metaArray_;
  Napi::Reference<Napi::Buffer<uint8_t>> batchBuffer_;
};

}  // namespace vpsfw
