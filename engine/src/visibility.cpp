#include "visibility.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace veil {

cv::Mat visibilityAlpha(const cv::Mat& shown, double hidden_margin_px) {
  cv::Mat distance;  // to the nearest hidden pixel
  cv::distanceTransform(shown, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  const double feather = std::max(1.0, hidden_margin_px / 2.0);
  cv::Mat alpha;
  distance.convertTo(alpha, CV_32F, 1.0 / feather, -hidden_margin_px / feather);
  cv::min(alpha, 1.0, alpha);
  cv::max(alpha, 0.0, alpha);
  return alpha;
}

}  // namespace veil
