# The kernel packet addon (agent/src/queue/native-binding.ts loads it): NFQUEUE, NFLOG and raw
# sockets. Build: npx node-gyp rebuild -C agent/native
# Needs libnetfilter-queue-dev, libnetfilter-log-dev (and libnfnetlink-dev) and the node-addon-api package.
{
  "targets": [
    {
      "target_name": "vpsfw_queue",
      "sources": ["src/addon.cc", "src/queue.cc", "src/log.cc", "src/raw_sender.cc", "src/sock_destroy.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "libraries": ["-lnetfilter_queue", "-lnetfilter_log", "-lnfnetlink"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
