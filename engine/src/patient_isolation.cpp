#include "patient_isolation.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace veil {

std::optional<cv::Mat> PatientIsolator::isolate(const cv::Mat& foreground,
                                                std::optional<cv::Point> main_face_centre) {
  cv::Mat labels, stats, centroids;
  const int count =
      cv::connectedComponentsWithStats(foreground, labels, stats, centroids, 8, CV_32S);
  const double min_area = kMinRegionFraction * foreground.total();
  const cv::Point2d frame_centre(foreground.cols / 2.0, foreground.rows / 2.0);
  const double diagonal = std::hypot(foreground.cols, foreground.rows);

  int largest_area = 0;
  for (int i = 1; i < count; ++i)
    largest_area = std::max(largest_area, stats.at<int>(i, cv::CC_STAT_AREA));

  int chosen = 0;
  if (main_face_centre && main_face_centre->inside(cv::Rect(0, 0, labels.cols, labels.rows))) {
    const int label = labels.at<int>(*main_face_centre);
    if (label > 0 && stats.at<int>(label, cv::CC_STAT_AREA) >= min_area) chosen = label;
  }
  double best_score = -1;
  if (chosen == 0) {
    for (int i = 1; i < count; ++i) {
      const double area = stats.at<int>(i, cv::CC_STAT_AREA);
      if (area < min_area) continue;
      const cv::Point2d c(centroids.at<double>(i, 0), centroids.at<double>(i, 1));
      // Continuity first: a region of comparable size close to where the patient was wins, so a
      // larger bystander walking in does not take over.
      const cv::Point2d anchor = last_centroid_.value_or(frame_centre);
      const double distance = std::hypot(c.x - anchor.x, c.y - anchor.y) / diagonal;
      const double weight = last_centroid_ ? 4.0 : 1.0;
      const double score = (area / largest_area) / (1.0 + weight * distance);
      if (score > best_score) {
        best_score = score;
        chosen = i;
      }
    }
  }
  if (chosen == 0) return std::nullopt;
  last_centroid_ = cv::Point2d(centroids.at<double>(chosen, 0), centroids.at<double>(chosen, 1));
  cv::Mat patient;
  cv::compare(labels, chosen, patient, cv::CMP_EQ);
  return patient;
}

}  // namespace veil
