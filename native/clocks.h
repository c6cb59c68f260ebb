// SPDX-License-Identifier: MIT
//
// The kernel clocks a trace needs to turn bpf_ktime_get_boot_ns() into wall-clock
// time. Node has no CLOCK_BOOTTIME of its own. Any thread.

#ifndef EXECTRACE_NATIVE_CLOCKS_H
#define EXECTRACE_NATIVE_CLOCKS_H

#include <cstdint>

namespace exectrace {

struct Clocks {
  uint64_t bootNs;       // CLOCK_BOOTTIME, the clock of et_header.ts_ns
  uint64_t realtimeNs;   // CLOCK_REALTIME at the same instant (midpoint of two reads)
  uint64_t monotonicNs;  // CLOCK_MONOTONIC (process.hrtime's clock)
  uint64_t uncertaintyNs;  // width of the realtime window around the boot-clock read
};

Clocks ReadClocks();

}  // namespace exectrace

#endif
