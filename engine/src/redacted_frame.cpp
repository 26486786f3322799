#include "veil/redacted_frame.h"

#include <cstring>
#include <stdexcept>

namespace veil {

RedactedFrame::RedactedFrame(const cv::Mat& redacted_bgr, RedactionInfo info)
    : width_(redacted_bgr.cols), height_(redacted_bgr.rows), info_(info) {
  if (redacted_bgr.type() != CV_8UC3) throw std::logic_error("RedactedFrame needs BGR 8-bit");
  // A fresh allocation, row by row: shares nothing with the source, whatever its stride.
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(static_cast<std::size_t>(width_) *
                                                           static_cast<std::size_t>(height_) * 3);
  const std::size_t row_bytes = static_cast<std::size_t>(width_) * 3;
  for (int y = 0; y < height_; ++y) {
    std::memcpy(bytes->data() + static_cast<std::size_t>(y) * row_bytes, redacted_bgr.ptr(y),
                row_bytes);
  }
  pixels_ = std::move(bytes);
}

cv::Mat RedactedFrame::toMat() const {
  const cv::Mat view(height_, width_, CV_8UC3, const_cast<std::uint8_t*>(pixels_->data()));
  return view.clone();
}

}  // namespace veil
