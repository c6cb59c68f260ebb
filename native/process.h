// SPDX-License-Identifier: MIT
//
// spawn, wait, lockFile and readerGone: the recorded command and the output file's lock (process.cc).

#ifndef EXECTRACE_NATIVE_PROCESS_H
#define EXECTRACE_NATIVE_PROCESS_H

#include <napi.h>

namespace exectrace {

void RegisterProcess(Napi::Env env, Napi::Object exports);

}  // namespace exectrace

#endif
