# The NFQUEUE addon (agent/src/queue/native.ts loads it). Build: npx node-gyp rebuild -C agent/native
# Needs libnetfilter-queue-dev (and libnfnetlink-dev) and the node-addon-api package.
{
  "targets": [
    {
      "target_name": "vpsfw_queue",
      "sources": ["src/queue.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["-lnetfilter_queue", "-lnfnetlink"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
