// Small helpers the addon's classes share: reading a constructor's options, and errors that carry
// the system's errno.
#pragma once

#include <napi.h>

#include <string.h>
#include <string>

namespace vpsfw {

// Reads the fields of an options object and remembers the first number that is missing, so the
// constructor can name it. The TypeScript side validates; this only keeps a wrong call from
// running with zeros.
class Options {
 public:
  explicit Options(Napi::Object o) : o_(o) {}

  uint32_t U32(const char* key) {
    Napi::Value v = o_.Get(key);
    if (v.IsNumber()) return v.As<Napi::Number>().Uint32Value();
    if (!bad_) bad_ = key;
    return 0;
  }

  bool Bool(const char* key) { return o_.Get(key).ToBoolean(); }

  // The first field that was not a number, or nullptr.
  const char* bad() const { return bad_; }

 private:
  Napi::Object o_;
  const char* bad_ = nullptr;
};

inline void ThrowBadOption(Napi::Env env, const char* cls, const char* field) {
  Napi::TypeError::New(env, std::string("new ") + cls + ": options." + field + " is missing or out of range").ThrowAsJavaScriptException();
}

// "what: strerror(err)", with the number as `errno` for callers that tell causes apart.
inline Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace vpsfw
