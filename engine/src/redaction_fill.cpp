#include "redaction_fill.h"

#include <opencv2/core.hpp>

namespace veil {

cv::Mat fullyHiddenFrame(cv::Size size) {
  return cv::Mat(size, CV_8UC3, kHiddenFillBgr);
}

cv::Mat composeVisible(const cv::Mat& frame_bgr, const cv::Mat& alpha) {
  CV_Assert(frame_bgr.type() == CV_8UC3 && alpha.type() == CV_32FC1 &&
            alpha.size() == frame_bgr.size());
  cv::Mat out = fullyHiddenFrame(frame_bgr.size());
  const float fill[3] = {static_cast<float>(kHiddenFillBgr[0]),
                         static_cast<float>(kHiddenFillBgr[1]),
                         static_cast<float>(kHiddenFillBgr[2])};
  for (int y = 0; y < out.rows; ++y) {
    const float* a = alpha.ptr<float>(y);
    const cv::Vec3b* src = frame_bgr.ptr<cv::Vec3b>(y);
    cv::Vec3b* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x) {
      if (a[x] <= 0.f) continue;
      if (a[x] >= 1.f) {
        dst[x] = src[x];
        continue;
      }
      for (int c = 0; c < 3; ++c) {
        dst[x][c] = cv::saturate_cast<uchar>(a[x] * src[x][c] + (1.f - a[x]) * fill[c]);
      }
    }
  }
  return out;
}

}  // namespace veil
