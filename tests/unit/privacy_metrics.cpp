#include "privacy_metrics.h"

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace veil::test {
namespace {

cv::Mat highPass(const cv::Mat& bgr) {
  cv::Mat gray, f, low;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  gray.convertTo(f, CV_32F);
  cv::GaussianBlur(f, low, cv::Size(0, 0), 2.0);
  return f - low;
}

cv::Mat luma(const cv::Mat& bgr) {
  cv::Mat gray, f;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  gray.convertTo(f, CV_32F);
  return f;
}

}  // namespace

int survivingBlocks(const cv::Mat& input_bgr, const cv::Mat& output_bgr,
                    const cv::Mat& protected_region) {
  const cv::Mat in = highPass(input_bgr), out = highPass(output_bgr);
  int surviving = 0;
  for (int y = 0; y + 8 <= in.rows; y += 8) {
    for (int x = 0; x + 8 <= in.cols; x += 8) {
      const cv::Rect block(x, y, 8, 8);
      if (cv::countNonZero(protected_region(block)) != 64) continue;
      cv::Scalar mean_in, sd_in, mean_out, sd_out;
      cv::meanStdDev(in(block), mean_in, sd_in);
      cv::meanStdDev(out(block), mean_out, sd_out);
      // A block whose output high-pass varies by less than a quarter grey level is flat after
      // 8-bit quantisation (what remains is the blur tail of neighbouring shown pixels).
      if (sd_in[0] < 1e-3 || sd_out[0] < 0.25) continue;
      const cv::Mat a = in(block)-mean_in[0], b = out(block) - mean_out[0];
      const double correlation = a.dot(b) / (64.0 * sd_in[0] * sd_out[0]);
      if (correlation > 0.3) ++surviving;
    }
  }
  return surviving;
}

double regionSsim(const cv::Mat& a_bgr, const cv::Mat& b_bgr, const cv::Mat& region) {
  const cv::Mat x = luma(a_bgr), y = luma(b_bgr);
  const double c1 = std::pow(0.01 * 255, 2), c2 = std::pow(0.03 * 255, 2);
  auto blur = [](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(11, 11), 1.5);
    return out;
  };
  const cv::Mat mx = blur(x), my = blur(y);
  const cv::Mat sxx = blur(x.mul(x)) - mx.mul(mx);
  const cv::Mat syy = blur(y.mul(y)) - my.mul(my);
  const cv::Mat sxy = blur(x.mul(y)) - mx.mul(my);
  cv::Mat numerator = (2 * mx.mul(my) + c1).mul(2 * sxy + c2);
  cv::Mat denominator = (mx.mul(mx) + my.mul(my) + c1).mul(sxx + syy + c2);
  cv::Mat ssim;
  cv::divide(numerator, denominator, ssim);
  return cv::mean(ssim, region)[0];
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const double both = cv::countNonZero((a != 0) & (b != 0));
  const double either = cv::countNonZero((a != 0) | (b != 0));
  return either == 0 ? 1.0 : both / either;
}

}  // namespace veil::test
