#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "test_support.h"
#include "veil/face_tracker.h"

namespace veil {
namespace {

TEST(FaceTrackerExplore, Draw) {
  FaceDetector s(FaceDetectorModel::kShortRange, test::modelsDir());
  FaceDetector f(FaceDetectorModel::kFullRange, test::modelsDir());
  for (const std::string name : {"messi5.png", "basketball1.png", "megamind_03.png", "megamind_07.png", "megamind_10.png", "astronaut.png"}) {
    cv::Mat img = test::readImage(test::referenceDir() / "frames-360p" / name);
    FaceTracker t;
    t.update(detectAll(s, f, img), 0);
    for (const auto& face : t.faces()) {
      cv::ellipse(img, face.region, cv::Scalar(0, 0, 255), 1);
      cv::rectangle(img, face.last_detection.box, cv::Scalar(0, 255, 0), 1);
      for (auto k : face.last_detection.keypoints) cv::circle(img, k, 2, cv::Scalar(255, 0, 0), -1);
    }
    cv::imwrite("/tmp/face-xcheck/ell_" + name, img);
  }
}

}  // namespace
}  // namespace veil
