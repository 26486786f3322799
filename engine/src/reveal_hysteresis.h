#pragma once

#include <opencv2/core/mat.hpp>

namespace veil {

// One-sided hysteresis: a pixel is hidden the moment the mask drops it and shown again only after
// `reveal_after` consecutive frames that agree it is the patient. A flickering mask therefore
// flickers towards hiding, never towards showing.
class RevealHysteresis {
 public:
  explicit RevealHysteresis(int reveal_after) : reveal_after_(reveal_after) {}

  // `patient` is CV_8U 0/255 for this frame; returns the pixels that may be shown (CV_8U 0/255).
  // The first frame after a reset starts from its own mask (it was computed on that very frame).
  cv::Mat update(const cv::Mat& patient);
  void reset() { streak_.release(); }

 private:
  int reveal_after_;
  cv::Mat streak_;  // CV_8U consecutive-patient-frame count per pixel, saturating
};

}  // namespace veil
