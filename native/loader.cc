// SPDX-License-Identifier: MIT
#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_set>

namespace exectrace {

namespace {

// libbpf's warnings, last lines only. libbpf has no error level: a failed load
// is a few pr_warn lines, one of which carries the whole verifier log.
constexpr size_t kLogKeep = 64;
constexpr size_t kVerifierTail = 5;

std::mutex logMutex;
std::deque<std::string> logLines;

// EXECTRACE_LIBBPF_DEBUG=1 sends all of libbpf's output to stderr as well.
bool debugToStderr = false;

// Any thread (libbpf calls it from whichever thread hit the problem).
int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (debugToStderr) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, format, copy);
    va_end(copy);
  }
  if (level != LIBBPF_WARN) return 0;  // info and debug stay quiet
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string text(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(n));

  std::lock_guard<std::mutex> lock(logMutex);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) logLines.emplace_back(text, start, end - start);
    if (logLines.size() > kLogKeep) logLines.pop_front();
    start = end + 1;
  }
  return 0;
}

void ClearLog() {
  std::lock_guard<std::mutex> lock(logMutex);
  logLines.clear();
}

bool Contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// What to append to an error so the user sees why: for a verifier rejection,
// the line naming the program and the last lines of the verifier log; else the
// last libbpf warning that says more than "failed to load object".
std::string LogTail() {
  std::lock_guard<std::mutex> lock(logMutex);
  std::vector<std::string> pick;
  size_t end = logLines.size();
  for (size_t i = logLines.size(); i-- > 0;) {
    if (Contains(logLines[i], "-- END PROG LOAD LOG --")) {
      end = i;
      break;
    }
  }
  if (end < logLines.size()) {
    size_t begin = end;
    while (begin > 0 && !Contains(logLines[begin - 1], "-- BEGIN PROG LOAD LOG --")) begin--;
    if (begin > 0) {
      for (size_t i = begin - 1; i-- > 0;) {
        if (Contains(logLines[i], "BPF program load failed")) {
          pick.push_back(logLines[i]);
          break;
        }
      }
    }
    size_t from = end - begin > kVerifierTail ? end - kVerifierTail : begin;
    for (size_t i = from; i < end; i++) pick.push_back(logLines[i]);
  } else {
    for (size_t i = logLines.size(); i-- > 0;) {
      const std::string& line = logLines[i];
      if (Contains(line, "failed to load object") || Contains(line, "failed to load: ")) continue;
      pick.push_back(line);
      break;
    }
  }
  std::string out;
  for (const std::string& line : pick) {
    out += "\n  ";
    out += line.rfind("libbpf: ", 0) == 0 ? line.substr(8) : line;
  }
  return out;
}

// libbpf 1.x returns -errno and also sets errno; NULL-returning calls only set errno.
int Err(int ret) { return ret < 0 ? ret : -errno; }

[[noreturn]] void Fail(const std::string& context, int err, bool withLog = false) {
  std::string message = context + ": " + ErrorText(err);
  if (withLog) message += LogTail();
  throw BpfError(message);
}

bool EndsWith(const char* s, const char* suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool IsPerCpu(enum bpf_map_type type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

// The plain key → value maps whose entries userspace reads and writes whole.
bool IsHashOrArray(enum bpf_map_type type) {
  return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_ARRAY;
}

std::string Bytes(size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

std::string ProgramNames(bpf_object* obj) {
  std::string names;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    if (!names.empty()) names += ", ";
    names += bpf_program__name(prog);
  }
  return names.empty() ? "none" : names;
}

}  // namespace

void InstallLibbpfLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* debug = getenv("EXECTRACE_LIBBPF_DEBUG");
    debugToStderr = debug != nullptr && debug[0] != '\0' && strcmp(debug, "0") != 0;
    libbpf_set_print(LibbpfPrint);
  });
}

std::string ErrorText(int err) {
  char buf[128] = "";
  libbpf_strerror(err < 0 ? -err : err, buf, sizeof(buf));  // "Unknown libbpf error N" for the unknown
  return buf;
}

Loader::Loader(const LoadOptions& options) {
  ClearLog();
  try {
    obj_ = bpf_object__open_file(options.object.c_str(), nullptr);
    if (obj_ == nullptr) Fail("open bpf object " + options.object, Err(0));

    if (options.ringBytes != 0) {
      struct bpf_map* events = FindMap("events");
      int err = bpf_map__set_max_entries(events, options.ringBytes);
      if (err) Fail("resize map events to " + std::to_string(options.ringBytes) + " bytes", Err(err));
    }

    for (const auto& [name, entries] : options.maxEntries) {
      struct bpf_map* map = FindMap(name.c_str());
      int err = bpf_map__set_max_entries(map, entries);
      if (err) Fail("resize map " + name + " to " + std::to_string(entries) + " entries", Err(err));
    }

    for (const std::string& name : options.disable) {
      struct bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
      if (prog == nullptr) {
        throw BpfError("disable: object has no program '" + name + "' (programs: " + ProgramNames(obj_) + ")");
      }
      int err = bpf_program__set_autoload(prog, false);
      if (err) Fail("disable program " + name, Err(err));
    }

    if (options.rodata != nullptr) {
      struct bpf_map* rodata = nullptr;
      struct bpf_map* map;
      bpf_object__for_each_map(map, obj_) {
        if (EndsWith(bpf_map__name(map), ".rodata")) rodata = map;
      }
      if (rodata == nullptr) throw BpfError("rodata: object " + options.object + " has no .rodata map");
      size_t size = 0;
      if (bpf_map__initial_value(rodata, &size) == nullptr) {
        throw BpfError("rodata: no initial image for map " + std::string(bpf_map__name(rodata)));
      }
      if (options.rodataSize != size) {
        throw BpfError("rodata: image is " + std::to_string(options.rodataSize) + " bytes, the object's .rodata is " +
                       std::to_string(size) + " bytes");
      }
      int err = bpf_map__set_initial_value(rodata, options.rodata, size);
      if (err) Fail("rodata: set initial value", Err(err));
    }

    // RLIMIT_MEMLOCK: libbpf 1.x bumps it only where the kernel lacks memcg
    // accounting, and a failed bump is a warning that lands in our log, not an error.
    // The verifier gives up with EAGAIN when a signal is pending for the loading thread
    // (a profiler's SIGPROF, a SIGCHLD): hold them until the programs are in, then let
    // them through.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = bpf_object__load(obj_);
    int loadErrno = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = loadErrno;
    if (err) Fail("load bpf object", Err(err), true);

    nrCpus_ = libbpf_num_possible_cpus();
    if (nrCpus_ <= 0) Fail("count possible cpus", nrCpus_ < 0 ? nrCpus_ : -EINVAL);
  } catch (...) {
    Close();
    throw;
  }
}

Loader::~Loader() { Close(); }

void Loader::Attach() {
  if (obj_ == nullptr) throw BpfError("attach: tracer is closed");
  if (!links_.empty()) throw BpfError("attach: already attached");
  ClearLog();
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj_) {
    if (!bpf_program__autoload(prog) || !bpf_program__autoattach(prog)) continue;
    if (IsIter(prog)) continue;  // run on demand by RunIter, never left attached
    struct bpf_link* link = bpf_program__attach(prog);
    if (link == nullptr) {
      int err = Err(0);
      std::string context = std::string("attach ") + bpf_program__name(prog);
      for (auto it = links_.rbegin(); it != links_.rend(); ++it) bpf_link__destroy(*it);
      links_.clear();
      Fail(context, err, true);
    }
    links_.push_back(link);
  }
}

bool Loader::IsIter(const struct bpf_program* prog) {
  return bpf_program__type(prog) == BPF_PROG_TYPE_TRACING &&
         bpf_program__expected_attach_type(prog) == BPF_TRACE_ITER;
}

std::vector<uint8_t> Loader::RunIter(const char* name) const {
  if (obj_ == nullptr) throw BpfError(std::string("iter ") + name + ": tracer is closed");
  struct bpf_program* prog = bpf_object__find_program_by_name(obj_, name);
  if (prog == nullptr || !IsIter(prog)) throw BpfError(std::string("object has no iterator program '") + name + "'");
  struct bpf_link* link = bpf_program__attach_iter(prog, nullptr);
  if (link == nullptr) Fail(std::string("attach iterator ") + name, Err(0));
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) {
    int err = -errno;
    bpf_link__destroy(link);
    Fail(std::string("create iterator ") + name, err);
  }
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = -errno;
      close(fd);
      bpf_link__destroy(link);
      Fail(std::string("read iterator ") + name, err);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  close(fd);
  bpf_link__destroy(link);
  return out;
}

void Loader::Detach() {
  for (auto it = links_.rbegin(); it != links_.rend(); ++it) bpf_link__destroy(*it);
  links_.clear();
}

void Loader::Close() {
  Detach();
  if (obj_ != nullptr) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
}

struct bpf_map* Loader::FindMap(const char* name) const {
  if (obj_ == nullptr) throw BpfError(std::string("map ") + name + ": tracer is closed");
  struct bpf_map* map = bpf_object__find_map_by_name(obj_, name);
  if (map == nullptr) throw BpfError(std::string("object has no map '") + name + "'");
  return map;
}

int Loader::MapFd(const char* name) const {
  int fd = bpf_map__fd(FindMap(name));
  if (fd < 0) Fail(std::string("map ") + name, fd);
  return fd;
}

size_t Loader::PerCpuSize(const char* name) const {
  struct bpf_map* map = FindMap(name);
  return size_t(bpf_map__max_entries(map)) * size_t(nrCpus_) * bpf_map__value_size(map);
}

void Loader::ReadPerCpu(const char* name, uint8_t* out, size_t outSize) const {
  struct bpf_map* map = FindMap(name);
  if (bpf_map__type(map) != BPF_MAP_TYPE_PERCPU_ARRAY) {
    throw BpfError(std::string("read map ") + name + ": not a per-cpu array");
  }
  const uint32_t entries = bpf_map__max_entries(map);
  const size_t valueSize = bpf_map__value_size(map);
  const size_t cpus = size_t(nrCpus_);
  if (outSize != entries * cpus * valueSize) throw BpfError(std::string("read map ") + name + ": wrong buffer size");
  // The kernel copies each CPU's value into an 8-byte aligned slot.
  const size_t stride = (valueSize + 7) & ~size_t(7);
  const int fd = bpf_map__fd(map);
  auto place = [&](uint32_t key, const uint8_t* slots) {
    uint8_t* dst = out + size_t(key) * cpus * valueSize;
    for (size_t cpu = 0; cpu < cpus; cpu++) memcpy(dst + cpu * valueSize, slots + cpu * stride, valueSize);
  };

  // The whole array in one syscall (kernel 5.6+): a few hundred keys would
  // otherwise be a few hundred syscalls per poll.
  std::vector<uint32_t> keys(entries);
  std::vector<uint8_t> slots(size_t(entries) * cpus * stride);
  uint32_t count = entries;
  uint32_t next = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  int err = entries ? bpf_map_lookup_batch(fd, nullptr, &next, keys.data(), slots.data(), &count, &opts) : 0;
  if ((err == 0 || Err(err) == -ENOENT) && count == entries) {
    for (uint32_t i = 0; i < count; i++) {
      if (keys[i] >= entries) throw BpfError(std::string("read map ") + name + ": batch returned key " + std::to_string(keys[i]));
      place(keys[i], slots.data() + size_t(i) * cpus * stride);
    }
    return;
  }

  // One key at a time.
  for (uint32_t key = 0; key < entries; key++) {
    err = bpf_map_lookup_elem(fd, &key, slots.data());
    if (err) Fail(std::string("read map ") + name + " key " + std::to_string(key), Err(err));
    place(key, slots.data());
  }
}

void Loader::MapUpdate(const char* name, const uint8_t* key, size_t keySize, const uint8_t* value,
                       size_t valueSize) const {
  struct bpf_map* map = FindMap(name);
  const std::string context = std::string("update map ") + name;
  if (!IsHashOrArray(bpf_map__type(map))) throw BpfError(context + ": not a hash or array map");
  if (keySize != bpf_map__key_size(map)) {
    throw BpfError(context + ": key is " + Bytes(keySize) + ", the map's key is " + Bytes(bpf_map__key_size(map)));
  }
  if (valueSize != bpf_map__value_size(map)) {
    throw BpfError(context + ": value is " + Bytes(valueSize) + ", the map's value is " +
                   Bytes(bpf_map__value_size(map)));
  }
  int err = bpf_map_update_elem(bpf_map__fd(map), key, value, BPF_ANY);
  if (err) Fail(context, Err(err));
}

bool Loader::MapDelete(const char* name, const uint8_t* key, size_t keySize) const {
  struct bpf_map* map = FindMap(name);
  const std::string context = std::string("delete from map ") + name;
  if (bpf_map__type(map) != BPF_MAP_TYPE_HASH && bpf_map__type(map) != BPF_MAP_TYPE_LRU_HASH) {
    throw BpfError(context + ": not a hash map");
  }
  if (keySize != bpf_map__key_size(map)) {
    throw BpfError(context + ": key is " + Bytes(keySize) + ", the map's key is " + Bytes(bpf_map__key_size(map)));
  }
  int err = bpf_map_delete_elem(bpf_map__fd(map), key);
  if (err && Err(err) == -ENOENT) return false;
  if (err) Fail(context, Err(err));
  return true;
}

MapEntries Loader::MapDump(const char* name) const {
  struct bpf_map* map = FindMap(name);
  const std::string context = std::string("dump map ") + name;
  if (!IsHashOrArray(bpf_map__type(map))) {
    throw BpfError(context + (IsPerCpu(bpf_map__type(map)) ? ": a per-cpu map" : ": not a hash or array map"));
  }
  MapEntries out;
  out.keySize = bpf_map__key_size(map);
  out.valueSize = bpf_map__value_size(map);
  const int fd = bpf_map__fd(map);
  std::vector<uint8_t> cur(out.keySize), next(out.keySize), value(out.valueSize);
  std::unordered_set<std::string> seen;
  // get_next_key on a key deleted meanwhile starts over from the first key:
  // `seen` drops the repeats, and the budget bounds the restarts.
  size_t budget = size_t(bpf_map__max_entries(map)) * 4 + 64;
  bool first = true;
  while (budget-- > 0) {
    int err = bpf_map_get_next_key(fd, first ? nullptr : cur.data(), next.data());
    if (err) {
      if (Err(err) == -ENOENT) break;  // past the last key
      Fail(context, Err(err));
    }
    first = false;
    cur.swap(next);
    if (!seen.emplace(reinterpret_cast<const char*>(cur.data()), cur.size()).second) continue;
    err = bpf_map_lookup_elem(fd, cur.data(), value.data());
    if (err) {
      if (Err(err) == -ENOENT) continue;  // deleted since get_next_key
      Fail(context, Err(err));
    }
    out.keys.insert(out.keys.end(), cur.begin(), cur.end());
    out.values.insert(out.values.end(), value.begin(), value.end());
    out.count++;
  }
  return out;
}

bool WaitForPrograms() {
#ifdef SYS_membarrier
  constexpr int kMembarrierCmdGlobal = 1;  // MEMBARRIER_CMD_GLOBAL (linux/membarrier.h)
  return syscall(SYS_membarrier, kMembarrierCmdGlobal, 0, 0) == 0;
#else
  return false;
#endif
}

// pidfd_open(2) of one thread: PIDFD_THREAD (O_EXCL, Linux 6.9) for any
// thread; without it (EINVAL on older kernels) only a leader has a pidfd.
static int ThreadPidfd(uint32_t tid) {
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
  static bool noThreadFlag = false;
  if (!noThreadFlag) {
    int fd = int(syscall(SYS_pidfd_open, pid_t(tid), O_EXCL));
    if (fd >= 0 || errno != EINVAL) return fd;
    noThreadFlag = true;
  }
  return int(syscall(SYS_pidfd_open, pid_t(tid), 0));
}

MapEntries Loader::TaskStorageLookup(const char* name, const std::vector<uint32_t>& tids) const {
  struct bpf_map* map = FindMap(name);
  const std::string context = std::string("look up map ") + name;
  if (bpf_map__type(map) != BPF_MAP_TYPE_TASK_STORAGE) throw BpfError(context + ": not a task-storage map");
  MapEntries out;
  out.keySize = sizeof(uint32_t);
  out.valueSize = bpf_map__value_size(map);
  const int fd = bpf_map__fd(map);
  std::vector<uint8_t> value(out.valueSize);
  for (uint32_t tid : tids) {
    int pidfd = ThreadPidfd(tid);
    if (pidfd < 0) continue;  // exited since it was listed (or a non-leader before 6.9)
    int err = bpf_map_lookup_elem(fd, &pidfd, value.data());
    const int saved = errno;
    close(pidfd);
    if (err) {
      if (saved == ENOENT || saved == ESRCH) continue;  // no value, or exited meanwhile
      Fail(context + " for thread " + std::to_string(tid), -saved);
    }
    const uint8_t* key = reinterpret_cast<const uint8_t*>(&tid);
    out.keys.insert(out.keys.end(), key, key + sizeof(tid));
    out.values.insert(out.values.end(), value.begin(), value.end());
    out.count++;
  }
  return out;
}

}  // namespace exectrace
