#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"
#include "veil/person_segmenter.h"
#include "veil/redactor.h"

namespace veil::test {

// A deadline no inference misses even on a loaded 2-core CI machine (load average 9 was seen
// here): tests that are not about the deadline rung must not land on it by chance.
inline constexpr std::chrono::milliseconds kUnhurriedDeadline{10'000};

enum class Fault { kNone, kThrow, kSlow, kNan, kEmpty, kWrongSize, kUndecided, kNobody };

// One injected fault and the reason the Redactor must report for it (parameterised tests).
struct FaultCase {
  const char* name;
  Fault fault;
  std::uint32_t reason;
};
inline std::string faultCaseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return info.param.name;
}
// Inferences the Redactor must not trust, whatever mode it is in (the deadline is separate: it
// needs a deadline shorter than the injected delay).
inline std::vector<FaultCase> untrustedInferences() {
  return {FaultCase{"Throws", Fault::kThrow, kReasonInferenceFailed},
          FaultCase{"ReturnsNaN", Fault::kNan, kReasonImplausibleMask},
          FaultCase{"ReturnsEmpty", Fault::kEmpty, kReasonImplausibleMask},
          FaultCase{"ReturnsWrongSize", Fault::kWrongSize, kReasonImplausibleMask},
          FaultCase{"LowConfidence", Fault::kUndecided, kReasonImplausibleMask}};
}

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

// A Redactor whose primary model is the real general selfie model with `primary_plan`'s faults,
// and, if asked, the real landscape model as the cheaper fallback (and consensus partner).
inline Redactor redactorWithFaults(RedactorOptions options, std::function<Fault(int)> primary_plan,
                                   bool with_fallback) {
  auto primary = std::make_unique<FaultySegmenter>(SegmenterModel::kGeneral, primary_plan);
  std::unique_ptr<PersonSegmenter> fallback;
  if (with_fallback) {
    fallback = std::make_unique<FaultySegmenter>(SegmenterModel::kLandscape,
                                                 [](int) { return Fault::kNone; });
  }
  return Redactor(std::move(options), std::move(primary), std::move(fallback));
}

// Pixels `before` hid (equal to `fill`) that `after` shows: a later frame of a fallback
// may hide more than the frame it falls back on, never less.
inline int revealedPixels(const cv::Mat& before, const cv::Mat& after, const cv::Vec3b& fill) {
  int revealed = 0;
  for (int y = 0; y < before.rows; ++y) {
    for (int x = 0; x < before.cols; ++x) {
      if (before.at<cv::Vec3b>(y, x) == fill && after.at<cv::Vec3b>(y, x) != fill) ++revealed;
    }
  }
  return revealed;
}

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
