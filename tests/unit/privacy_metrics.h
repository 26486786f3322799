#pragma once

#include <opencv2/core/mat.hpp>

namespace veil::test {

// design.md §6: "nothing survives" in a protected region means no 8x8 block (fully inside the
// region) whose high-pass content correlates above 0.3 with the input's. Returns the number of
// such blocks; `protected_region` is CV_8U (non-zero = must be hidden).
int survivingBlocks(const cv::Mat& input_bgr, const cv::Mat& output_bgr,
                    const cv::Mat& protected_region);

// Mean SSIM (Gaussian 11x11, sigma 1.5, on luma) over the pixels of `region`.
double regionSsim(const cv::Mat& a_bgr, const cv::Mat& b_bgr, const cv::Mat& region);

// Intersection over union of two CV_8U masks (non-zero = set).
double iou(const cv::Mat& a, const cv::Mat& b);

}  // namespace veil::test
