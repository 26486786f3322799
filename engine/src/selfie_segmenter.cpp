#include <array>
#include <atomic>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "model_registry.h"
#include "tflite_net.h"
#include "tflite_reader.h"
#include "veil/person_segmenter.h"

namespace veil {
namespace {

// Indexed by isLandscape: general, landscape.
std::array<std::atomic<std::uint64_t>, 2> inference_counts{};

class SelfieSegmenter final : public PersonSegmenter {
 public:
  SelfieSegmenter(ModelId id, const std::filesystem::path& models_dir)
      : bytes_(loadVerifiedModel(id, models_dir)),
        net_(tflite::readGraph(bytes_, std::string(modelSpec(id).file_name)),
             std::string(modelSpec(id).file_name)),
        name_(modelSpec(id).file_name),
        counter_(inference_counts[id == ModelId::kSelfieLandscape ? 1 : 0]) {
    const auto& in = net_.inputShape();
    const auto& outs = net_.outputShapes();
    if (in.size() != 4 || in[0] != 1 || in[3] != 3 || outs.size() != 1 || outs[0].size() != 4 ||
        outs[0][1] != in[1] || outs[0][2] != in[2] || outs[0][3] != 1) {
      throw std::runtime_error(name_ + ": not a selfie segmentation model (unexpected tensors)");
    }
    input_size_ = cv::Size(in[2], in[1]);
  }

  cv::Mat segment(const cv::Mat& bgr) override {
    // MediaPipe stretches the whole frame to the model size (no letterbox), RGB in [0,1].
    cv::Mat small, rgb, input;
    cv::resize(bgr, small, input_size_, 0, 0, cv::INTER_LINEAR);
    cv::cvtColor(small, rgb, cv::COLOR_BGR2RGB);
    rgb.convertTo(input, CV_32FC3, 1.0 / 255.0);
    const auto outputs = net_.forward(input);
    ++counter_;
    const cv::Mat low_res(input_size_, CV_32FC1, const_cast<float*>(outputs[0].ptr<float>()));
    cv::Mat full;
    cv::resize(low_res, full, bgr.size(), 0, 0, cv::INTER_LINEAR);
    return full;
  }

  std::string name() const override { return name_; }

 private:
  std::vector<std::uint8_t> bytes_;  // the graph's constants point into these bytes
  TfliteNet net_;
  std::string name_;
  cv::Size input_size_;
  std::atomic<std::uint64_t>& counter_;
};

}  // namespace

std::unique_ptr<PersonSegmenter> makeSelfieSegmenter(SegmenterModel model,
                                                     const std::filesystem::path& models_dir) {
  const ModelId id =
      model == SegmenterModel::kLandscape ? ModelId::kSelfieLandscape : ModelId::kSelfieGeneral;
  return std::make_unique<SelfieSegmenter>(id, resolveModelsDir(models_dir));
}

std::uint64_t selfieInferenceCount(SegmenterModel model) {
  return inference_counts[model == SegmenterModel::kLandscape ? 1 : 0].load();
}

}  // namespace veil
