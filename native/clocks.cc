// SPDX-License-Identifier: MIT
#include "clocks.h"

#include <time.h>

namespace exectrace {

namespace {
uint64_t Now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}
}  // namespace

// Reads realtime, boot, realtime a few times and keeps the tightest window, so a
// preemption between two reads does not skew the boot → wall-clock offset.
Clocks ReadClocks() {
  Clocks best{};
  best.uncertaintyNs = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    uint64_t before = Now(CLOCK_REALTIME);
    uint64_t boot = Now(CLOCK_BOOTTIME);
    uint64_t mono = Now(CLOCK_MONOTONIC);
    uint64_t after = Now(CLOCK_REALTIME);
    if (after < before) continue;  // realtime stepped back in between: try again
    if (after - before < best.uncertaintyNs) {
      best = Clocks{boot, before + (after - before) / 2, mono, after - before};
    }
  }
  return best;
}

}  // namespace exectrace
