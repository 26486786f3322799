#include "reveal_hysteresis.h"

#include <algorithm>
#include <opencv2/core.hpp>

namespace veil {

cv::Mat RevealHysteresis::update(const cv::Mat& patient) {
  const int needed = std::clamp(reveal_after_, 1, 255);
  if (streak_.empty() || streak_.size() != patient.size()) {
    streak_ = cv::Mat::zeros(patient.size(), CV_8U);
    streak_.setTo(needed, patient);
  } else {
    cv::Mat grown;
    cv::add(streak_, 1, grown, patient);  // saturates at 255
    streak_ = cv::Mat::zeros(patient.size(), CV_8U);
    grown.copyTo(streak_, patient);
  }
  cv::Mat visible;
  cv::compare(streak_, needed, visible, cv::CMP_GE);
  return visible;
}

}  // namespace veil
