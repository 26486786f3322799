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
  // Fast guided filter: the linear coefficients are smooth, so they are fitted on a frame scaled
  // to ~320 px wide and applied to the full-resolution guide.
  const double scale = std::min(1.0, 320.0 / guide_bgr.cols);
  const cv::Size small_size(std::max(1, static_cast<int>(guide_bgr.cols * scale)),
                            std::max(1, static_cast<int>(guide_bgr.rows * scale)));
  constexpr int kRadius = 2;  // at ~320 px wide: about 1/64 of the frame width
  constexpr double kEpsilon = 1e-3;
  const cv::Size window(2 * kRadius + 1, 2 * kRadius + 1);
  cv::Mat gray, guide;
  cv::cvtColor(guide_bgr, gray, cv::COLOR_BGR2GRAY);
  gray.convertTo(guide, CV_32F, 1.0 / 255.0);
  cv::Mat small_guide, small_prob;
  cv::resize(guide, small_guide, small_size, 0, 0, cv::INTER_AREA);
  cv::resize(probability, small_prob, small_size, 0, 0, cv::INTER_AREA);
  auto mean = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::boxFilter(m, out, CV_32F, window, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
    return out;
  };
  const cv::Mat mean_guide = mean(small_guide);
  const cv::Mat mean_prob = mean(small_prob);
  const cv::Mat var_guide = mean(small_guide.mul(small_guide)) - mean_guide.mul(mean_guide);
  const cv::Mat cov = mean(small_guide.mul(small_prob)) - mean_guide.mul(mean_prob);
  const cv::Mat a = cov / (var_guide + kEpsilon);
  const cv::Mat b = mean_prob - a.mul(mean_guide);
  cv::Mat mean_a, mean_b;
  cv::resize(mean(a), mean_a, guide.size(), 0, 0, cv::INTER_LINEAR);
  cv::resize(mean(b), mean_b, guide.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat refined = mean_a.mul(guide) + mean_b;
  cv::min(refined, 1.0, refined);
  cv::max(refined, 0.0, refined);
  return refined;
}

}  // namespace veil
