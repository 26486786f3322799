#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>
#include <vector>

#include "veil/face_detector.h"

namespace veil {

// The fixed numbers of face redaction. The defaults are the engine's; they are public so tests
// and docs quote the same values.
struct FaceTrackerParams {
  // Head ellipse around a BlazeFace box. The box spans roughly brows to chin and cheek to cheek;
  // the ellipse must also cover the hair line, the ears and the chin with a margin.
  float ellipse_width_factor = 1.9f;   // ellipse width / box width
  float ellipse_height_factor = 2.4f;  // ellipse height / box height
  float centre_up_shift = 0.2f;        // centre moved towards the top of the head, x box height
  // A face missing from the detections keeps its region this long, then is reported lost.
  double hold_seconds = 2.0;
  // Motion bound while held: each semi-axis grows by this many box widths per second since the
  // face was last detected (a head moving faster than ~1 face width per second can escape it).
  float growth_box_widths_per_second = 1.0f;
};

enum class FaceTrackState {
  kDetected,  // detected in this very frame: region from this frame's detection
  kHeld,      // not detected, last seen <= hold_seconds ago: last region grown by the motion bound
  kLost,      // not detected for longer than hold_seconds: no region; the caller must fall back
};

struct TrackedFace {
  int id = 0;  // stable while the face is tracked, never reused
  FaceTrackState state = FaceTrackState::kDetected;
  cv::RotatedRect region;         // ellipse to hide, frame pixels (unused when kLost)
  FaceDetection last_detection;   // frame pixels
  std::int64_t last_seen_us = 0;  // timestamp of last_detection
};

// The head ellipse for one detection: sized from the box by the factors above, rotated by the
// roll of the eye line, centre shifted along the face's own "up".
cv::RotatedRect faceEllipse(const FaceDetection& detection, const FaceTrackerParams& params);

// Turns per-frame detections into face regions that do not flicker off when the detector misses a
// frame (profile, looking down, motion blur). Pure logic: no clock, timestamps come from frames.
// Not thread-safe; one instance per video stream.
class FaceTracker {
 public:
  explicit FaceTracker(FaceTrackerParams params = {});

  // Associates `detections` (frame pixels) with the tracked faces and returns the faces to hide
  // in this frame: detected and held ones. Association: a detection continues a face when its
  // box centre lies in the face's current region or its box overlaps the last box (IoU > 0.3);
  // nearest centres pair first. Timestamps must not decrease (std::invalid_argument).
  const std::vector<TrackedFace>& update(const std::vector<FaceDetection>& detections,
                                         std::int64_t timestamp_us);

  // Faces to hide after the last update (kDetected or kHeld).
  const std::vector<TrackedFace>& faces() const { return faces_; }
  // Faces that turned kLost in the last update (reported once, then forgotten), with the region
  // they had when last held: the caller falls back to a head region or the whole frame.
  const std::vector<TrackedFace>& lostInLastUpdate() const { return lost_; }

  const FaceTrackerParams& params() const { return params_; }

  // Forgets every face (a new, unrelated stream starts).
  void reset();

 private:
  FaceTrackerParams params_;
  std::vector<TrackedFace> faces_;
  std::vector<TrackedFace> lost_;
  std::int64_t last_timestamp_us_ = 0;
  bool has_timestamp_ = false;
  int next_id_ = 1;
};

// 255 inside every region of `faces` that is kDetected or kHeld, 0 elsewhere; CV_8UC1 of
// `frame_size`. Regions reaching past the frame are clipped.
cv::Mat rasteriseFaceRegions(const std::vector<TrackedFace>& faces, cv::Size frame_size);

}  // namespace veil
