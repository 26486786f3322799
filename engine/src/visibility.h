#pragma once

#include <opencv2/core/mat.hpp>

namespace veil {

// Turns the shown region (CV_8U 0/255) into per-pixel alpha (CV_32F, 1 = camera pixel): every
// pixel within `hidden_margin_px` of a hidden pixel is hidden too (the mask's edge is uncertain),
// and the ramp back to full visibility lies entirely inside the shown region, so no pixel outside
// it is ever partly shown.
cv::Mat visibilityAlpha(const cv::Mat& shown, double hidden_margin_px);

}  // namespace veil
