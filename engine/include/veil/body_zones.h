#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <optional>
#include <string>
#include <vector>

#include "veil/pose_landmarker.h"

namespace veil {

// Geometry of the private-region zones (experimental). Everything is measured in the torso's own
// frame: S = shoulder midpoint, H = hip midpoint, T = |H - S| (torso length), "down" = S->H,
// "across" perpendicular to it; ws / wh = shoulder / hip joint distances. Every zone is a
// rectangle in that frame (so it turns with a leaning or lying body).
struct BodyZoneParams {
  // Chest (breasts): from 0.10 T to 0.70 T below S, half-width max(0.6 ws, 0.40 T).
  float chest_top = 0.10f, chest_bottom = 0.70f;
  float chest_half_width_ws = 0.6f, chest_half_width_t = 0.40f;
  // Pelvis (genitals, pubic area): from 0.30 T above H to 0.50 T below H, half-width
  // max(0.85 wh, 0.40 T). The hip landmarks are the hip joints, inside the body's outline.
  float pelvis_top = -0.30f, pelvis_bottom = 0.50f;
  float pelvis_half_width_wh = 0.85f, pelvis_half_width_t = 0.40f;
  // Buttocks (seen from behind or the side): from 0.15 T above H to 0.60 T below H, half-width
  // max(0.95 wh, 0.45 T).
  float buttocks_top = -0.15f, buttocks_bottom = 0.60f;
  float buttocks_half_width_wh = 0.95f, buttocks_half_width_t = 0.45f;

  // When the pose is trusted at all.
  float min_presence = 0.5f;             // pose presence
  float min_landmark_confidence = 0.5f;  // visibility and presence of both shoulders and hips
  float min_torso_px = 8.0f;             // smaller torsos cannot carry zones
  float min_torso_over_shoulders = 0.5f, max_torso_over_shoulders = 4.0f;  // T / ws
  // A head at least as wide as the shoulders (ear to ear, both ears visible) is the model
  // drawing a body inside a face close-up.
  float min_shoulders_over_ears = 1.2f;
  // Wide zone margin around the person box, as a fraction of its width.
  float wide_margin = 0.05f;
};

enum class BodyZone { kChest, kPelvis, kButtocks };

struct BodyZonePolygon {
  BodyZone zone;
  std::vector<cv::Point2f> corners;  // frame pixels, convex, 4 corners
};

struct BodyZones {
  // True when the pose cannot be trusted; then `polygons` is empty and `wide` holds the area
  // hidden instead: the person box (plus margin) from below the face (when the pose shows a
  // nose near the top of the box) or from its top, down to its bottom.
  bool uncertain = true;
  std::string reason;  // why uncertain, empty otherwise
  std::vector<BodyZonePolygon> polygons;
  cv::Rect wide;
  cv::Mat mask;  // CV_8UC1 at the frame size: 255 in the zones (or the wide area), else 0
};

// Zones for one person. `person_box` is the bounding box of the person's mask (the wide zone
// comes from it). The mask is NOT intersected with the person's mask: the caller does that if it
// wants to. Never throws for a missing or odd pose: that is what `uncertain` is for.
BodyZones computeBodyZones(const std::optional<PoseResult>& pose, const cv::Rect& person_box,
                           cv::Size frame_size, const BodyZoneParams& params = {});

}  // namespace veil
