// SPDX-License-Identifier: MIT
//
// Node-API surface of the addon: registers the exports and checks arguments.
// The work is in loader.cc (BPF object) and drain.cc (ring-buffer thread);
// process.cc adds spawn, wait and lockFile.
// src/record/native.ts validates everything first; the checks here only keep
// a wrong call from crashing the process.
//
// Every method below runs on the JS main thread.

#include <napi.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include <cmath>
#include <memory>
#include <string>

#include "clocks.h"
#include "drain.h"
#include "loader.h"
#include "process.h"

namespace exectrace {
namespace {

// Runs fn, turning a BpfError into a JS Error with the same message.
template <typename Fn>
auto Guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const BpfError& e) {
    throw Napi::Error::New(env, e.what());
  }
}

[[noreturn]] void TypeError(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

// A non-negative integer number no larger than max.
uint64_t Integer(Napi::Env env, Napi::Value value, const char* what, uint64_t min, uint64_t max) {
  if (!value.IsNumber()) TypeError(env, std::string(what) + ": expected a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < double(min) || d > double(max)) {
    TypeError(env, std::string(what) + ": expected an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return uint64_t(d);
}

// An array each of whose elements passes `is`, handed to `take` in order; else a
// TypeError "message" (the same for a non-array and for a wrong element).
template <typename Is, typename Take>
void EachElement(Napi::Env env, Napi::Value value, const char* message, Is is, Take take) {
  if (!value.IsArray()) TypeError(env, message);
  Napi::Array list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value element = list.Get(i);
    if (!is(element)) TypeError(env, message);
    take(element);
  }
}

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tracer",
                       {
                           InstanceAccessor<&Tracer::NrCpus>("nrCpus"),
                           InstanceMethod<&Tracer::Attach>("attach"),
                           InstanceMethod<&Tracer::Detach>("detach"),
                           InstanceMethod<&Tracer::Start>("start"),
                           InstanceMethod<&Tracer::Stop>("stop"),
                           InstanceMethod<&Tracer::Counters>("counters"),
                           InstanceMethod<&Tracer::MapUpdate>("mapUpdate"),
                           InstanceMethod<&Tracer::MapDelete>("mapDelete"),
                           InstanceMethod<&Tracer::MapDump>("mapDump"),
                           InstanceMethod<&Tracer::TaskStorage>("taskStorage"),
                           InstanceMethod<&Tracer::RunIter>("runIter"),
                           InstanceMethod<&Tracer::Close>("close"),
                       });
  }

  // new Tracer({ object, rodata?, ringBytes?, disable?, maxEntries? }): open, configure, load.
  explicit Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) TypeError(env, "options: expected an object");
    Napi::Object options = info[0].As<Napi::Object>();

    LoadOptions load;
    Napi::Value object = options.Get("object");
    if (!object.IsString()) TypeError(env, "options.object: expected a path");
    load.object = object.As<Napi::String>().Utf8Value();

    Napi::Value rodata = options.Get("rodata");
    if (!rodata.IsUndefined()) {
      if (!rodata.IsBuffer()) TypeError(env, "options.rodata: expected a Buffer");
      Napi::Buffer<uint8_t> bytes = rodata.As<Napi::Buffer<uint8_t>>();
      load.rodata = bytes.Data();
      load.rodataSize = bytes.Length();
    }
    Napi::Value ringBytes = options.Get("ringBytes");
    if (!ringBytes.IsUndefined()) {
      load.ringBytes = uint32_t(Integer(env, ringBytes, "options.ringBytes", 1, UINT32_MAX));
    }

    Napi::Value disable = options.Get("disable");
    if (!disable.IsUndefined()) {
      EachElement(
          env, disable, "options.disable: expected an array of program names", [](Napi::Value v) { return v.IsString(); },
          [&](Napi::Value v) { load.disable.push_back(v.As<Napi::String>().Utf8Value()); });
    }
    Napi::Value maxEntries = options.Get("maxEntries");
    if (!maxEntries.IsUndefined()) {
      if (!maxEntries.IsObject()) TypeError(env, "options.maxEntries: expected an object { map: entries }");
      Napi::Object sizes = maxEntries.As<Napi::Object>();
      Napi::Array names = sizes.GetPropertyNames();
      for (uint32_t i = 0; i < names.Length(); i++) {
        std::string name = names.Get(i).As<Napi::String>().Utf8Value();
        uint32_t entries = uint32_t(Integer(env, sizes.Get(name), "options.maxEntries", 1, UINT32_MAX));
        load.maxEntries.emplace_back(name, entries);
      }
    }

    InstallLibbpfLog();
    loader_ = Guard(env, [&] { return std::make_unique<Loader>(load); });
    napi_add_env_cleanup_hook(env_, OnEnvCleanup, this);
    hooked_ = true;
  }

  // GC finalizer, or env teardown.
  ~Tracer() override {
    if (hooked_) napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    hooked_ = false;
    CloseNow();
  }

 private:
  // Env teardown (process exit, worker termination): stop and free now.
  static void OnEnvCleanup(void* arg) {
    Tracer* self = static_cast<Tracer*>(arg);
    self->hooked_ = false;  // node drops the hook after this call
    self->CloseNow();
  }

  // Never waits on JS: the drain is aborted, not stopped.
  void CloseNow() {
    if (drain_) {
      drain_->Abort();
      drain_.reset();
    }
    loader_.reset();
  }

  Loader& Open(Napi::Env env, const char* what) {
    if (!loader_) throw Napi::Error::New(env, std::string(what) + ": tracer is closed");
    return *loader_;
  }

  Napi::Value NrCpus(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), Open(info.Env(), "nrCpus").NrCpus());
  }

  // attach(): every program, from its SEC().
  void Attach(const Napi::CallbackInfo& info) {
    Loader& loader = Open(info.Env(), "attach");
    Guard(info.Env(), [&] { loader.Attach(); });
  }

  // detach(): no program runs after it; the maps and the ring stay until close().
  void Detach(const Napi::CallbackInfo& info) {
    Loader& loader = Open(info.Env(), "detach");
    loader.Detach();
  }

  // start(onBatch, { batchBytes, flushMs, header?, summary?, pool?, openExeType?, openExeSkip? }):
  // starts the drain thread. header { size, typeOffset, typeSize, tsOffset,
  // pidOffset?, types } turns on batch summaries, written to `summary` (a
  // Buffer) before each call; `pool` is an array of Buffers the batches are
  // built in; openExeType (with header.pidOffset) opens /proc/PID/exe for each
  // record of that type, but for those with a bit of openExeSkip.mask in the
  // u32 at openExeSkip.offset. onBatch is called as (buffer | null, slot, size,
  // exe?): see Drain::Start.
  void Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "start");
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsObject()) {
      TypeError(env, "start: expected (onBatch: function, { batchBytes, flushMs })");
    }
    Napi::Object options = info[1].As<Napi::Object>();
    DrainOptions drain;
    drain.batchBytes = size_t(Integer(env, options.Get("batchBytes"), "batchBytes", 1, uint64_t(1) << 30));
    drain.flushMs = int(Integer(env, options.Get("flushMs"), "flushMs", 1, INT32_MAX));

    Napi::Buffer<uint8_t> summary;
    Napi::Value header = options.Get("header");
    if (!header.IsUndefined()) {
      if (!header.IsObject()) TypeError(env, "header: expected { size, typeOffset, typeSize, tsOffset, types }");
      Napi::Object h = header.As<Napi::Object>();
      HeaderLayout& l = drain.header;
      l.size = uint32_t(Integer(env, h.Get("size"), "header.size", 8, 1 << 16));
      l.typeSize = uint32_t(Integer(env, h.Get("typeSize"), "header.typeSize", 2, 4));
      if (l.typeSize != 2 && l.typeSize != 4) TypeError(env, "header.typeSize: expected 2 or 4");
      l.typeOffset = uint32_t(Integer(env, h.Get("typeOffset"), "header.typeOffset", 0, l.size - l.typeSize));
      l.tsOffset = uint32_t(Integer(env, h.Get("tsOffset"), "header.tsOffset", 0, l.size - 8));
      if (!h.Get("pidOffset").IsUndefined()) {
        l.pidOffset = uint32_t(Integer(env, h.Get("pidOffset"), "header.pidOffset", 0, l.size - 4));
      }
      l.types = uint32_t(Integer(env, h.Get("types"), "header.types", 1, kSummaryTypes));
      Napi::Value out = options.Get("summary");
      if (!out.IsBuffer()) TypeError(env, "summary: expected a Buffer");
      summary = out.As<Napi::Buffer<uint8_t>>();
      if (summary.Length() < kSummaryHeadBytes + 4 * size_t(l.types)) TypeError(env, "summary: Buffer too small");
    }
    Napi::Value openExe = options.Get("openExeType");
    if (!openExe.IsUndefined()) {
      if (drain.header.size == 0) TypeError(env, "openExeType: needs a header");
      drain.openExeType = uint32_t(Integer(env, openExe, "openExeType", 1, drain.header.types - 1));
      Napi::Value skip = options.Get("openExeSkip");
      if (!skip.IsUndefined()) {
        if (!skip.IsObject()) TypeError(env, "openExeSkip: expected { offset, mask }");
        Napi::Object o = skip.As<Napi::Object>();
        drain.openExeSkipOffset = uint32_t(Integer(env, o.Get("offset"), "openExeSkip.offset", 0, 1 << 16));
        drain.openExeSkipMask = uint32_t(Integer(env, o.Get("mask"), "openExeSkip.mask", 1, UINT32_MAX));
      }
    }
    std::vector<Napi::Buffer<uint8_t>> pool;
    Napi::Value slots = options.Get("pool");
    if (!slots.IsUndefined()) {
      EachElement(
          env, slots, "pool: expected an array of Buffers", [](Napi::Value v) { return v.IsBuffer(); },
          [&](Napi::Value v) { pool.push_back(v.As<Napi::Buffer<uint8_t>>()); });
    }
    if (drain_ && drain_->Running()) throw Napi::Error::New(env, "start: already started");
    int ringFd = Guard(env, [&] { return loader.MapFd("events"); });
    drain_ = Drain::Start(env, Value(), ringFd, info[0].As<Napi::Function>(), drain, pool, summary);
  }

  // stop(): Promise<void>, resolved after the final batch reached JS and the
  // thread was joined; resolved at once if not started.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Promise::Deferred done = Napi::Promise::Deferred::New(info.Env());
    if (drain_) {
      drain_->RequestStop(done);
    } else {
      done.Resolve(info.Env().Undefined());
    }
    return done.Promise();
  }

  // counters(mapName = 'counters'): Buffer laid out [key][cpu][value] from a per-CPU array.
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "counters");
    std::string name = "counters";
    if (info.Length() >= 1 && !info[0].IsUndefined()) name = MapName(env, info[0], "counters");
    size_t size = Guard(env, [&] { return loader.PerCpuSize(name.c_str()); });
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, size);
    Guard(env, [&] { loader.ReadPerCpu(name.c_str(), out.Data(), out.Length()); });
    return out;
  }

  // mapUpdate(mapName, key: Buffer, value: Buffer): one entry, BPF_ANY.
  void MapUpdate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "mapUpdate");
    if (info.Length() < 3 || !info[1].IsBuffer() || !info[2].IsBuffer()) {
      TypeError(env, "mapUpdate: expected (mapName: string, key: Buffer, value: Buffer)");
    }
    std::string name = MapName(env, info[0], "mapUpdate");
    Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
    Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
    Guard(env, [&] { loader.MapUpdate(name.c_str(), key.Data(), key.Length(), value.Data(), value.Length()); });
  }

  // mapDelete(mapName, key: Buffer): boolean, false when the key was not there.
  Napi::Value MapDelete(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "mapDelete");
    if (info.Length() < 2 || !info[1].IsBuffer()) TypeError(env, "mapDelete: expected (mapName: string, key: Buffer)");
    std::string name = MapName(env, info[0], "mapDelete");
    Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
    bool deleted = Guard(env, [&] { return loader.MapDelete(name.c_str(), key.Data(), key.Length()); });
    return Napi::Boolean::New(env, deleted);
  }

  // mapDump(mapName): { keys: Buffer, values: Buffer, count } of a hash or array map.
  Napi::Value MapDump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "mapDump");
    if (info.Length() < 1) TypeError(env, "mapDump: expected (mapName: string)");
    std::string name = MapName(env, info[0], "mapDump");
    MapEntries entries = Guard(env, [&] { return loader.MapDump(name.c_str()); });
    return EntriesObject(env, entries);
  }

  // taskStorage(mapName, tids: Uint32Array): { keys, values, count, keySize, valueSize }
  // of a task-storage map, for the threads of tids that have a value.
  Napi::Value TaskStorage(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "taskStorage");
    if (info.Length() < 2 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      TypeError(env, "taskStorage: expected (mapName: string, tids: Uint32Array)");
    }
    std::string name = MapName(env, info[0], "taskStorage");
    Napi::Uint32Array list = info[1].As<Napi::Uint32Array>();
    std::vector<uint32_t> tids(list.Data(), list.Data() + list.ElementLength());
    MapEntries entries = Guard(env, [&] { return loader.TaskStorageLookup(name.c_str(), tids); });
    return EntriesObject(env, entries);
  }

  // runIter(programName): Buffer, all the iterator program wrote in one run.
  Napi::Value RunIter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Loader& loader = Open(env, "runIter");
    if (info.Length() < 1 || !info[0].IsString()) TypeError(env, "runIter: expected a program name");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::vector<uint8_t> out = Guard(env, [&] { return loader.RunIter(name.c_str()); });
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  // { keys, values, count, keySize, valueSize } of mapDump and taskStorage.
  static Napi::Object EntriesObject(Napi::Env env, const MapEntries& entries) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("keys", Napi::Buffer<uint8_t>::Copy(env, entries.keys.data(), entries.keys.size()));
    out.Set("values", Napi::Buffer<uint8_t>::Copy(env, entries.values.data(), entries.values.size()));
    out.Set("count", Napi::Number::New(env, double(entries.count)));
    out.Set("keySize", Napi::Number::New(env, double(entries.keySize)));
    out.Set("valueSize", Napi::Number::New(env, double(entries.valueSize)));
    return out;
  }

  static std::string MapName(Napi::Env env, Napi::Value value, const char* what) {
    if (!value.IsString()) TypeError(env, std::string(what) + ": expected a map name");
    return value.As<Napi::String>().Utf8Value();
  }

  // close(): destroys links and the object; idempotent.
  void Close(const Napi::CallbackInfo&) { CloseNow(); }

  napi_env env_;
  bool hooked_ = false;
  std::unique_ptr<Loader> loader_;
  std::shared_ptr<Drain> drain_;
};

}  // namespace
}  // namespace exectrace

// clocks(): { boot_ns, realtime_ns, monotonic_ns, uncertainty_ns } as bigints.
static Napi::Value ClocksNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  exectrace::Clocks c = exectrace::ReadClocks();
  Napi::Object out = Napi::Object::New(env);
  out.Set("boot_ns", Napi::BigInt::New(env, c.bootNs));
  out.Set("realtime_ns", Napi::BigInt::New(env, c.realtimeNs));
  out.Set("monotonic_ns", Napi::BigInt::New(env, c.monotonicNs));
  out.Set("uncertainty_ns", Napi::BigInt::New(env, c.uncertaintyNs));
  return out;
}

// waitForPrograms(): boolean, once every BPF program running when it was called has
// returned (loader.h); false when the kernel cannot say so.
static Napi::Value WaitForPrograms(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), exectrace::WaitForPrograms());
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using exectrace::Tracer;
  exports.Set("Tracer", Tracer::Define(env));
  exports.Set("clocks", Napi::Function::New<ClocksNow>(env, "clocks"));
  exports.Set("waitForPrograms", Napi::Function::New<WaitForPrograms>(env, "waitForPrograms"));
  exports.Set("pageSize", Napi::Number::New(env, double(sysconf(_SC_PAGESIZE))));
  exports.Set("libbpfVersion", Napi::String::New(env, libbpf_version_string()));
  exectrace::RegisterProcess(env, exports);
  return exports;
}

NODE_API_MODULE(exectrace_native, Init)
