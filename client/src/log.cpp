#include "log.h"

#include <cstdio>
#include <mutex>

namespace veil::client {

void logLine(const std::string& line) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  std::fprintf(stderr, "veil-patient: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace veil::client
