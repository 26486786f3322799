#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace veil::tflite {

// A validated, flatbuffer-free view of one TFLite subgraph. Every index in here has been
// bounds-checked by the reader; constant data spans point into TfliteGraph::file_bytes.

enum class TensorType { kFloat32, kFloat16, kInt32 };
enum class Padding { kSame, kValid };
enum class Activation { kNone, kRelu, kRelu6 };

enum class OpKind {
  kAdd,
  kAveragePool2d,
  kConcatenation,
  kConv2d,
  kDepthwiseConv2d,
  kDepthToSpace,
  kDequantize,
  kDensify,
  kHardSwish,
  kLogistic,
  kMaxPool2d,
  kMean,
  kMul,
  kPad,
  kRelu,
  kRelu6,
  kReshape,
  kResizeBilinear,
  kTransposeConvBias,  // MediaPipe's custom Convolution2DTransposeBias
};

const char* toString(OpKind kind);

struct SparseDimension {
  bool dense = true;
  int dense_size = 0;
  std::vector<int> segments;
  std::vector<int> indices;
};

struct Sparsity {
  std::vector<int> traversal_order;
  std::vector<int> block_map;
  std::vector<SparseDimension> dims;
};

struct Tensor {
  std::string name;
  std::vector<int> shape;
  TensorType type = TensorType::kFloat32;
  std::span<const std::uint8_t> data;  // empty for activations
  bool has_sparsity = false;
  Sparsity sparsity;

  bool isConstant() const { return !data.empty(); }
  std::int64_t elementCount() const;
};

struct OpOptions {
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int filter_w = 0, filter_h = 0;
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;
  int axis = 0;
  bool keep_dims = false;
  bool align_corners = false;
  bool half_pixel_centers = false;
  int block_size = 0;
};

struct Operator {
  OpKind kind = OpKind::kAdd;
  std::vector<int> inputs;  // -1 marks an omitted optional input
  std::vector<int> outputs;
  OpOptions options;
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;
  std::vector<int> inputs;
  std::vector<int> outputs;
};

}  // namespace veil::tflite
