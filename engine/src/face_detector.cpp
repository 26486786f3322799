#include "veil/face_detector.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>

#include "face_anchors.h"
#include "model_error.h"
#include "model_registry.h"
#include "tflite_net.h"
#include "tflite_reader.h"

namespace veil {
namespace {

struct ModelConfig {
  ModelId id;
  blazeface::AnchorOptions anchors;
  float min_score;
};

// Values from the FaceDetectionShortRange / FaceDetectionFullRange graphs in
// @mediapipe/face_detection 0.4.1657300184.
ModelConfig configFor(FaceDetectorModel model) {
  ModelConfig c;
  if (model == FaceDetectorModel::kShortRange) {
    c.id = ModelId::kFaceShortRange;
    c.anchors.input_width = c.anchors.input_height = 128;
    c.anchors.strides = {8, 16, 16, 16};
    c.anchors.interpolated_scale_aspect_ratio = 1.0f;
    c.min_score = 0.5f;
  } else {
    c.id = ModelId::kFaceFullRange;
    c.anchors.input_width = c.anchors.input_height = 192;
    c.anchors.strides = {4};
    c.anchors.interpolated_scale_aspect_ratio = 0.0f;
    c.min_score = 0.6f;
  }
  return c;
}

// The square the frame is letterboxed into: MediaPipe's keep_aspect_ratio grows the (whole
// frame) ROI to the tensor's aspect ratio around its centre. Tensor pixel (u,v) samples the frame
// at origin + (u,v) * scale, and a normalised tensor coordinate t maps to origin + t * side.
struct Letterbox {
  cv::Point2f origin;
  float side = 0;
};

Letterbox letterboxFor(const cv::Size& frame) {
  const float side = static_cast<float>(std::max(frame.width, frame.height));
  return {cv::Point2f((static_cast<float>(frame.width) - side) / 2,
                      (static_cast<float>(frame.height) - side) / 2),
          side};
}

}  // namespace

struct FaceDetector::Impl {
  Impl(FaceDetectorModel m, const std::filesystem::path& dir)
      : model(m),
        config(configFor(m)),
        bytes(loadVerifiedModel(config.id, resolveModelsDir(dir))),
        net(tflite::readGraph(bytes, std::string(modelSpec(config.id).file_name)),
            std::string(modelSpec(config.id).file_name)),
        anchors(blazeface::generateAnchors(config.anchors)) {
    const int n = config.anchors.input_width;
    const auto& in = net.inputShape();
    const auto& outs = net.outputShapes();
    const auto count = static_cast<int>(anchors.size());
    if (in != std::vector<int>{1, n, n, 3} || outs.size() != 2) {
      throw ModelError(std::string(modelSpec(config.id).file_name) +
                       ": not a BlazeFace model (unexpected tensors)");
    }
    // Find which output is which by shape rather than trusting the declaration order.
    for (int i = 0; i < 2; ++i) {
      if (outs[i] == std::vector<int>{1, count, 16}) regressors_index = i;
      if (outs[i] == std::vector<int>{1, count, 1}) scores_index = i;
    }
    if (regressors_index < 0 || scores_index < 0) {
      throw ModelError(std::string(modelSpec(config.id).file_name) + ": expected [1," +
                       std::to_string(count) + ",16] and [1," + std::to_string(count) +
                       ",1] outputs");
    }
  }

  FaceDetectorModel model;
  ModelConfig config;
  std::vector<std::uint8_t> bytes;  // the graph's constants point into these bytes
  TfliteNet net;
  std::vector<blazeface::Anchor> anchors;
  int regressors_index = -1;
  int scores_index = -1;
};

FaceDetector::FaceDetector(FaceDetectorModel model, const std::filesystem::path& models_dir)
    : impl_(std::make_unique<Impl>(model, models_dir)) {}
FaceDetector::~FaceDetector() = default;
FaceDetector::FaceDetector(FaceDetector&&) noexcept = default;
FaceDetector& FaceDetector::operator=(FaceDetector&&) noexcept = default;

FaceDetectorModel FaceDetector::model() const {
  return impl_->model;
}
int FaceDetector::inputSize() const {
  return impl_->config.anchors.input_width;
}
float FaceDetector::minScore() const {
  return impl_->config.min_score;
}

cv::Mat FaceDetector::inputTensor(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw std::invalid_argument("FaceDetector needs a non-empty 8-bit BGR frame");
  }
  const int n = inputSize();
  const Letterbox box = letterboxFor(bgr.size());
  const double scale = box.side / n;
  // Maps tensor pixels to frame pixels (applied as the inverse map); the outside is black,
  // MediaPipe's BORDER_ZERO, which becomes -1 after scaling.
  const cv::Matx23d tensor_to_frame(scale, 0, box.origin.x, 0, scale, box.origin.y);
  cv::Mat warped;
  cv::warpAffine(bgr, warped, tensor_to_frame, cv::Size(n, n),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::Mat rgb;
  cv::cvtColor(warped, rgb, cv::COLOR_BGR2RGB);
  cv::Mat tensor;
  rgb.convertTo(tensor, CV_32FC3, 2.0 / 255.0, -1.0);
  return tensor.reshape(1, 1);
}

std::vector<cv::Mat> FaceDetector::runModel(const cv::Mat& input_tensor) {
  const auto outputs = impl_->net.forward(input_tensor);
  const int count = static_cast<int>(impl_->anchors.size());
  const int regressor_dims[] = {count, 16};
  const int score_dims[] = {count, 1};
  return {outputs[impl_->regressors_index].reshape(1, 2, regressor_dims),
          outputs[impl_->scores_index].reshape(1, 2, score_dims)};
}

std::vector<FaceDetection> FaceDetector::detect(const cv::Mat& bgr) {
  const auto raw = runModel(inputTensor(bgr));
  blazeface::DecodeOptions decode;
  decode.scale = static_cast<float>(inputSize());
  decode.min_score = minScore();
  auto faces = blazeface::weightedNonMaxSuppression(
      blazeface::decode(raw[0].ptr<float>(), raw[1].ptr<float>(), impl_->anchors, decode),
      kFaceMergeIou);
  // Undo the letterbox: normalised tensor coordinates to frame pixels.
  const Letterbox box = letterboxFor(bgr.size());
  const auto toFrame = [&](const cv::Point2f& p) { return box.origin + p * box.side; };
  for (FaceDetection& f : faces) {
    f.box = cv::Rect2f(toFrame(f.box.tl()), toFrame(f.box.br()));
    for (cv::Point2f& k : f.keypoints) k = toFrame(k);
  }
  return faces;
}

std::vector<FaceDetection> detectAll(FaceDetector& short_range, FaceDetector& full_range,
                                     const cv::Mat& bgr) {
  std::vector<FaceDetection> all = short_range.detect(bgr);
  const auto far = full_range.detect(bgr);
  all.insert(all.end(), far.begin(), far.end());
  std::stable_sort(all.begin(), all.end(), [](const FaceDetection& a, const FaceDetection& b) {
    return a.score > b.score;
  });
  std::vector<FaceDetection> merged;
  for (const FaceDetection& f : all) {
    auto same = std::find_if(merged.begin(), merged.end(), [&](const FaceDetection& m) {
      return blazeface::iou(m.box, f.box) > kFaceMergeIou;
    });
    if (same == merged.end()) {
      merged.push_back(f);
    } else {
      same->box |= f.box;  // keep every pixel either model called face
    }
  }
  return merged;
}

}  // namespace veil
