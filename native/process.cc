// SPDX-License-Identifier: MIT
//
// The recorded command and the output file, where Node's own APIs fall short:
//  - spawn(file, argv): Node's child_process takes strings, so an argument that is
//    not UTF-8 would reach the program changed; here every argument is the bytes
//    given. posix_spawn, with every signal back to its default and an empty mask
//    (Node ignores SIGPIPE, which a pipeline's program must not inherit), the
//    process's environment, and stdin/stdout/stderr inherited, in blocking mode.
//  - wait(pid): the status of that child, on a worker thread, as a promise.
//  - lockFile(fd): a write lock on the whole file (fcntl, so another recorder
//    sees it and the kernel drops it when this process dies), and who holds it.
//  - readerGone(fd): whether the reader of a pipe has gone away, without writing.
// Main thread, but for wait's worker.

#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace exectrace {
namespace {

// A Buffer's bytes as a NUL-terminated string; a NUL inside cannot be passed to exec.
std::string Bytes(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsBuffer()) throw Napi::TypeError::New(env, std::string(what) + ": expected a Buffer");
  auto buf = value.As<Napi::Buffer<char>>();
  std::string s(buf.Data(), buf.Length());
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, std::string(what) + ": contains a NUL byte");
  return s;
}

// spawn(file: Buffer, argv: Buffer[]) → pid; throws an Error with .errno when
// the program cannot be run (posix_spawn reports the exec's own error).
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = Bytes(env, info[0], "spawn: file");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "spawn: argv: expected an array of Buffers");
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < list.Length(); i++) args.push_back(Bytes(env, list.Get(i), "spawn: argv element"));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Node marks the stdio it opened close-on-exec and a pipe or tty non-blocking: the child
  // would find its stdout closed, or fail its writes with EAGAIN. dup2 of an fd onto itself
  // in the child clears its close-on-exec; O_NONBLOCK belongs to the open file, shared with
  // the child, so it is cleared here, as Node's own spawn does in its child (Node's writes
  // handle either mode).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) continue;  // closed: the child has it closed too
    if (fl & O_NONBLOCK) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    posix_spawn_file_actions_adddup2(&actions, fd, fd);
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int err = posix_spawn(&pid, file.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    Napi::Error e = Napi::Error::New(env, strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    throw e;
  }
  return Napi::Number::New(env, pid);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    for (;;) {
      pid_t r = waitpid(pid_, &status_, 0);
      if (r == pid_) return;
      if (r < 0 && errno == EINTR) continue;
      SetError(std::string("waitpid ") + std::to_string(pid_) + ": " + strerror(errno));
      return;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object out = Napi::Object::New(env);
    if (WIFEXITED(status_)) {
      out.Set("code", Napi::Number::New(env, WEXITSTATUS(status_)));
      out.Set("signal", env.Null());
      out.Set("core", Napi::Boolean::New(env, false));
    } else {
      out.Set("code", env.Null());
      out.Set("signal", Napi::Number::New(env, WTERMSIG(status_)));
      out.Set("core", Napi::Boolean::New(env, WCOREDUMP(status_)));
    }
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  pid_t pid_;
  int status_ = 0;
  Napi::Promise::Deferred deferred_;
};

// wait(pid) → Promise<{ code, signal, core }>: code for a normal exit, else the signal's number.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "wait: pid: expected a number");
  auto* w = new WaitWorker(env, pid_t(info[0].As<Napi::Number>().Int32Value()));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// lockFile(fd) → 0 when this process now holds a write lock on the whole file, else
// the pid of a process holding a lock on it (-1 when the holder cannot be told).
// Throws for other errors.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "lockFile: fd: expected a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_SETLK, &fl) == 0) return Napi::Number::New(env, 0);
  if (errno != EACCES && errno != EAGAIN) throw Napi::Error::New(env, std::string("lock: ") + strerror(errno));
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) return Napi::Number::New(env, fl.l_pid);
  return Napi::Number::New(env, -1);
}

// readerGone(fd) → true when fd is a pipe or socket whose reader has gone away (poll says
// POLLERR or POLLHUP): a live view that writes nothing for a while learns it without a write.
Napi::Value ReaderGone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "readerGone: fd: expected a number");
  struct pollfd p = {info[0].As<Napi::Number>().Int32Value(), POLLOUT, 0};
  int n = poll(&p, 1, 0);
  return Napi::Boolean::New(env, n == 1 && (p.revents & (POLLERR | POLLHUP)) != 0);
}

}  // namespace

void RegisterProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New<Spawn>(env, "spawn"));
  exports.Set("wait", Napi::Function::New<Wait>(env, "wait"));
  exports.Set("lockFile", Napi::Function::New<LockFile>(env, "lockFile"));
  exports.Set("readerGone", Napi::Function::New<ReaderGone>(env, "readerGone"));
}

}  // namespace exectrace
