// The addon's entry point: agent/src/queue/native-binding.ts loads it.
#include "addon.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Queue", vpsfw::QueueClass(env));
  exports.Set("Log", vpsfw::LogClass(env));
  exports.Set("RawSender", vpsfw::RawSenderClass(env));
  exports.Set("destroySocket", vpsfw::DestroySocketFunction(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(vpsfw_queue, Init)
