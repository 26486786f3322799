#pragma once

#include <opencv2/core/mat.hpp>

namespace veil {

// A generated head-and-shoulders silhouette on a plain background: voice-only mode's video. It is
// drawn from constants only, never from a camera frame.
cv::Mat drawAvatar(cv::Size size);

}  // namespace veil
