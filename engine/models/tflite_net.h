#pragma once

#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "tflite_graph.h"

namespace veil {

// A TFLite graph rebuilt as an OpenCV DNN network, layer by layer, with TFLite semantics at its
// edges: forward() takes the input tensor in the model's own NHWC layout and returns every
// output in the layout and shape the .tflite file declares. Internally 4-D activations are NCHW.
class TfliteNet {
 public:
  // Throws ModelError naming the operator, option or shape it does not implement.
  TfliteNet(const tflite::Graph& graph, const std::string& label);

  // `input` is a float32 tensor of inputShape() (any cv::Mat with that many floats, contiguous).
  std::vector<cv::Mat> forward(const cv::Mat& input);

  const std::vector<int>& inputShape() const { return input_shape_; }
  const std::vector<std::vector<int>>& outputShapes() const { return output_shapes_; }

 private:
  cv::dnn::Net net_;
  std::vector<int> input_shape_;
  std::vector<std::vector<int>> output_shapes_;
  std::vector<cv::String> output_layers_;
};

}  // namespace veil
