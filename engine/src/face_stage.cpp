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
  // Presence only needs one face; the costlier full-range model runs when the close one sees none.
  if (!include_far_faces && detections.empty()) detections = full_range_.detect(bgr);
  main_face_centre_.reset();
  float largest = 0;
  for (const auto& d : detections) {
    if (d.box.area() > largest) {
      largest = d.box.area();
      main_face_centre_ = cv::Point(cvRound(d.box.x + d.box.width / 2),
                                    cvRound(d.box.y + d.box.height / 2));
    }
  }
  return tracker_.update(detections, timestamp_us);
}

void FaceStage::reset() {
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
