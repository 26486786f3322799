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

cv::Mat refineToEdges(const cv::Mat& guide_bgr, const cv::Mat& probability) {
  const int radius = std::max(2, guide_bgr.cols / 160);
  constexpr double kEpsilon = 1e-3;
  const cv::Size window(2 * radius + 1, 2 * radius + 1);
  cv::Mat gray, guide;
  cv::cvtColor(guide_bgr, gray, cv::COLOR_BGR2GRAY);
  gray.convertTo(guide, CV_32F, 1.0 / 255.0);
  auto mean = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::boxFilter(m, out, CV_32F, window, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
    return out;
  };
  const cv::Mat mean_guide = mean(guide);
  const cv::Mat mean_prob = mean(probability);
  const cv::Mat var_guide = mean(guide.mul(guide)) - mean_guide.mul(mean_guide);
  const cv::Mat cov = mean(guide.mul(probability)) - mean_guide.mul(mean_prob);
  const cv::Mat a = cov / (var_guide + kEpsilon);
  const cv::Mat b = mean_prob - a.mul(mean_guide);
  cv::Mat refined = mean(a).mul(guide) + mean(b);
  cv::min(refined, 1.0, refined);
  cv::max(refined, 0.0, refined);
  return refined;
}

}  // namespace veil
