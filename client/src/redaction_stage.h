#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "veil/frame.h"
#include "veil/redacted_frame.h"
#include "veil/redactor.h"

namespace veil::client {

// The single place where the client calls the engine. The capture thread and the avatar timer
// both come through here, and the mutex serialises them because a Redactor keeps temporal state
// and is not thread-safe.
class RedactionStage {
 public:
  explicit RedactionStage(RedactorOptions options) : redactor_(std::move(options)) {}

  RedactedFrame redact(const Frame& frame) {
    const std::lock_guard lock(mutex_);
    return redactor_.redact(frame);
  }
  RedactedFrame avatar(int width, int height, std::int64_t timestamp_us) {
    const std::lock_guard lock(mutex_);
    return redactor_.avatar(width, height, timestamp_us);
  }
  void setMode(Mode mode) {
    const std::lock_guard lock(mutex_);
    redactor_.setMode(mode);
  }
  Mode mode() const {
    const std::lock_guard lock(mutex_);
    return redactor_.mode();
  }
  std::string modelError() const {
    const std::lock_guard lock(mutex_);
    return redactor_.modelError();
  }

 private:
  mutable std::mutex mutex_;
  Redactor redactor_;
};

}  // namespace veil::client
