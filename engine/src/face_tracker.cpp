#include "veil/face_tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace veil {
namespace {

constexpr float kContinueIou = 0.3f;
constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;

cv::Point2f centre(const cv::Rect2f& r) {
  return {r.x + r.width / 2, r.y + r.height / 2};
}

float boxIou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return inter > 0 && uni > 0 ? inter / uni : 0;
}

bool insideEllipse(const cv::RotatedRect& e, const cv::Point2f& p) {
  const float a = e.size.width / 2;
  const float b = e.size.height / 2;
  if (a <= 0 || b <= 0) return false;
  const double t = -e.angle / kRadToDeg;  // into the ellipse's own axes
  const cv::Point2f d = p - e.center;
  const double x = d.x * std::cos(t) - d.y * std::sin(t);
  const double y = d.x * std::sin(t) + d.y * std::cos(t);
  return (x * x) / (a * a) + (y * y) / (b * b) <= 1.0;
}

double secondsBetween(std::int64_t from_us, std::int64_t to_us) {
  return static_cast<double>(to_us - from_us) / 1e6;
}

}  // namespace

cv::RotatedRect faceEllipse(const FaceDetection& d, const FaceTrackerParams& p) {
  const cv::Point2f eyes = d.keypoint(FaceKeypoint::kLeftEye) - d.keypoint(FaceKeypoint::kRightEye);
  // The subject's right eye is on the image's left for a face looking at the camera, so the eye
  // vector points along the face's own x axis; its angle is the head roll.
  const double roll = (eyes.x == 0 && eyes.y == 0) ? 0.0 : std::atan2(eyes.y, eyes.x);
  const cv::Point2f up(static_cast<float>(std::sin(roll)), static_cast<float>(-std::cos(roll)));
  const cv::Point2f c = centre(d.box) + up * (p.centre_up_shift * d.box.height);
  return cv::RotatedRect(
      c, cv::Size2f(d.box.width * p.ellipse_width_factor, d.box.height * p.ellipse_height_factor),
      static_cast<float>(roll * kRadToDeg));
}

FaceTracker::FaceTracker(FaceTrackerParams params) : params_(params) {}

void FaceTracker::reset() {
  faces_.clear();
  lost_.clear();
  has_timestamp_ = false;
  last_timestamp_us_ = 0;
}

const std::vector<TrackedFace>& FaceTracker::update(const std::vector<FaceDetection>& detections,
                                                    std::int64_t timestamp_us) {
  if (has_timestamp_ && timestamp_us < last_timestamp_us_) {
    throw std::invalid_argument("FaceTracker: timestamps must not decrease");
  }
  has_timestamp_ = true;
  last_timestamp_us_ = timestamp_us;
  lost_.clear();

  // Every plausible (face, detection) pair, nearest centres first, each side used once.
  struct Pair {
    std::size_t face;
    std::size_t detection;
    float distance;
  };
  std::vector<Pair> pairs;
  for (std::size_t f = 0; f < faces_.size(); ++f) {
    const TrackedFace& face = faces_[f];
    for (std::size_t d = 0; d < detections.size(); ++d) {
      const cv::Point2f c = centre(detections[d].box);
      if (insideEllipse(face.region, c) ||
          boxIou(face.last_detection.box, detections[d].box) > kContinueIou) {
        const cv::Point2f delta = c - centre(face.last_detection.box);
        pairs.push_back({f, d, std::hypot(delta.x, delta.y)});
      }
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const Pair& a, const Pair& b) { return a.distance < b.distance; });
  std::vector<bool> face_matched(faces_.size(), false);
  std::vector<bool> detection_used(detections.size(), false);
  for (const Pair& pair : pairs) {
    if (face_matched[pair.face] || detection_used[pair.detection]) continue;
    face_matched[pair.face] = true;
    detection_used[pair.detection] = true;
    TrackedFace& face = faces_[pair.face];
    face.state = FaceTrackState::kDetected;
    face.last_detection = detections[pair.detection];
    face.last_seen_us = timestamp_us;
    face.region = faceEllipse(face.last_detection, params_);
  }

  std::vector<TrackedFace> kept;
  for (std::size_t f = 0; f < faces_.size(); ++f) {
    TrackedFace face = faces_[f];
    if (!face_matched[f]) {
      const double elapsed = secondsBetween(face.last_seen_us, timestamp_us);
      const float grow = 2.0f * params_.growth_box_widths_per_second *
                         face.last_detection.box.width * static_cast<float>(elapsed);
      const cv::RotatedRect base = faceEllipse(face.last_detection, params_);
      face.region = cv::RotatedRect(
          base.center, cv::Size2f(base.size.width + grow, base.size.height + grow), base.angle);
      if (elapsed > params_.hold_seconds) {
        face.state = FaceTrackState::kLost;
        lost_.push_back(face);
        continue;
      }
      face.state = FaceTrackState::kHeld;
    }
    kept.push_back(face);
  }
  for (std::size_t d = 0; d < detections.size(); ++d) {
    if (detection_used[d]) continue;
    TrackedFace face;
    face.id = next_id_++;
    face.state = FaceTrackState::kDetected;
    face.last_detection = detections[d];
    face.last_seen_us = timestamp_us;
    face.region = faceEllipse(face.last_detection, params_);
    kept.push_back(face);
  }
  faces_ = std::move(kept);
  return faces_;
}

cv::Mat rasteriseFaceRegions(const std::vector<TrackedFace>& faces, cv::Size frame_size) {
  cv::Mat mask(frame_size, CV_8UC1, cv::Scalar(0));
  const cv::Rect frame(cv::Point(0, 0), frame_size);
  for (const TrackedFace& face : faces) {
    if (face.state == FaceTrackState::kLost) continue;
    // Exact per-pixel test instead of cv::ellipse's polygon, which can fall a pixel short; semi-
    // axes grown by one pixel so that every pixel the ellipse touches is hidden.
    const cv::RotatedRect& e = face.region;
    const cv::RotatedRect grown(e.center, cv::Size2f(e.size.width + 2, e.size.height + 2), e.angle);
    if (!(e.size.width > 0 && e.size.height > 0)) continue;
    const cv::Rect area = grown.boundingRect() & frame;
    for (int y = area.y; y < area.y + area.height; ++y) {
      auto* row = mask.ptr<std::uint8_t>(y);
      for (int x = area.x; x < area.x + area.width; ++x) {
        if (insideEllipse(grown, cv::Point2f(static_cast<float>(x), static_cast<float>(y)))) {
          row[x] = 255;
        }
      }
    }
  }
  return mask;
}

}  // namespace veil
