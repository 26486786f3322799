// The loader must reproduce MediaPipe's own model outputs (tests/data/selfie-tensors, produced
// by Google's WASM build in Chromium) when fed MediaPipe's exact input tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "model_registry.h"
#include "test_support.h"
#include "tflite_net.h"
#include "tflite_reader.h"

namespace veil {
namespace {

class SelfieGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(SelfieGolden, OutputMatchesMediaPipeWithin1e3) {
  const auto bytes = loadVerifiedModel(ModelId::kSelfieGeneral, test::modelsDir());
  TfliteNet net(tflite::readGraph(bytes, "selfie_segmentation.tflite"), "selfie");
  const auto dir = test::dataDir() / "selfie-tensors";
  const auto input = test::readFloats(dir / (GetParam() + ".input.f32"));
  const auto expected = test::readFloats(dir / (GetParam() + ".tensor.f32"));
  ASSERT_EQ(input.size(), 256u * 256u * 3u);
  ASSERT_EQ(expected.size(), 256u * 256u);
  const cv::Mat input_mat(1, static_cast<int>(input.size()), CV_32F,
                          const_cast<float*>(input.data()));
  const auto outputs = net.forward(input_mat);
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_EQ(outputs[0].total(), expected.size());
  const float* actual = outputs[0].ptr<float>();
  double max_error = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    max_error = std::max(max_error, static_cast<double>(std::abs(actual[i] - expected[i])));
  }
  RecordProperty("max_abs_error", std::to_string(max_error));
  std::cout << GetParam() << ": max |ours - MediaPipe| = " << max_error << "\n";
  EXPECT_LT(max_error, 1e-3) << GetParam();
}

// Our input builder (plain bilinear resize of the whole frame, RGB / 255) equals MediaPipe's.
TEST_P(SelfieGolden, InputTensorMatchesMediaPipe) {
  const cv::Mat frame = test::readImage(test::referenceDir() / "frames-360p" / GetParam());
  cv::Mat small, rgb, ours;
  cv::resize(frame, small, cv::Size(256, 256), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(small, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(ours, CV_32FC3, 1.0 / 255.0);
  const auto theirs =
      test::readFloats(test::dataDir() / "selfie-tensors" / (GetParam() + ".input.f32"));
  ASSERT_EQ(theirs.size(), ours.total() * 3);
  double max_error = 0;
  const float* p = ours.ptr<float>();
  for (std::size_t i = 0; i < theirs.size(); ++i) {
    max_error = std::max(max_error, static_cast<double>(std::abs(p[i] - theirs[i])));
  }
  EXPECT_LT(max_error, 2.0 / 255.0) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Reference, SelfieGolden, ::testing::Values("messi5.png", "astronaut.png"));

}  // namespace
}  // namespace veil
