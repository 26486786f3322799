#include "veil/body_zones.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace veil {
namespace {

float length(const cv::Point2f& v) {
  return std::hypot(v.x, v.y);
}

bool confident(const PosePoint& p, float threshold) {
  return p.visibility >= threshold && p.presence >= threshold;
}

// Why the pose cannot carry zones, or empty when it can.
std::string distrust(const std::optional<PoseResult>& pose, const BodyZoneParams& p) {
  if (!pose) return "no pose";
  if (!(pose->presence >= p.min_presence)) return "low pose presence";
  for (const PoseLandmark l : {PoseLandmark::kLeftShoulder, PoseLandmark::kRightShoulder,
                               PoseLandmark::kLeftHip, PoseLandmark::kRightHip}) {
    if (!confident(pose->at(l), p.min_landmark_confidence)) return "shoulders or hips not visible";
  }
  const cv::Point2f shoulders = (pose->at(PoseLandmark::kLeftShoulder).position +
                                 pose->at(PoseLandmark::kRightShoulder).position) *
                                0.5f;
  const cv::Point2f hips =
      (pose->at(PoseLandmark::kLeftHip).position + pose->at(PoseLandmark::kRightHip).position) *
      0.5f;
  const float torso = length(hips - shoulders);
  const float ws = length(pose->at(PoseLandmark::kLeftShoulder).position -
                          pose->at(PoseLandmark::kRightShoulder).position);
  if (!(torso >= p.min_torso_px)) return "torso too small";
  if (torso < p.min_torso_over_shoulders * ws || torso > p.max_torso_over_shoulders * ws) {
    return "implausible torso proportions";
  }
  const PosePoint& left_ear = pose->at(PoseLandmark::kLeftEar);
  const PosePoint& right_ear = pose->at(PoseLandmark::kRightEar);
  if (confident(left_ear, p.min_landmark_confidence) &&
      confident(right_ear, p.min_landmark_confidence) &&
      ws < p.min_shoulders_over_ears * length(left_ear.position - right_ear.position)) {
    return "head as wide as the shoulders";
  }
  return {};
}

cv::Rect wideZone(const std::optional<PoseResult>& pose, const cv::Rect& box,
                  const BodyZoneParams& p) {
  int top = box.y;
  if (pose && confident(pose->at(PoseLandmark::kNose), p.min_landmark_confidence)) {
    // The nose sits about halfway down the head; the chin is ~0.6 of the top-to-nose distance
    // below it (so this keeps the lower face hidden rather than risk exposing the neckline).
    const float nose_y = pose->at(PoseLandmark::kNose).position.y;
    const float below_face = nose_y + 0.6f * (nose_y - static_cast<float>(box.y));
    const bool nose_near_top = nose_y >= static_cast<float>(box.y) &&
                               nose_y <= static_cast<float>(box.y) + 0.3f * box.height;
    if (nose_near_top) top = static_cast<int>(std::floor(below_face));
  }
  const int margin = static_cast<int>(std::ceil(p.wide_margin * box.width));
  return cv::Rect(cv::Point(box.x - margin, top),
                  cv::Point(box.x + box.width + margin, box.y + box.height + margin));
}

BodyZonePolygon rectangleInTorso(BodyZone zone, const cv::Point2f& origin, const cv::Point2f& down,
                                 const cv::Point2f& across, float from, float to,
                                 float half_width) {
  BodyZonePolygon polygon{zone, {}};
  for (const auto& [along, side] :
       {std::pair{from, -1.0f}, std::pair{from, 1.0f}, std::pair{to, 1.0f}, std::pair{to, -1.0f}}) {
    polygon.corners.push_back(origin + down * along + across * (side * half_width));
  }
  return polygon;
}

}  // namespace

BodyZones computeBodyZones(const std::optional<PoseResult>& pose, const cv::Rect& person_box,
                           cv::Size frame_size, const BodyZoneParams& p) {
  BodyZones zones;
  zones.mask = cv::Mat(frame_size, CV_8UC1, cv::Scalar(0));
  zones.reason = distrust(pose, p);
  zones.uncertain = !zones.reason.empty();
  if (zones.uncertain) {
    zones.wide = wideZone(pose, person_box, p) & cv::Rect(cv::Point(0, 0), frame_size);
    zones.mask(zones.wide).setTo(255);
    return zones;
  }

  const auto at = [&](PoseLandmark l) { return pose->at(l).position; };
  const cv::Point2f shoulders =
      (at(PoseLandmark::kLeftShoulder) + at(PoseLandmark::kRightShoulder)) * 0.5f;
  const cv::Point2f hips = (at(PoseLandmark::kLeftHip) + at(PoseLandmark::kRightHip)) * 0.5f;
  const float torso = length(hips - shoulders);
  const cv::Point2f down = (hips - shoulders) * (1.0f / torso);
  const cv::Point2f across(-down.y, down.x);
  const float ws = length(at(PoseLandmark::kLeftShoulder) - at(PoseLandmark::kRightShoulder));
  const float wh = length(at(PoseLandmark::kLeftHip) - at(PoseLandmark::kRightHip));

  zones.polygons.push_back(rectangleInTorso(
      BodyZone::kChest, shoulders, down, across, p.chest_top * torso, p.chest_bottom * torso,
      std::max(p.chest_half_width_ws * ws, p.chest_half_width_t * torso)));
  zones.polygons.push_back(rectangleInTorso(
      BodyZone::kPelvis, hips, down, across, p.pelvis_top * torso, p.pelvis_bottom * torso,
      std::max(p.pelvis_half_width_wh * wh, p.pelvis_half_width_t * torso)));
  zones.polygons.push_back(rectangleInTorso(
      BodyZone::kButtocks, hips, down, across, p.buttocks_top * torso, p.buttocks_bottom * torso,
      std::max(p.buttocks_half_width_wh * wh, p.buttocks_half_width_t * torso)));

  for (const BodyZonePolygon& polygon : zones.polygons) {
    std::vector<cv::Point> corners;
    for (const cv::Point2f& c : polygon.corners) corners.emplace_back(cvRound(c.x), cvRound(c.y));
    cv::fillConvexPoly(zones.mask, corners, cv::Scalar(255), cv::LINE_8);
  }
  // Rounding the corners can shave half a pixel off an edge: give it back on the hidden side.
  cv::dilate(zones.mask, zones.mask, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  return zones;
}

}  // namespace veil
