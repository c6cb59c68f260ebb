// SPDX-License-Identifier: MIT
//
// Drain: moves ring-buffer records to JS in batches, from a thread of its own.
//
// Threads:
//   main thread   Start, RequestStop, Abort, and (through the ThreadSafeFunction)
//                 CallJs and Finalize.
//   drain thread  Run and OnRecord: waits on the ring, copies each record as a
//                 frame `[u32 LE length][record bytes]` into the current batch,
//                 hands full or due batches over with one BlockingCall each.
//
// Ownership: the thread is joined either by Abort (close) or by the
// ThreadSafeFunction's finalizer (stop), both on the main thread; the
// finalizer holds a shared_ptr so the Drain outlives its owner if need be.
// The main thread never waits for the drain thread while the drain thread can
// be waiting for it: Abort aborts the ThreadSafeFunction (which wakes a
// BlockingCall stuck on a full queue) before joining, and the finalizer runs
// only after the thread has released the function.

#ifndef EXECTRACE_NATIVE_DRAIN_H
#define EXECTRACE_NATIVE_DRAIN_H

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

struct ring_buffer;

namespace exectrace {

struct DrainOptions {
  size_t batchBytes;  // hand a batch over once it holds this many bytes
  int flushMs;        // or once this long has passed since the last hand-over
};

class Drain {
 public:
  // A growable malloc'd buffer of frames; ownership moves to a JS Buffer.
  struct Batch {
    uint8_t* data = nullptr;
    size_t size = 0;
    size_t capacity = 0;
  };

  // Main thread. Opens a reader on the ring-buffer map `ringFd`, creates the
  // ThreadSafeFunction around onBatch (queue of kQueueBatches, keeping `owner`
  // alive while it exists) and starts the thread. Throws Napi::Error.
  static std::shared_ptr<Drain> Start(Napi::Env env, Napi::Object owner, int ringFd, Napi::Function onBatch,
                                      const DrainOptions& options);

  // Drain thread only ever runs Run(); everything else is for the main thread.
  ~Drain();
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  // Main thread. Asks for a final drain; `done` resolves once the last batch
  // was delivered to JS and the thread joined (at once if that already happened).
  void RequestStop(Napi::Promise::Deferred done);

  // Main thread. Stops without waiting on JS: batches not yet delivered are
  // freed, the thread is joined before returning. Idempotent.
  void Abort();

  // Main thread. True until the thread was joined.
  bool Running() const { return !finalized_ && thread_.joinable(); }

  static constexpr size_t kQueueBatches = 16;

 private:
  struct Holder;  // the finalizer's shared_ptr
  static void CallJs(Napi::Env env, Napi::Function onBatch, Holder* holder, Batch* batch);
  using Tsfn = Napi::TypedThreadSafeFunction<Holder, Batch, CallJs>;
  static void Finalize(Napi::Env env, void* unused, Holder* holder);

  explicit Drain(const DrainOptions& options);
  void Run();                                                  // drain thread
  static int OnRecord(void* ctx, void* data, size_t size);     // drain thread
  bool Deliver();                                              // drain thread
  void Wait(int timeoutMs);                                    // drain thread
  void Wake();                                                 // any thread
  static void FreeBatch(Batch* batch);

  const DrainOptions options_;
  ring_buffer* ring_ = nullptr;
  int wakeFd_ = -1;  // eventfd: stop and abort interrupt the wait at once
  Tsfn tsfn_;
  std::thread thread_;
  Batch* batch_ = nullptr;                 // drain thread
  bool batchFull_ = false;                 // drain thread
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  bool finalized_ = false;                 // main thread
  std::vector<Napi::Promise::Deferred> waiters_;  // main thread
};

}  // namespace exectrace

#endif
