// SPDX-License-Identifier: MIT
//
// Drain: moves ring-buffer records to JS in batches, from a thread of its own.
//
// Threads:
//   main thread   Start, RequestStop, Abort, and (through the ThreadSafeFunction)
//                 CallJs and Finalize.
//   drain thread  Run and OnRecord: waits on the ring, copies each record as a
//                 frame `[u32 LE length][record bytes]` into the current batch,
//                 summarizes it (type, timestamp) while the bytes are at hand,
//                 hands full or due batches over with one BlockingCall each.
//
// Memory: a batch lives in one of a few pool buffers that JS allocated and the
// drain keeps referenced; JS sees it only for the length of one onBatch call,
// then the slot is free again. So a recording allocates no batch memory at
// all in its steady state: a fresh 1 MiB external Buffer per batch made V8
// run a full mark-compact every ~64 MiB of records (external memory
// pressure), ~15% of the recorder's CPU in a syscall storm. Without a pool
// slot free (or for a record too large for one) a batch is malloc'd, and the
// JS Buffer owns it, as before.
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
#include <mutex>
#include <thread>
#include <vector>

struct ring_buffer;

namespace exectrace {

// Where a record's header keeps its type and timestamp (from the object's
// BTF, via JS), so the drain can summarize each batch as it copies it.
struct HeaderLayout {
  uint32_t size = 0;  // 0: no summaries
  uint32_t typeOffset = 0;
  uint32_t typeSize = 2;  // 2 or 4
  uint32_t tsOffset = 0;  // a u64
  uint32_t pidOffset = 0; // a u32: the thread-group id
  uint32_t types = 0;     // counts kept for type ids below this (at most kSummaryTypes)
};

struct DrainOptions {
  size_t batchBytes;  // hand a batch over once it holds this many bytes
  int flushMs;        // or once this long has passed since the last hand-over
  HeaderLayout header;
  // Records of this type id (exec records; 0: none) get /proc/PID/exe opened
  // as the drain copies them: the recorder hashes the file an exec ran, and
  // an open descriptor keeps that very file (a deleted or memfd image
  // included) after a short-lived process is gone. Needs a header layout.
  uint32_t openExeType = 0;
  // An exec record with one of these bits in the u32 at this offset (et_exec's
  // exec_flags: ET_EXEC_KNOWN, a file the recorder has hashed already) needs no
  // descriptor: it gets -EEXIST instead. 0: open for every exec record.
  uint32_t openExeSkipOffset = 0;
  uint32_t openExeSkipMask = 0;
};

// Descriptors one batch may carry; an exec beyond them gets -EMFILE, and the
// recorder falls back to the path. With kQueueBatches batches queued, at most
// 16 × 1024 descriptors wait for JS, who closes each as it takes the batch.
static constexpr size_t kMaxExePerBatch = 1024;

// What the drain knows of one batch, written to JS's summary buffer (laid out
// as below, little-endian) just before the batch's onBatch call. Frames the
// summary could not attribute (a type id >= types, or shorter than a header)
// are `other`: the consumer reads those batches itself.
static constexpr uint32_t kSummaryTypes = 64;
struct BatchSummary {
  uint64_t firstTs;  // smallest and largest timestamp of frames with a header; 0 if none
  uint64_t lastTs;
  uint32_t records;  // frames in the batch
  uint32_t stamped;  // frames with a whole header
  uint32_t other;
  uint32_t reserved;
  uint32_t counts[kSummaryTypes];  // frames per type id; only [0, types) is copied
};
static constexpr size_t kSummaryHeadBytes = offsetof(BatchSummary, counts);

class Drain {
 public:
  // A growable malloc'd buffer of frames; ownership moves to a JS Buffer.
  // slot >= 0: the memory is pool buffer `slot`'s; else it is malloc'd.
  struct Batch {
    uint8_t* data = nullptr;
    size_t size = 0;
    size_t capacity = 0;
    int slot = -1;
    BatchSummary summary;
    // openExeType: per exec frame, its offset in the batch and the descriptor
    // of /proc/PID/exe (or -errno). Closed here unless JS took them.
    std::vector<int32_t> exe;
  };

  // Main thread. Opens a reader on the ring-buffer map `ringFd`, creates the
  // ThreadSafeFunction around onBatch (queue of kQueueBatches, keeping `owner`
  // alive while it exists) and starts the thread. `pool` (Buffers, may be
  // empty) holds the batches; `summary` (a Buffer of at least
  // kSummaryHeadBytes + 4 * header.types bytes, or empty) receives each
  // batch's summary. onBatch is called as (buffer, slot, size): a malloc'd
  // batch is `buffer` (JS owns it, slot -1); a pooled one is null and the
  // first `size` bytes of pool[slot], until the call returns; with
  // openExeType a fourth argument, an Int32Array of (frame offset, fd or
  // -errno) pairs, is given when the batch has exec frames: JS owns (and
  // must close) those descriptors. Throws
  // Napi::Error.
  static std::shared_ptr<Drain> Start(Napi::Env env, Napi::Object owner, int ringFd, Napi::Function onBatch,
                                      const DrainOptions& options, const std::vector<Napi::Buffer<uint8_t>>& pool,
                                      Napi::Buffer<uint8_t> summary);

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
  Batch* NewBatch();                                           // drain thread
  bool Grow(Batch* batch, size_t need);                        // drain thread
  uint32_t Summarize(Batch* batch, const uint8_t* record, size_t size);  // drain thread
  void OpenExe(Batch* batch, size_t frame, const uint8_t* record, size_t size);  // drain thread
  static void CloseExe(Batch* batch);                          // any thread
  void FreeSlot(int slot);                                     // any thread
  void ReleaseJs();                                            // main thread
  void Wait(int timeoutMs);                                    // drain thread
  void Wake();                                                 // any thread
  void FreeBatch(Batch* batch);                                // any thread

  const DrainOptions options_;
  ring_buffer* ring_ = nullptr;
  int wakeFd_ = -1;  // eventfd: stop and abort interrupt the wait at once
  int epollFd_ = -1;  // the ring (edge-triggered) and wakeFd_
  Tsfn tsfn_;
  std::thread thread_;
  Batch* batch_ = nullptr;                 // drain thread
  bool batchFull_ = false;                 // drain thread
  // The pool: fixed at Start. Slot memory belongs to JS Buffers, referenced
  // here (main thread) until the thread is joined; free slots are shared.
  struct Slot {
    uint8_t* data;
    size_t capacity;
  };
  std::vector<Slot> slots_;
  std::vector<Napi::Reference<Napi::Buffer<uint8_t>>> slotRefs_;  // main thread
  std::mutex freeMu_;
  std::vector<int> freeSlots_;  // guarded by freeMu_
  uint8_t* summaryOut_ = nullptr;  // main thread writes it, in CallJs
  Napi::Reference<Napi::Buffer<uint8_t>> summaryRef_;  // main thread
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_{false};
  bool finalized_ = false;                 // main thread
  std::vector<Napi::Promise::Deferred> waiters_;  // main thread
};

}  // namespace exectrace

#endif
