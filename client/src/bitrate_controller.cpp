#include "bitrate_controller.h"

#include <algorithm>

namespace veil::client {

std::optional<int> BitrateController::onReport(double fraction_lost) {
  double next = current_bps_;
  if (fraction_lost > kHeavyLoss) {
    next = current_bps_ * kDecrease;
  } else if (fraction_lost < kCleanLoss) {
    next = current_bps_ * kIncrease;
  }
  const int clamped = std::clamp(static_cast<int>(next), min_bps_, max_bps_);
  if (clamped == current_bps_) return std::nullopt;
  current_bps_ = clamped;
  return clamped;
}

}  // namespace veil::client
