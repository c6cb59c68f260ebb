// SPDX-License-Identifier: MIT
//
// Loader: one BPF object from open to close, over libbpf. Native types only;
// binding.cc turns BpfError into a JS Error.
//
// open → configure (ring size, .rodata image) → load → attach, and one
// cleanup path (Close) that frees in reverse order: links, then the object.
// Every method runs on the JS main thread.

#ifndef EXECTRACE_NATIVE_LOADER_H
#define EXECTRACE_NATIVE_LOADER_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct bpf_object;
struct bpf_link;
struct bpf_map;
struct bpf_program;

namespace exectrace {

// A failure with short lowercase context: "load bpf object: Operation not permitted".
class BpfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Routes libbpf's warnings into a small in-memory tail (appended to load and
// attach errors) instead of stderr; info and debug are dropped, unless
// EXECTRACE_LIBBPF_DEBUG=1 also sends everything to stderr. Idempotent;
// process-wide (libbpf has one print callback per process).
void InstallLibbpfLog();

// "Operation not permitted" for -EPERM or EPERM; knows libbpf's own codes.
std::string ErrorText(int err);

struct LoadOptions {
  std::string object;              // path to the .bpf.o
  const uint8_t* rodata = nullptr; // full .rodata image, or null for the object's defaults
  size_t rodataSize = 0;
  uint32_t ringBytes = 0;          // max_entries of `events`; 0 keeps the object's value
  // Programs not to load (autoload off): neither loaded nor attached.
  std::vector<std::string> disable;
  // max_entries overrides, applied before load (`events` is ringBytes' job).
  std::vector<std::pair<std::string, uint32_t>> maxEntries;
};

// What MapDump returns: count entries, keys and values each packed back to back.
struct MapEntries {
  std::vector<uint8_t> keys;
  std::vector<uint8_t> values;
  size_t count = 0;
  size_t keySize = 0;
  size_t valueSize = 0;
};

// WaitForPrograms returns once every BPF program that was running anywhere when
// it was called has returned: an RCU grace period, which membarrier's
// MEMBARRIER_CMD_GLOBAL waits for with synchronize_rcu(), and tracepoint
// programs run inside an RCU read-side section. A few milliseconds; main thread
// (any thread would do). False when the kernel refuses (no CONFIG_MEMBARRIER,
// or nohz_full CPUs).
bool WaitForPrograms();

class Loader {
 public:
  // Main thread. Opens, configures and loads; throws BpfError with nothing left allocated.
  explicit Loader(const LoadOptions& options);
  // Main thread. Same as Close().
  ~Loader();

  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Main thread. Attaches every autoload+autoattach program from its SEC().
  // On failure, detaches what this call attached and throws "attach <prog>: ...".
  void Attach();
  // Main thread. Destroys the links, newest first, keeping the object and its maps: no
  // program runs after it returns (a tracepoint link's release waits for the programs
  // running on it), so a drain that follows sees every record the counters count.
  void Detach();

  // Main thread. Destroys links (newest first), then the object. Idempotent.
  void Close();

  bool Closed() const { return obj_ == nullptr; }

  // Main thread. Fd of the map `name`; throws if the object has none.
  int MapFd(const char* name) const;

  // Main thread. Size of the buffer ReadPerCpu fills: max_entries * nrCpus * value_size.
  size_t PerCpuSize(const char* name) const;

  // Main thread. Reads every key of the per-CPU map `name` into out, laid out
  // [key][cpu][value_size bytes]. out must hold PerCpuSize(name) bytes.
  void ReadPerCpu(const char* name, uint8_t* out, size_t outSize) const;

  // Main thread. Writes one entry (BPF_ANY) of the hash or array map `name`;
  // key and value must have the map's key and value sizes.
  void MapUpdate(const char* name, const uint8_t* key, size_t keySize, const uint8_t* value, size_t valueSize) const;

  // Main thread. Deletes one entry of the hash map `name`; false if it had no
  // such key. key must have the map's key size.
  bool MapDelete(const char* name, const uint8_t* key, size_t keySize) const;

  // Main thread. Every entry of the (non-per-CPU) hash or array map `name`,
  // found with bpf_map_get_next_key and read with a lookup. Programs may be
  // changing the map meanwhile: an entry deleted between the two calls is
  // skipped, and no key is returned twice.
  MapEntries MapDump(const char* name) const;

  // Main thread. The values of the task-storage map `name` for the threads
  // `tids` (each looked up through a pidfd of the thread: the map has no keys
  // to walk). Threads without a value, or gone by now, are left out; keys are
  // the tids found, as u32. Thread pidfds need Linux 6.9 (PIDFD_THREAD);
  // before that only thread-group leaders can be looked up.
  MapEntries TaskStorageLookup(const char* name, const std::vector<uint32_t>& tids) const;

  // Main thread. Runs the iterator program `name` (SEC("iter/...")) once and returns
  // everything it wrote. Attach() leaves iterator programs alone.
  std::vector<uint8_t> RunIter(const char* name) const;

  // libbpf_num_possible_cpus(), fetched once at load.
  int NrCpus() const { return nrCpus_; }

 private:
  ::bpf_map* FindMap(const char* name) const;
  static bool IsIter(const ::bpf_program* prog);

  bpf_object* obj_ = nullptr;
  std::vector<bpf_link*> links_;
  int nrCpus_ = 0;
};

}  // namespace exectrace

#endif
