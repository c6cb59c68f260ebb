// SPDX-License-Identifier: MIT
#include "drain.h"

#include <bpf/libbpf.h>
#include <endian.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>

#include "loader.h"

namespace exectrace {

struct Drain::Holder {
  std::shared_ptr<Drain> self;
};

Drain::Drain(const DrainOptions& options) : options_(options) {}

// Main thread (from the finalizer's last reference, or a failed Start).
Drain::~Drain() {
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (wakeFd_ >= 0) close(wakeFd_);
  if (epollFd_ >= 0) close(epollFd_);
  FreeBatch(batch_);
}

// Batches not built in a pool slot (live mode, or no slot free) are malloc'd
// here, up to a few MiB each, and freed by JS (when the Buffer is
// collected): above glibc's mmap threshold each one was a fresh mapping whose
// pages the kernel zeroed on first touch, a sixth of the recorder's CPU in a
// syscall storm (perf: clear_page_erms, exc_page_fault). With a fixed threshold
// above a batch, and no trimming below it, freed batches are reused from the
// heap instead. Process-wide, once; only the recorder loads this addon.
static void KeepBatchMemory() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
  });
}

// Main thread.
std::shared_ptr<Drain> Drain::Start(Napi::Env env, Napi::Object owner, int ringFd, Napi::Function onBatch,
                                    const DrainOptions& options, const std::vector<Napi::Buffer<uint8_t>>& pool,
                                    Napi::Buffer<uint8_t> summary) {
  KeepBatchMemory();
  std::shared_ptr<Drain> self(new Drain(options));
  for (const Napi::Buffer<uint8_t>& buffer : pool) {
    self->freeSlots_.push_back(int(self->slots_.size()));
    self->slots_.push_back(Slot{buffer.Data(), buffer.Length()});
    self->slotRefs_.push_back(Napi::Persistent(buffer));
  }
  if (!summary.IsEmpty()) {
    self->summaryOut_ = summary.Data();
    self->summaryRef_ = Napi::Persistent(summary);
  }
  self->ring_ = ring_buffer__new(ringFd, OnRecord, self.get(), nullptr);
  if (self->ring_ == nullptr) throw Napi::Error::New(env, "open ring buffer events: " + ErrorText(-errno));
  self->wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->wakeFd_ < 0) throw Napi::Error::New(env, "start drain: eventfd: " + ErrorText(-errno));
  // Our own epoll, the ring edge-triggered: libbpf's (level-triggered) is
  // ready whenever a byte is pending, so in a storm every wait returned at once
  // and the thread spun through ~3000 poll+consume rounds a second of a few
  // hundred records each. Edge-triggered, a wait ends only on a new wakeup from
  // the BPF side (sent once a quarter of the ring is pending, see
  // wakeup_flags() in exectrace.bpf.c), on stop, or on the flush timer.
  self->epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (self->epollFd_ < 0) throw Napi::Error::New(env, "start drain: epoll: " + ErrorText(-errno));
  struct epoll_event ev = {};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = ringFd;
  if (epoll_ctl(self->epollFd_, EPOLL_CTL_ADD, ringFd, &ev) < 0) {
    throw Napi::Error::New(env, "start drain: epoll ring buffer: " + ErrorText(-errno));
  }
  ev.events = EPOLLIN;
  ev.data.fd = self->wakeFd_;
  if (epoll_ctl(self->epollFd_, EPOLL_CTL_ADD, self->wakeFd_, &ev) < 0) {
    throw Napi::Error::New(env, "start drain: epoll eventfd: " + ErrorText(-errno));
  }

  auto* holder = new Holder{self};
  try {
    // Passing `owner` as the async resource keeps the tracer object alive while
    // the function exists, so a tracer that is running is never collected.
    self->tsfn_ = Tsfn::New(env, onBatch, owner, "exectrace drain", kQueueBatches, 1, holder, Finalize,
                            static_cast<void*>(nullptr));
  } catch (...) {
    delete holder;
    throw;
  }
  try {
    Drain* raw = self.get();  // alive until the finalizer has joined the thread
    self->thread_ = std::thread([raw] { raw->Run(); });
  } catch (const std::system_error& e) {
    self->tsfn_.Release();  // the finalizer drops the holder
    throw Napi::Error::New(env, std::string("start drain thread: ") + e.what());
  }
  return self;
}

// Main thread.
void Drain::RequestStop(Napi::Promise::Deferred done) {
  if (finalized_) {
    done.Resolve(done.Env().Undefined());
    return;
  }
  waiters_.push_back(done);
  stop_.store(true);
  Wake();
}

// Main thread. Abort before join: a drain thread blocked in BlockingCall on a
// full queue (JS has not run yet) wakes with an error instead of waiting for
// this very thread. If the drain thread already released the function, Abort
// is a harmless napi_invalid_arg; the function cannot have been deleted, as
// that needs the event loop, which is here.
void Drain::Abort() {
  if (!thread_.joinable()) return;
  abort_.store(true);
  stop_.store(true);
  Wake();
  tsfn_.Abort();
  thread_.join();
  ReleaseJs();
}

// Main thread, once the drain thread is gone: the pool and summary Buffers go
// back to JS. A batch still queued (after Abort) only gives its slot back.
void Drain::ReleaseJs() {
  for (auto& ref : slotRefs_) ref.Reset();
  summaryRef_.Reset();
  summaryOut_ = nullptr;
}

// Main thread, after the drain thread released the function (or it was
// aborted) and every queued batch went to JS, or at env teardown.
void Drain::Finalize(Napi::Env env, void* /*unused*/, Holder* holder) {
  std::shared_ptr<Drain> self = std::move(holder->self);
  delete holder;
  if (self->thread_.joinable()) {
    // Normally the thread has released and is returning; at env teardown it
    // may still be waiting on the ring, so tell it to go.
    self->abort_.store(true);
    self->Wake();
    self->thread_.join();
  }
  self->finalized_ = true;
  self->ReleaseJs();
  std::vector<Napi::Promise::Deferred> waiters;
  waiters.swap(self->waiters_);
  for (Napi::Promise::Deferred& done : waiters) {
    try {
      done.Resolve(env.Undefined());
    } catch (...) {
      // env teardown: nobody is left to wait
    }
  }
}

// Main thread. env is null when the function is being deleted with batches
// still queued (after Abort, or at env teardown): just free them.
void Drain::CallJs(Napi::Env env, Napi::Function onBatch, Holder* holder, Batch* batch) {
  if (holder == nullptr) {
    CloseExe(batch);
    if (batch->slot < 0) free(batch->data);  // a slot's memory is its Buffer's
    delete batch;
    return;
  }
  Drain* self = holder->self.get();
  if (env == nullptr || self->abort_.load()) {
    self->FreeBatch(batch);
    return;
  }
  if (self->summaryOut_ != nullptr) {
    memcpy(self->summaryOut_, &batch->summary, kSummaryHeadBytes + 4 * size_t(self->options_.header.types));
  }
  // From here on the descriptors are JS's to close.
  Napi::Value exe = env.Undefined();
  if (!batch->exe.empty()) {
    Napi::Int32Array pairs = Napi::Int32Array::New(env, batch->exe.size());
    memcpy(pairs.Data(), batch->exe.data(), batch->exe.size() * sizeof(int32_t));
    batch->exe.clear();
    exe = pairs;
  }
  if (batch->slot >= 0) {
    // Pooled: JS reads pool[slot] during the call; the slot is free once it returns.
    const int slot = batch->slot;
    const size_t size = batch->size;
    delete batch;
    try {
      onBatch.Call({env.Null(), Napi::Number::New(env, slot), Napi::Number::New(env, double(size)), exe});
    } catch (const Napi::Error& e) {
      self->FreeSlot(slot);
      napi_fatal_exception(env, e.Value());
      return;
    }
    self->FreeSlot(slot);
    return;
  }
  uint8_t* data = batch->data;
  size_t size = batch->size;
  batch->data = nullptr;
  delete batch;
  // No copy: the JS Buffer owns the malloc'd bytes from here on.
  Napi::Buffer<uint8_t> buffer;
  try {
    buffer = Napi::Buffer<uint8_t>::NewOrCopy(env, data, size, [](Napi::Env, uint8_t* bytes) { free(bytes); });
  } catch (...) {
    free(data);  // a worker being terminated cannot make Buffers any more
    throw;
  }
  try {
    onBatch.Call({buffer, Napi::Number::New(env, -1), Napi::Number::New(env, double(size)), exe});
  } catch (const Napi::Error& e) {
    // A throw from onBatch is an uncaught exception, as for any callback (by
    // default Node-API 8 would only print a warning and carry on). Where JS
    // can no longer run (env teardown) this fails quietly.
    napi_fatal_exception(env, e.Value());
  }
}

// Drain thread.
void Drain::Run() {
  using Clock = std::chrono::steady_clock;
  const auto flush = std::chrono::milliseconds(options_.flushMs);
  auto last = Clock::now();
  bool live = true;  // false once a call failed: the function is no longer ours to touch

  while (!abort_.load()) {
    const bool stopping = stop_.load();
    if (!stopping) {
      // The BPF side submits without wakeups unless the ring fills up, so this
      // timeout is the normal path; a wakeup or stop() just ends it early.
      // Rounded up: truncated, the last fraction of a millisecond before each
      // flush was a busy loop of zero-timeout waits (thousands per second).
      auto left = std::chrono::ceil<std::chrono::milliseconds>(flush - (Clock::now() - last));
      Wait(left.count() > 0 ? static_cast<int>(left.count()) : 0);
      if (abort_.load()) break;
    }

    // ring_buffer__poll would consume only after a wakeup; consume always. A
    // full batch interrupts the consume so batches stay near batchBytes even
    // when the ring holds far more.
    for (;;) {
      batchFull_ = false;
      ring_buffer__consume(ring_);
      if (!batchFull_) break;
      live = Deliver();
      last = Clock::now();
      if (!live || abort_.load()) break;
    }
    if (!live || abort_.load()) break;

    const auto now = Clock::now();
    const bool due = now - last >= flush;
    if (batch_ != nullptr && batch_->size > 0 && (due || stopping)) {
      live = Deliver();
      if (!live) break;
      last = now;
    } else if (due) {
      last = now;
    }
    if (stopping) break;
  }

  ring_buffer__free(ring_);
  ring_ = nullptr;
  FreeBatch(batch_);
  batch_ = nullptr;
  if (live) tsfn_.Release();  // last use of the function by this thread
}

// Drain thread, inside ring_buffer__consume: one record → one frame.
int Drain::OnRecord(void* ctx, void* data, size_t size) {
  Drain* self = static_cast<Drain*>(ctx);
  const size_t need = 4 + size;
  Batch* batch = self->batch_;
  if (batch == nullptr) {
    batch = self->batch_ = self->NewBatch();
  }
  if (batch->capacity - batch->size < need && !self->Grow(batch, need)) {
    // Out of memory: the record is lost (libbpf has already consumed it);
    // stop here and hand over what we have.
    self->batchFull_ = batch->size > 0;
    return -ENOMEM;
  }
  uint8_t* frame = batch->data + batch->size;
  const uint32_t length = static_cast<uint32_t>(size);
  frame[0] = uint8_t(length);
  frame[1] = uint8_t(length >> 8);
  frame[2] = uint8_t(length >> 16);
  frame[3] = uint8_t(length >> 24);
  memcpy(frame + 4, data, size);
  // From the copy, not the ring: the summary describes exactly the bytes JS gets.
  const uint32_t type = self->Summarize(batch, frame + 4, size);
  if (type != 0 && type == self->options_.openExeType) self->OpenExe(batch, batch->size, frame + 4, size);
  batch->size += need;
  if (batch->size >= self->options_.batchBytes) {
    self->batchFull_ = true;
    return -ECANCELED;  // stop consuming; the record itself is kept
  }
  return 0;
}

// Drain thread. A pool slot if one is free, else an empty malloc'd batch.
Drain::Batch* Drain::NewBatch() {
  Batch* batch = new Batch();
  memset(&batch->summary, 0, sizeof(batch->summary));
  std::lock_guard<std::mutex> lock(freeMu_);
  if (!freeSlots_.empty()) {
    batch->slot = freeSlots_.back();
    freeSlots_.pop_back();
    batch->data = slots_[batch->slot].data;
    batch->capacity = slots_[batch->slot].capacity;
  }
  return batch;
}

// Drain thread. Room for `need` more bytes; a pooled batch that outgrows its
// slot (a record larger than the slot's slack) moves to malloc'd memory.
bool Drain::Grow(Batch* batch, size_t need) {
  size_t capacity = batch->capacity ? batch->capacity * 2 : options_.batchBytes + 4096;
  if (capacity < batch->size + need) capacity = batch->size + need;
  if (batch->slot >= 0) {
    void* moved = malloc(capacity);
    if (moved == nullptr) return false;
    memcpy(moved, batch->data, batch->size);
    FreeSlot(batch->slot);
    batch->slot = -1;
    batch->data = static_cast<uint8_t*>(moved);
  } else {
    void* grown = realloc(batch->data, capacity);
    if (grown == nullptr) return false;
    batch->data = static_cast<uint8_t*>(grown);
  }
  batch->capacity = capacity;
  return true;
}

// Drain thread, per record. The same reading of a header as the JS scan it
// replaces: little-endian fields at the offsets BTF gave (memcpy: unaligned
// loads, one instruction each; a byte-by-byte loop here was a quarter of the
// drain thread's CPU). Returns the record's type id; 0 (no record type) for a
// record without a whole header, or without a header layout.
uint32_t Drain::Summarize(Batch* batch, const uint8_t* record, size_t size) {
  const HeaderLayout& h = options_.header;
  BatchSummary& s = batch->summary;
  s.records++;
  if (h.size == 0) return 0;
  if (size < h.size) {
    s.other++;
    return 0;
  }
  uint32_t type;
  if (h.typeSize == 2) {
    uint16_t t16;
    memcpy(&t16, record + h.typeOffset, 2);
    type = le16toh(t16);
  } else {
    memcpy(&type, record + h.typeOffset, 4);
    type = le32toh(type);
  }
  if (type < h.types) {
    s.counts[type]++;
  } else {
    s.other++;
  }
  uint64_t ts;
  memcpy(&ts, record + h.tsOffset, 8);
  ts = le64toh(ts);
  if (s.stamped == 0 || ts < s.firstTs) s.firstTs = ts;
  if (ts > s.lastTs) s.lastTs = ts;
  s.stamped++;
  return type;
}

// Drain thread, for an exec record at `frame` in the batch: the exec woke us
// (BPF forces a wakeup for exec records when the recorder hashes them), so the
// process has most likely not exited yet. The descriptor names the image the
// process runs when it is opened: the recorder checks it against the inode the
// kernel recorded, since the process may have exec'd again in between.
void Drain::OpenExe(Batch* batch, size_t frame, const uint8_t* record, size_t size) {
  uint32_t pid;
  memcpy(&pid, record + options_.header.pidOffset, 4);
  pid = le32toh(pid);
  uint32_t flags = 0;
  if (options_.openExeSkipMask != 0 && size >= options_.openExeSkipOffset + 4) {
    memcpy(&flags, record + options_.openExeSkipOffset, 4);
    flags = le32toh(flags);
  }
  int32_t fd = -EMFILE;
  if (flags & options_.openExeSkipMask) {
    fd = -EEXIST;  // hashed already: the recorder has its digest
  } else if (batch->exe.size() / 2 < kMaxExePerBatch) {
    char path[32];
    snprintf(path, sizeof(path), "/proc/%u/exe", pid);
    int opened = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    fd = opened >= 0 ? opened : -errno;
  }
  batch->exe.push_back(int32_t(frame));
  batch->exe.push_back(fd);
}

// Any thread: the descriptors of a batch JS never got.
void Drain::CloseExe(Batch* batch) {
  for (size_t i = 1; i < batch->exe.size(); i += 2) {
    if (batch->exe[i] >= 0) close(batch->exe[i]);
  }
  batch->exe.clear();
}

// Any thread.
void Drain::FreeSlot(int slot) {
  std::lock_guard<std::mutex> lock(freeMu_);
  freeSlots_.push_back(slot);
}

// Drain thread. Hands the current batch over; false if the function is closing.
bool Drain::Deliver() {
  Batch* batch = batch_;
  batch_ = nullptr;
  // A batch cut short by the flush timer gives back what it did not use: JS
  // may hold on to the Buffer for a while.
  if (batch->slot < 0 && batch->capacity - batch->size > (batch->capacity >> 1)) {
    if (void* shrunk = realloc(batch->data, batch->size)) {
      batch->data = static_cast<uint8_t*>(shrunk);
      batch->capacity = batch->size;
    }
  }
  napi_status status = tsfn_.BlockingCall(batch);
  if (status != napi_ok) {
    FreeBatch(batch);
    return false;
  }
  return true;
}

// Drain thread. Returns on a ring wakeup since the last wait, a Wake(), or
// the timeout. A wakeup that came while the ring was being consumed is still
// queued (edge-triggered events wait in epoll until reported), so it ends the
// next wait at once: nothing sent before a wakeup waits for the timer.
void Drain::Wait(int timeoutMs) {
  struct epoll_event events[2];
  int n = epoll_wait(epollFd_, events, 2, timeoutMs);
  for (int i = 0; i < n; i++) {
    if (events[i].data.fd == wakeFd_) {
      uint64_t count;
      ssize_t ignored = read(wakeFd_, &count, sizeof(count));
      (void)ignored;
    }
  }
}

// Any thread.
void Drain::Wake() {
  uint64_t one = 1;
  ssize_t ignored = write(wakeFd_, &one, sizeof(one));
  (void)ignored;
}

// Any thread.
void Drain::FreeBatch(Batch* batch) {
  if (batch == nullptr) return;
  CloseExe(batch);
  if (batch->slot >= 0) {
    FreeSlot(batch->slot);
  } else {
    free(batch->data);
  }
  delete batch;
}

}  // namespace exectrace
