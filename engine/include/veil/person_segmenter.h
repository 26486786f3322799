#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>

namespace veil {

enum class SegmenterModel { kAuto, kGeneral, kLandscape };

// Finds people in a frame. The Redactor owns one (plus a cheaper fallback) and treats anything
// it throws or returns out of contract as a failed inference.
class PersonSegmenter {
 public:
  virtual ~PersonSegmenter() = default;
  // Person probability in [0,1] for every pixel: CV_32FC1 at the frame's size. May throw.
  virtual cv::Mat segment(const cv::Mat& bgr) = 0;
  virtual std::string name() const = 0;
};

// MediaPipe Selfie Segmentation (general 256x256 or landscape 144x256) run through our TFLite
// loader. Throws veil::ModelError (engine/models) if the weights are missing or unusable.
// kAuto means kGeneral.
std::unique_ptr<PersonSegmenter> makeSelfieSegmenter(SegmenterModel model,
                                                     const std::filesystem::path& models_dir);

// Selfie-model inferences run in this process so far (kAuto counts as kGeneral), whichever
// segmenter ran them: tests and benchmarks use it to show that no work is repeated.
std::uint64_t selfieInferenceCount(SegmenterModel model);

}  // namespace veil
