#include "avatar.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace veil {

cv::Mat drawAvatar(cv::Size size) {
  cv::Mat image(size, CV_8UC3, cv::Scalar(70, 56, 44));
  const int unit = std::max(1, std::min(size.width, size.height) / 8);
  const cv::Point centre(size.width / 2, size.height / 2);
  const cv::Scalar figure(170, 150, 132);
  cv::ellipse(image, cv::Point(centre.x, centre.y + 4 * unit), cv::Size(3 * unit, 2 * unit + unit),
              0, 180, 360, figure, cv::FILLED, cv::LINE_AA);
  cv::circle(image, cv::Point(centre.x, centre.y - unit / 2), unit + unit / 2, figure, cv::FILLED,
             cv::LINE_AA);
  return image;
}

}  // namespace veil
