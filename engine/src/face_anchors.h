#pragma once

// The model-independent half of BlazeFace: SSD anchor generation, box/keypoint decoding and
// weighted non-maximum suppression, as MediaPipe's SsdAnchorsCalculator,
// TensorsToDetectionsCalculator and NonMaxSuppressionCalculator define them. Pure functions, so
// tests can check them without weights.

#include <opencv2/core/mat.hpp>
#include <vector>

#include "veil/face_detector.h"

namespace veil::blazeface {

// The subset of MediaPipe's SsdAnchorsCalculatorOptions the face graphs set.
struct AnchorOptions {
  int input_width = 0;
  int input_height = 0;
  float min_scale = 0.1484375f;
  float max_scale = 0.75f;
  float offset_x = 0.5f;
  float offset_y = 0.5f;
  std::vector<int> strides;  // one per layer; consecutive equal strides share a feature map
  std::vector<float> aspect_ratios{1.0f};
  float interpolated_scale_aspect_ratio = 1.0f;  // <= 0: no interpolated anchor
  bool fixed_anchor_size = true;
};

// Anchor centre and size, normalised to the model input ([0,1] across).
struct Anchor {
  float x_center = 0;
  float y_center = 0;
  float width = 1;
  float height = 1;
};

std::vector<Anchor> generateAnchors(const AnchorOptions& options);

// How raw regressors become boxes (MediaPipe TensorsToDetectionsCalculatorOptions subset:
// reverse_output_order, box offset 0, keypoint offset 4, 6 keypoints of 2 values).
struct DecodeOptions {
  float scale = 128;       // x/y/w/h scale: the input size in pixels
  float min_score = 0.5f;  // on the sigmoid score
  float score_clip = 100;  // logits are clipped to +-this before the sigmoid
};

// Candidates in input-normalised coordinates (box and keypoints in [0,1] for a face fully
// inside the input). `regressors` is N x 16 floats, `logits` N floats, N == anchors.size().
// Boxes with negative width or height are dropped, as MediaPipe does.
std::vector<FaceDetection> decode(const float* regressors, const float* logits,
                                  const std::vector<Anchor>& anchors, const DecodeOptions& options);

float iou(const cv::Rect2f& a, const cv::Rect2f& b);

// MediaPipe's WEIGHTED algorithm: take the best remaining candidate, gather every remaining
// candidate (itself included) whose IoU with it exceeds `iou_threshold`, and emit the
// score-weighted mean of their boxes and keypoints with the best candidate's score.
std::vector<FaceDetection> weightedNonMaxSuppression(std::vector<FaceDetection> candidates,
                                                     float iou_threshold);

}  // namespace veil::blazeface
