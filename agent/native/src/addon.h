// The classes the addon exports, one file each: Queue (queue.cc, NFQUEUE), Log (log.cc, NFLOG),
// RawSender (raw_sender.cc, raw IP sockets), destroySocket (sock_destroy.cc, SOCK_DESTROY).
#pragma once

#include <napi.h>

namespace vpsfw {

Napi::Function QueueClass(Napi::Env env);
Napi::Function LogClass(Napi::Env env);
Napi::Function RawSenderClass(Napi::Env env);
Napi::Function DestroySocketFunction(Napi::Env env);

}  // namespace vpsfw
