#include "face_anchors.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace veil::blazeface {
namespace {

// Scales grow linearly from min to max over the layers (MediaPipe's CalculateScale).
float layerScale(const AnchorOptions& o, int layer) {
  const int layers = static_cast<int>(o.strides.size());
  if (layers == 1) return (o.min_scale + o.max_scale) * 0.5f;
  return o.min_scale +
         (o.max_scale - o.min_scale) * static_cast<float>(layer) / static_cast<float>(layers - 1);
}

float sigmoid(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace

std::vector<Anchor> generateAnchors(const AnchorOptions& o) {
  if (o.strides.empty() || o.input_width <= 0 || o.input_height <= 0) {
    throw std::invalid_argument("anchor options need strides and an input size");
  }
  const int layers = static_cast<int>(o.strides.size());
  std::vector<Anchor> anchors;
  int layer = 0;
  while (layer < layers) {
    // Every layer with the same stride as `layer` contributes its anchor shapes to one map.
    std::vector<float> widths;
    std::vector<float> heights;
    int next = layer;
    for (; next < layers && o.strides[next] == o.strides[layer]; ++next) {
      const float scale = layerScale(o, next);
      for (const float ratio : o.aspect_ratios) {
        widths.push_back(scale * std::sqrt(ratio));
        heights.push_back(scale / std::sqrt(ratio));
      }
      if (o.interpolated_scale_aspect_ratio > 0) {
        const float next_scale = next == layers - 1 ? 1.0f : layerScale(o, next + 1);
        const float scale_mid = std::sqrt(scale * next_scale);
        const float ratio = o.interpolated_scale_aspect_ratio;
        widths.push_back(scale_mid * std::sqrt(ratio));
        heights.push_back(scale_mid / std::sqrt(ratio));
      }
    }
    const int stride = o.strides[layer];
    const int map_h = (o.input_height + stride - 1) / stride;
    const int map_w = (o.input_width + stride - 1) / stride;
    for (int y = 0; y < map_h; ++y) {
      for (int x = 0; x < map_w; ++x) {
        for (std::size_t k = 0; k < widths.size(); ++k) {
          Anchor a;
          a.x_center = (static_cast<float>(x) + o.offset_x) / static_cast<float>(map_w);
          a.y_center = (static_cast<float>(y) + o.offset_y) / static_cast<float>(map_h);
          a.width = o.fixed_anchor_size ? 1.0f : widths[k];
          a.height = o.fixed_anchor_size ? 1.0f : heights[k];
          anchors.push_back(a);
        }
      }
    }
    layer = next;
  }
  return anchors;
}

std::vector<FaceDetection> decode(const float* regressors, const float* logits,
                                  const std::vector<Anchor>& anchors, const DecodeOptions& o) {
  constexpr int kValues = 16;
  constexpr int kKeypointOffset = 4;
  std::vector<FaceDetection> out;
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    const float logit = std::clamp(logits[i], -o.score_clip, o.score_clip);
    const float score = sigmoid(logit);
    if (score < o.min_score) continue;
    const float* r = regressors + i * kValues;
    const Anchor& a = anchors[i];
    // reverse_output_order: x, y, w, h.
    const float xc = r[0] / o.scale * a.width + a.x_center;
    const float yc = r[1] / o.scale * a.height + a.y_center;
    const float w = r[2] / o.scale * a.width;
    const float h = r[3] / o.scale * a.height;
    if (w < 0 || h < 0) continue;
    FaceDetection d;
    d.box = cv::Rect2f(xc - w / 2, yc - h / 2, w, h);
    d.score = score;
    for (int k = 0; k < kFaceKeypointCount; ++k) {
      d.keypoints[k] =
          cv::Point2f(r[kKeypointOffset + 2 * k] / o.scale * a.width + a.x_center,
                      r[kKeypointOffset + 2 * k + 1] / o.scale * a.height + a.y_center);
    }
    out.push_back(d);
  }
  return out;
}

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  if (inter <= 0) return 0;
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<FaceDetection> weightedNonMaxSuppression(std::vector<FaceDetection> remaining,
                                                     float iou_threshold) {
  std::stable_sort(
      remaining.begin(), remaining.end(),
      [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
  std::vector<FaceDetection> kept;
  while (!remaining.empty()) {
    const FaceDetection best = remaining.front();
    std::vector<FaceDetection> rest;
    double total = 0;
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::array<cv::Point2d, kFaceKeypointCount> kp{};
    for (std::size_t i = 0; i < remaining.size(); ++i) {
      const FaceDetection& c = remaining[i];
      // The best candidate always joins its own group, even with a degenerate box.
      if (i == 0 || iou(best.box, c.box) > iou_threshold) {
        total += c.score;
        x0 += c.score * c.box.x;
        y0 += c.score * c.box.y;
        x1 += c.score * (c.box.x + c.box.width);
        y1 += c.score * (c.box.y + c.box.height);
        for (int k = 0; k < kFaceKeypointCount; ++k) {
          kp[k] += cv::Point2d(c.keypoints[k]) * static_cast<double>(c.score);
        }
      } else {
        rest.push_back(c);
      }
    }
    FaceDetection merged = best;
    if (total > 0) {
      merged.box =
          cv::Rect2f(cv::Point2f(static_cast<float>(x0 / total), static_cast<float>(y0 / total)),
                     cv::Point2f(static_cast<float>(x1 / total), static_cast<float>(y1 / total)));
      for (int k = 0; k < kFaceKeypointCount; ++k) merged.keypoints[k] = cv::Point2f(kp[k] / total);
    }
    kept.push_back(merged);
    remaining = std::move(rest);
  }
  return kept;
}

}  // namespace veil::blazeface
