#pragma once

#include <opencv2/core/mat.hpp>

namespace veil {

// The one fill hidden pixels get: a fixed flat colour that depends on nothing in the frame, so a
// hidden region carries no detail at all (design.md §5: flat fill, nothing to recover over time).
inline const cv::Scalar kHiddenFillBgr{92, 84, 78};

// A frame of the given size that is hidden everywhere (fail closed).
cv::Mat fullyHiddenFrame(cv::Size size);

// out = frame where alpha == 1, the fill where alpha == 0, blended in between. `alpha` is CV_32F
// in [0,1] at the frame's size; it is the only way camera pixels reach the output.
cv::Mat composeVisible(const cv::Mat& frame_bgr, const cv::Mat& alpha);

}  // namespace veil
