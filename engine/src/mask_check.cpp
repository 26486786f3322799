#include "mask_check.h"

#include <opencv2/core.hpp>

#include "veil/redacted_frame.h"

namespace veil {

std::uint32_t checkProbabilityMask(const cv::Mat& probability, cv::Size frame_size) {
  if (probability.empty() || probability.type() != CV_32FC1 || probability.size() != frame_size) {
    return kReasonImplausibleMask;
  }
  constexpr double kTolerance = 1e-3;
  if (!cv::checkRange(probability, true, nullptr, -kTolerance, 1.0 + kTolerance)) {
    return kReasonImplausibleMask;  // NaN, infinity or out of range
  }
  // Low confidence: more undecided pixels than confident person pixels means the model does not
  // know where the person is; showing its guess would be a gamble.
  const double undecided = cv::countNonZero((probability > 0.2) & (probability < 0.8));
  const double confident = cv::countNonZero(probability >= 0.8);
  if (undecided > confident && undecided > 0.01 * probability.total()) {
    return kReasonImplausibleMask;
  }
  return kReasonNone;
}

}  // namespace veil
