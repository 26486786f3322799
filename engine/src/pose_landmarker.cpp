#include "veil/pose_landmarker.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>

#include "model_error.h"
#include "model_registry.h"
#include "tflite_net.h"
#include "tflite_reader.h"

namespace veil {
namespace {

constexpr int kInputSize = 256;
constexpr int kModelLandmarks = 39;  // 33 body + 2 auxiliary + 4 unused
constexpr int kValuesPerLandmark = 5;
constexpr int kHeatmapSize = 64;
constexpr int kRefineKernel = 7;
constexpr float kMinHeatmapConfidence = 0.5f;
constexpr double kPi = 3.14159265358979323846;

float sigmoid(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}

// Maps crop-normalised coordinates ([0,1] across the square) to frame pixels.
struct CropFrame {
  cv::Point2f centre;
  float side;
  float cos_a;
  float sin_a;

  explicit CropFrame(const cv::RotatedRect& roi)
      : centre(roi.center),
        side(roi.size.width),
        cos_a(static_cast<float>(std::cos(roi.angle * kPi / 180))),
        sin_a(static_cast<float>(std::sin(roi.angle * kPi / 180))) {}

  cv::Point2f toFrame(float u, float v) const {
    const float x = (u - 0.5f) * side;
    const float y = (v - 0.5f) * side;
    return centre + cv::Point2f(cos_a * x - sin_a * y, sin_a * x + cos_a * y);
  }
};

// MediaPipe's RefineLandmarksFromHeatmap: the score-weighted mean cell of a 7x7 window of the
// (sigmoid) heatmap around the landmark replaces x/y when the window's peak is confident.
void refineFromHeatmap(const float* heatmap, int landmark, float& u, float& v) {
  const int col = static_cast<int>(u * kHeatmapSize);
  const int row = static_cast<int>(v * kHeatmapSize);
  if (col < 0 || col >= kHeatmapSize || row < 0 || row >= kHeatmapSize) return;
  constexpr int kOffset = (kRefineKernel - 1) / 2;
  float sum = 0, weighted_col = 0, weighted_row = 0, peak = 0;
  for (int r = std::max(0, row - kOffset); r < std::min(kHeatmapSize, row + kOffset + 1); ++r) {
    for (int c = std::max(0, col - kOffset); c < std::min(kHeatmapSize, col + kOffset + 1); ++c) {
      const float confidence =
          sigmoid(heatmap[(r * kHeatmapSize + c) * kModelLandmarks + landmark]);
      sum += confidence;
      peak = std::max(peak, confidence);
      weighted_col += static_cast<float>(c) * confidence;
      weighted_row += static_cast<float>(r) * confidence;
    }
  }
  if (peak >= kMinHeatmapConfidence && sum > 0) {
    u = weighted_col / kHeatmapSize / sum;
    v = weighted_row / kHeatmapSize / sum;
  }
}

}  // namespace

struct PoseLandmarker::Impl {
  Impl(PoseModel model, const std::filesystem::path& dir)
      : id(model == PoseModel::kLite ? ModelId::kPoseLandmarkLite : ModelId::kPoseLandmarkFull),
        bytes(loadVerifiedModel(id, resolveModelsDir(dir))),
        net(tflite::readGraph(bytes, std::string(modelSpec(id).file_name)),
            std::string(modelSpec(id).file_name)) {
    const std::string name(modelSpec(id).file_name);
    if (net.inputShape() != std::vector<int>{1, kInputSize, kInputSize, 3}) {
      throw ModelError(name + ": expected a [1,256,256,3] input");
    }
    const auto& outs = net.outputShapes();
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const int index = static_cast<int>(i);
      if (outs[i] == std::vector<int>{1, kModelLandmarks * kValuesPerLandmark}) landmarks = index;
      if (outs[i] == std::vector<int>{1, 1}) flag = index;
      if (outs[i] == std::vector<int>{1, kHeatmapSize, kHeatmapSize, kModelLandmarks}) {
        heatmap = index;
      }
    }
    if (landmarks < 0 || flag < 0 || heatmap < 0) {
      throw ModelError(name + ": expected [1,195], [1,1] and [1,64,64,39] outputs");
    }
  }

  ModelId id;
  std::vector<std::uint8_t> bytes;  // the graph's constants point into these bytes
  TfliteNet net;
  int landmarks = -1;
  int flag = -1;
  int heatmap = -1;
};

PoseLandmarker::PoseLandmarker(PoseModel model, const std::filesystem::path& models_dir)
    : impl_(std::make_unique<Impl>(model, models_dir)) {}
PoseLandmarker::~PoseLandmarker() = default;
PoseLandmarker::PoseLandmarker(PoseLandmarker&&) noexcept = default;
PoseLandmarker& PoseLandmarker::operator=(PoseLandmarker&&) noexcept = default;

cv::RotatedRect PoseLandmarker::roiFromPersonBox(const cv::Rect& box) {
  const float side = static_cast<float>(std::max(box.width, box.height)) * kRoiScale;
  return cv::RotatedRect(cv::Point2f(static_cast<float>(box.x) + box.width / 2.0f,
                                     static_cast<float>(box.y) + box.height / 2.0f),
                         cv::Size2f(side, side), 0.0f);
}

cv::RotatedRect PoseLandmarker::roiFromLandmarks(const PoseResult& pose) {
  const cv::Point2f centre = pose.auxiliary[0].position;
  const cv::Point2f scale_point = pose.auxiliary[1].position;
  const cv::Point2f d = scale_point - centre;
  const float side = 2.0f * std::hypot(d.x, d.y) * kRoiScale;
  // Rotation that brings the scale point straight above the centre (MediaPipe: target 90 deg).
  double rotation = kPi / 2 - std::atan2(-d.y, d.x);
  rotation = rotation - 2 * kPi * std::floor((rotation + kPi) / (2 * kPi));
  return cv::RotatedRect(centre, cv::Size2f(side, side), static_cast<float>(rotation * 180 / kPi));
}

PoseResult PoseLandmarker::estimateInRoi(const cv::Mat& bgr, const cv::RotatedRect& roi) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw std::invalid_argument("PoseLandmarker needs a non-empty 8-bit BGR frame");
  }
  if (!(roi.size.width > 0) ||
      std::abs(roi.size.width - roi.size.height) > 1e-3f * roi.size.width) {
    throw std::invalid_argument("PoseLandmarker needs a non-empty square ROI");
  }
  const CropFrame crop(roi);
  // Tensor pixel (u,v) samples the frame at crop.toFrame(u/256, v/256).
  const float s = crop.side / kInputSize;
  const cv::Point2f origin = crop.toFrame(0, 0);
  const cv::Matx23d tensor_to_frame(s * crop.cos_a, -s * crop.sin_a, origin.x,  //
                                    s * crop.sin_a, s * crop.cos_a, origin.y);
  cv::Mat warped;
  cv::warpAffine(bgr, warped, tensor_to_frame, cv::Size(kInputSize, kInputSize),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
  cv::Mat rgb;
  cv::cvtColor(warped, rgb, cv::COLOR_BGR2RGB);
  cv::Mat input;
  rgb.convertTo(input, CV_32FC3, 1.0 / 255.0);
  const auto outputs = impl_->net.forward(input.reshape(1, 1));

  const float* raw = outputs[impl_->landmarks].ptr<float>();
  const float* heatmap = outputs[impl_->heatmap].ptr<float>();
  PoseResult result;
  result.presence = outputs[impl_->flag].ptr<float>()[0];
  result.roi = roi;
  for (int i = 0; i < kPoseLandmarkCount + 2; ++i) {
    const float* v = raw + i * kValuesPerLandmark;
    float u = v[0] / kInputSize;
    float w = v[1] / kInputSize;
    refineFromHeatmap(heatmap, i, u, w);
    PosePoint p;
    p.position = crop.toFrame(u, w);
    p.z = v[2] / kInputSize * crop.side;
    p.visibility = sigmoid(v[3]);
    p.presence = sigmoid(v[4]);
    if (i < kPoseLandmarkCount) {
      result.landmarks[i] = p;
    } else {
      result.auxiliary[i - kPoseLandmarkCount] = p;
    }
  }
  return result;
}

std::optional<PoseResult> PoseLandmarker::estimate(const cv::Mat& bgr, const cv::Rect& person_roi) {
  if (person_roi.width <= 0 || person_roi.height <= 0) return std::nullopt;
  const PoseResult first = estimateInRoi(bgr, roiFromPersonBox(person_roi));
  if (first.presence < kMinPresence) return std::nullopt;
  const cv::RotatedRect tracked = roiFromLandmarks(first);
  if (!(tracked.size.width >= 1.0f)) return std::nullopt;  // degenerate scale landmarks
  PoseResult second = estimateInRoi(bgr, tracked);
  if (second.presence < kMinPresence) return std::nullopt;
  return second;
}

}  // namespace veil
