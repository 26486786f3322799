#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <span>
#include <vector>

#include "veil/mode.h"

namespace veil {

class Redactor;

// Why a frame is not in the normal state (bit flags, several may be set).
enum RedactionReason : std::uint32_t {
  kReasonNone = 0,
  kReasonModelUnavailable = 1u << 0,
  kReasonInferenceFailed = 1u << 1,
  kReasonDeadlineMissed = 1u << 2,
  kReasonImplausibleMask = 1u << 3,
  kReasonNoPerson = 1u << 4,
  kReasonBadFrame = 1u << 5,
  kReasonCheaperModel = 1u << 6,
  kReasonLastGoodMask = 1u << 7,
  kReasonAvatar = 1u << 8,
  kReasonKeepVisibleActive = 1u << 9,
  kReasonHeadFallback = 1u << 10,   // a face the detector lost: the patient's head region is hidden
  kReasonPoseUncertain = 1u << 11,  // private-regions: the wide torso-to-thigh zone is hidden
};

struct RedactionInfo {
  Mode mode = Mode::kBackground;
  RedactionState state = RedactionState::kFull;
  std::uint32_t reasons = kReasonNone;
  std::uint64_t sequence = 0;  // frame counter of the redactor that made it
  std::int64_t timestamp_us = 0;
};

// The only frame type a sender accepts. Only Redactor can construct one; it owns a deep,
// immutable BGR copy that shares no memory with the capture buffer, so recycling or
// overwriting the source afterwards cannot change what is sent.
class RedactedFrame {
 public:
  int width() const { return width_; }
  int height() const { return height_; }
  // Tightly packed BGR rows (stride = 3 * width).
  std::span<const std::uint8_t> bgrBytes() const { return {pixels_->data(), pixels_->size()}; }
  // A fresh deep copy for previews and tests; editing it cannot affect this frame.
  cv::Mat toMat() const;
  const RedactionInfo& info() const { return info_; }

 private:
  friend class Redactor;
  RedactedFrame(const cv::Mat& redacted_bgr, RedactionInfo info);

  int width_ = 0;
  int height_ = 0;
  std::shared_ptr<const std::vector<std::uint8_t>> pixels_;
  RedactionInfo info_;
};

}  // namespace veil
