#pragma once

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <thread>

#include "test_support.h"
#include "veil/person_segmenter.h"
#include "veil/redactor.h"

namespace veil::test {

enum class Fault { kNone, kThrow, kSlow, kNan, kEmpty, kWrongSize, kUndecided, kNobody };

// The real selfie segmenter with a fault injected on chosen calls: the faults the Redactor must
// survive without showing more.
class FaultySegmenter final : public PersonSegmenter {
 public:
  FaultySegmenter(SegmenterModel model, std::function<Fault(int call)> plan)
      : real_(makeSelfieSegmenter(model, modelsDir())), plan_(std::move(plan)) {}

  cv::Mat segment(const cv::Mat& bgr) override {
    const Fault fault = plan_(call_++);
    switch (fault) {
      case Fault::kNone:
        return real_->segment(bgr);
      case Fault::kThrow:
        throw std::runtime_error("injected inference failure");
      case Fault::kSlow: {
        cv::Mat result = real_->segment(bgr);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        return result;
      }
      case Fault::kNan:
        return cv::Mat(bgr.size(), CV_32F, cv::Scalar(std::numeric_limits<float>::quiet_NaN()));
      case Fault::kEmpty:
        return {};
      case Fault::kWrongSize:
        return cv::Mat(bgr.rows / 2, bgr.cols / 2, CV_32F, cv::Scalar(1));
      case Fault::kUndecided:
        return cv::Mat(bgr.size(), CV_32F, cv::Scalar(0.5));
      case Fault::kNobody:
        return cv::Mat(bgr.size(), CV_32F, cv::Scalar(0));
    }
    return {};
  }
  std::string name() const override { return "faulty " + real_->name(); }

 private:
  std::unique_ptr<PersonSegmenter> real_;
  std::function<Fault(int)> plan_;
  int call_ = 0;
};

inline cv::Mat referenceFrame(const std::string& name) {
  return readImage(referenceDir() / "frames-360p" / name);
}

// MediaPipe's own mask for a reference frame (independent of our code), CV_8U 0/255.
inline cv::Mat referencePersonMask(const std::string& name) {
  const cv::Mat mask = readImage(referenceDir() / "mediapipe-general-360p" / (name + ".mask.png"),
                                 cv::IMREAD_GRAYSCALE);
  cv::Mat person;
  cv::compare(mask, 128, person, cv::CMP_GE);
  return person;
}

inline cv::Mat invert(const cv::Mat& mask) {
  cv::Mat out;
  cv::bitwise_not(mask, out);
  return out;
}

// True when every pixel of `bgr` equals the engine's flat fill (nothing of the camera left).
inline bool isUniform(const cv::Mat& bgr) {
  cv::Mat diff;
  cv::absdiff(bgr, cv::Scalar(bgr.at<cv::Vec3b>(0, 0)), diff);
  return cv::countNonZero(diff.reshape(1)) == 0;
}

}  // namespace veil::test
