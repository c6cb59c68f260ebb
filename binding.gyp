{
  "targets": [
    {
      "target_name": "exectrace_native",
      "sources": ["native/binding.cc", "native/loader.cc", "native/drain.cc",
                  "native/clocks.cc", "native/process.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags": ["<!@(pkg-config --cflags libbpf)", "-Wall", "-Wextra"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
