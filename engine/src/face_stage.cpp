#include "face_stage.h"

#include <opencv2/imgproc.hpp>

#include "model_registry.h"

namespace veil {

FaceStage::FaceStage(const std::filesystem::path& models_dir)
    : short_range_(FaceDetectorModel::kShortRange, resolveModelsDir(models_dir)),
      full_range_(FaceDetectorModel::kFullRange, resolveModelsDir(models_dir)) {}

const std::vector<TrackedFace>& FaceStage::update(const cv::Mat& bgr, std::int64_t timestamp_us,
                                                  bool include_far_faces) {
  std::vector<FaceDetection> detections =
      include_far_faces ? detectAll(short_range_, full_range_, bgr) : short_range_.detect(bgr);
  if (include_far_faces) {
    // Small faces (a photo on the wall, a person far back) are below what the models see in the
    // whole frame; a 3x3 grid of overlapping tiles finds them. All tiles on a stream's first
    // frame, then one tile per frame in turn: the tracker holds what a tile found meanwhile.
    const bool scan_all = !scanned_once_;
    for (int step = 0; step < (scan_all ? kTileCount : 1); ++step) {
      const cv::Rect tile = tileRect(bgr.size(), next_tile_);
      next_tile_ = (next_tile_ + 1) % kTileCount;
      for (FaceDetection d : full_range_.detect(bgr(tile))) {
        d.box.x += static_cast<float>(tile.x);
        d.box.y += static_cast<float>(tile.y);
        for (auto& k : d.keypoints)
          k += cv::Point2f(static_cast<float>(tile.x), static_cast<float>(tile.y));
        detections.push_back(d);
      }
    }
    scanned_once_ = true;
  }
  // Presence only needs one face; the costlier full-range model runs when the close one sees none.
  if (!include_far_faces && detections.empty()) detections = full_range_.detect(bgr);
  main_face_centre_.reset();
  float largest = 0;
  for (const auto& d : detections) {
    if (d.box.area() > largest) {
      largest = d.box.area();
      main_face_centre_ =
          cv::Point(cvRound(d.box.x + d.box.width / 2), cvRound(d.box.y + d.box.height / 2));
    }
  }
  return tracker_.update(detections, timestamp_us);
}

cv::Rect FaceStage::tileRect(cv::Size frame, int index) {
  // Tiles 1.4/3 of the frame on each side, evenly spread: neighbours overlap by ~20%.
  const int w = std::max(1, static_cast<int>(frame.width * 1.4 / kTilesPerSide));
  const int h = std::max(1, static_cast<int>(frame.height * 1.4 / kTilesPerSide));
  const int col = index % kTilesPerSide, row = index / kTilesPerSide;
  return {(frame.width - w) * col / (kTilesPerSide - 1),
          (frame.height - h) * row / (kTilesPerSide - 1), w, h};
}

void FaceStage::reset() {
  scanned_once_ = false;
  next_tile_ = 0;
  tracker_.reset();
  main_face_centre_.reset();
}

bool anyFaceOn(const std::vector<TrackedFace>& faces, const cv::Mat& patient) {
  const cv::Rect frame(0, 0, patient.cols, patient.rows);
  for (const auto& face : faces) {
    const cv::Rect2f& box = face.last_detection.box;
    const cv::Point centre(cvRound(box.x + box.width / 2), cvRound(box.y + box.height / 2));
    if (frame.contains(centre) && patient.at<std::uint8_t>(centre) != 0) return true;
  }
  return false;
}

cv::Mat headRegion(const cv::Mat& patient) {
  cv::Mat head = cv::Mat::zeros(patient.size(), CV_8U);
  const cv::Rect box = cv::boundingRect(patient);
  if (box.area() == 0) return head;
  const cv::Rect band(box.x, box.y, box.width,
                      std::max(1, static_cast<int>(box.height * kHeadBandFraction)));
  patient(band).copyTo(head(band));
  return head;
}

}  // namespace veil
