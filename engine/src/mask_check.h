#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>

namespace veil {

// Returns kReasonNone when `probability` is a usable person-probability map for a frame of
// `frame_size` (CV_32FC1, that size, finite, within [0,1], not dominated by uncertain values),
// else the RedactionReason to report (kReasonImplausibleMask).
std::uint32_t checkProbabilityMask(const cv::Mat& probability, cv::Size frame_size);

}  // namespace veil
