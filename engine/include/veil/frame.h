#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>

namespace veil {

// A raw, unredacted camera frame (BGR, 8 bit). Raw pixels live only in capture code and inside
// the engine; nothing that sends data can accept this type (see RedactedFrame).
class Frame {
 public:
  Frame(cv::Mat bgr, std::int64_t timestamp_us)
      : bgr_(std::move(bgr)), timestamp_us_(timestamp_us) {}

  const cv::Mat& bgr() const { return bgr_; }
  std::int64_t timestampUs() const { return timestamp_us_; }

 private:
  cv::Mat bgr_;
  std::int64_t timestamp_us_;
};

}  // namespace veil
