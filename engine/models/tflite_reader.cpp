#include "tflite_reader.h"

#include <flatbuffers/flatbuffers.h>

#include <limits>

#include "model_error.h"
#include "tflite_subset_generated.h"

namespace veil::tflite {
namespace {

namespace fb = veil::tflite::fb;

// TFLite builtin operator codes (schema.fbs, enum BuiltinOperator).
enum BuiltinCode : int {
  kCodeAdd = 0,
  kCodeAveragePool2d = 1,
  kCodeConcatenation = 2,
  kCodeConv2d = 3,
  kCodeDepthwiseConv2d = 4,
  kCodeDepthToSpace = 5,
  kCodeDequantize = 6,
  kCodeLogistic = 14,
  kCodeMaxPool2d = 17,
  kCodeMul = 18,
  kCodeRelu = 19,
  kCodeRelu6 = 21,
  kCodeReshape = 22,
  kCodeResizeBilinear = 23,
  kCodeCustom = 32,
  kCodePad = 34,
  kCodeMean = 40,
  kCodeHardSwish = 117,
  kCodeDensify = 124,
};

constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 26;
constexpr int kMaxDimension = 1 << 16;
constexpr int kMaxStride = 1024;  // global pools use a stride equal to the input size

[[noreturn]] void fail(const std::string& label, const std::string& what) {
  throw ModelError(label + ": " + what);
}

std::vector<int> toVector(const flatbuffers::Vector<int32_t>* values) {
  std::vector<int> out;
  if (values != nullptr) out.assign(values->begin(), values->end());
  return out;
}

std::size_t elementSize(TensorType type) {
  return type == TensorType::kFloat16 ? 2 : 4;
}

TensorType mapType(fb::TensorType type, const std::string& label, const std::string& tensor) {
  switch (type) {
    case fb::TensorType_FLOAT32:
      return TensorType::kFloat32;
    case fb::TensorType_FLOAT16:
      return TensorType::kFloat16;
    case fb::TensorType_INT32:
      return TensorType::kInt32;
    default:
      fail(label, "tensor '" + tensor + "' has unsupported element type " +
                      std::to_string(static_cast<int>(type)) + " (only float32, float16, int32)");
  }
}

Activation mapActivation(fb::ActivationFunctionType act, const std::string& where) {
  switch (act) {
    case fb::ActivationFunctionType_NONE:
      return Activation::kNone;
    case fb::ActivationFunctionType_RELU:
      return Activation::kRelu;
    case fb::ActivationFunctionType_RELU6:
      return Activation::kRelu6;
    default:
      throw ModelError(where + ": unsupported fused activation " +
                       std::to_string(static_cast<int>(act)));
  }
}

void checkStride(int stride_w, int stride_h, const std::string& where) {
  if (stride_w < 1 || stride_h < 1 || stride_w > kMaxStride || stride_h > kMaxStride) {
    throw ModelError(where + ": unsupported stride " + std::to_string(stride_w) + "x" +
                     std::to_string(stride_h));
  }
}

std::vector<int> readSparseIndex(fb::SparseIndexVector type, const void* table) {
  std::vector<int> out;
  if (table == nullptr) return out;
  switch (type) {
    case fb::SparseIndexVector_Int32Vector: {
      const auto* v = static_cast<const fb::Int32Vector*>(table)->values();
      if (v != nullptr) out.assign(v->begin(), v->end());
      break;
    }
    case fb::SparseIndexVector_Uint16Vector: {
      const auto* v = static_cast<const fb::Uint16Vector*>(table)->values();
      if (v != nullptr) out.assign(v->begin(), v->end());
      break;
    }
    case fb::SparseIndexVector_Uint8Vector: {
      const auto* v = static_cast<const fb::Uint8Vector*>(table)->values();
      if (v != nullptr) out.assign(v->begin(), v->end());
      break;
    }
    default:
      break;
  }
  return out;
}

Tensor readTensor(const fb::Tensor& t, const fb::Model& model, std::size_t index,
                  const std::string& label) {
  Tensor tensor;
  tensor.name = t.name() != nullptr ? t.name()->str() : "#" + std::to_string(index);
  tensor.shape = toVector(t.shape());
  tensor.type = mapType(t.type(), label, tensor.name);
  std::int64_t count = 1;
  for (const int dim : tensor.shape) {
    if (dim < 1 || dim > kMaxDimension) {
      fail(label, "tensor '" + tensor.name + "' has unsupported dimension " + std::to_string(dim));
    }
    count *= dim;
    if (count > kMaxTensorElements) fail(label, "tensor '" + tensor.name + "' is too large");
  }
  const auto* buffers = model.buffers();
  const std::uint32_t buffer_index = t.buffer();
  if (buffers == nullptr || buffer_index >= buffers->size()) {
    fail(label, "tensor '" + tensor.name + "' refers to a missing buffer");
  }
  const auto* data = buffers->Get(buffer_index)->data();
  if (data != nullptr && data->size() > 0) {
    tensor.data = {data->data(), data->size()};
  }
  if (const auto* sparsity = t.sparsity(); sparsity != nullptr) {
    tensor.has_sparsity = true;
    tensor.sparsity.traversal_order = toVector(sparsity->traversal_order());
    tensor.sparsity.block_map = toVector(sparsity->block_map());
    if (const auto* dims = sparsity->dim_metadata(); dims != nullptr) {
      for (const auto* dim : *dims) {
        SparseDimension d;
        d.dense = dim->format() == fb::DimensionType_DENSE;
        d.dense_size = dim->dense_size();
        d.segments = readSparseIndex(dim->array_segments_type(), dim->array_segments());
        d.indices = readSparseIndex(dim->array_indices_type(), dim->array_indices());
        tensor.sparsity.dims.push_back(std::move(d));
      }
    }
  } else if (tensor.isConstant()) {
    const std::size_t expected = static_cast<std::size_t>(count) * elementSize(tensor.type);
    if (tensor.data.size() != expected) {
      fail(label, "tensor '" + tensor.name + "' holds " + std::to_string(tensor.data.size()) +
                      " bytes, its shape needs " + std::to_string(expected));
    }
  }
  return tensor;
}

template <typename Options>
const Options* requireOptions(const Options* options, const std::string& where) {
  if (options == nullptr) throw ModelError(where + ": missing or mismatched builtin options");
  return options;
}

// CONV_2D, DEPTHWISE_CONV_2D and the 2-D pools share padding, stride and fused activation
// (the generated option tables are distinct types with the same accessors).
template <typename WindowOptions>
void readWindowOptions(const WindowOptions& opt, OpOptions& o, const std::string& where) {
  o.padding = opt.padding() == fb::Padding_VALID ? Padding::kValid : Padding::kSame;
  o.stride_w = opt.stride_w();
  o.stride_h = opt.stride_h();
  checkStride(o.stride_w, o.stride_h, where);
  o.activation = mapActivation(opt.fused_activation_function(), where);
}

template <typename ConvOptions>
void refuseDilation(const ConvOptions& opt, const char* op_name, const std::string& where) {
  if (opt.dilation_w_factor() != 1 || opt.dilation_h_factor() != 1) {
    throw ModelError(where + ": dilated " + op_name + " is not implemented");
  }
}

void readCustomTransposeConvOptions(const fb::Operator& op, Operator& out,
                                    const std::string& where) {
  // The custom op stores TfLiteTransposeConvParams raw: int32 padding (1 SAME, 2 VALID),
  // int32 stride_w, int32 stride_h, little endian.
  const auto* raw = op.custom_options();
  if (raw == nullptr || raw->size() != 12) {
    throw ModelError(where + ": Convolution2DTransposeBias options must be 12 bytes");
  }
  auto word = [&](int i) {
    std::uint32_t v = 0;
    for (int b = 3; b >= 0; --b)
      v = (v << 8) | raw->Get(static_cast<flatbuffers::uoffset_t>(i * 4 + b));
    return static_cast<std::int32_t>(v);
  };
  const int padding = word(0);
  if (padding != 1 && padding != 2) {
    throw ModelError(where + ": unsupported Convolution2DTransposeBias padding " +
                     std::to_string(padding));
  }
  out.options.padding = padding == 1 ? Padding::kSame : Padding::kValid;
  out.options.stride_w = word(1);
  out.options.stride_h = word(2);
  checkStride(out.options.stride_w, out.options.stride_h, where);
}

Operator readOperator(const fb::Operator& op, const fb::Model& model, std::size_t index,
                      std::size_t tensor_count, const std::string& label) {
  const std::string where = label + ": operator #" + std::to_string(index);
  const auto* codes = model.operator_codes();
  if (codes == nullptr || op.opcode_index() >= codes->size()) {
    throw ModelError(where + " refers to a missing operator code");
  }
  const fb::OperatorCode& code = *codes->Get(op.opcode_index());
  const int builtin = std::max<int>(code.builtin_code(), code.deprecated_builtin_code());

  Operator out;
  out.inputs = toVector(op.inputs());
  out.outputs = toVector(op.outputs());
  for (const int t : out.inputs) {
    if (t < -1 || t >= static_cast<int>(tensor_count))
      throw ModelError(where + ": bad input index");
  }
  if (out.outputs.empty()) throw ModelError(where + ": no outputs");
  for (const int t : out.outputs) {
    if (t < 0 || t >= static_cast<int>(tensor_count))
      throw ModelError(where + ": bad output index");
  }

  OpOptions& o = out.options;
  switch (builtin) {
    case kCodeAdd: {
      out.kind = OpKind::kAdd;
      const auto* opt = op.builtin_options_as_AddOptions();
      if (opt != nullptr) o.activation = mapActivation(opt->fused_activation_function(), where);
      break;
    }
    case kCodeMul: {
      out.kind = OpKind::kMul;
      const auto* opt = op.builtin_options_as_MulOptions();
      if (opt != nullptr) o.activation = mapActivation(opt->fused_activation_function(), where);
      break;
    }
    case kCodeConv2d: {
      out.kind = OpKind::kConv2d;
      const auto* opt = requireOptions(op.builtin_options_as_Conv2DOptions(), where);
      refuseDilation(*opt, "CONV_2D", where);
      readWindowOptions(*opt, o, where);
      break;
    }
    case kCodeDepthwiseConv2d: {
      out.kind = OpKind::kDepthwiseConv2d;
      const auto* opt = requireOptions(op.builtin_options_as_DepthwiseConv2DOptions(), where);
      refuseDilation(*opt, "DEPTHWISE_CONV_2D", where);
      readWindowOptions(*opt, o, where);
      o.depth_multiplier = opt->depth_multiplier();
      break;
    }
    case kCodeAveragePool2d:
    case kCodeMaxPool2d: {
      out.kind = builtin == kCodeMaxPool2d ? OpKind::kMaxPool2d : OpKind::kAveragePool2d;
      const auto* opt = requireOptions(op.builtin_options_as_Pool2DOptions(), where);
      readWindowOptions(*opt, o, where);
      o.filter_w = opt->filter_width();
      o.filter_h = opt->filter_height();
      if (o.filter_w < 1 || o.filter_h < 1 || o.filter_w > kMaxDimension ||
          o.filter_h > kMaxDimension) {
        throw ModelError(where + ": bad pooling filter size");
      }
      break;
    }
    case kCodeConcatenation: {
      out.kind = OpKind::kConcatenation;
      const auto* opt = requireOptions(op.builtin_options_as_ConcatenationOptions(), where);
      o.axis = opt->axis();
      o.activation = mapActivation(opt->fused_activation_function(), where);
      break;
    }
    case kCodeResizeBilinear: {
      out.kind = OpKind::kResizeBilinear;
      const auto* opt = op.builtin_options_as_ResizeBilinearOptions();
      if (opt != nullptr) {
        o.align_corners = opt->align_corners();
        o.half_pixel_centers = opt->half_pixel_centers();
      }
      break;
    }
    case kCodeReshape:
      out.kind = OpKind::kReshape;
      break;
    case kCodeMean: {
      out.kind = OpKind::kMean;
      const auto* opt = op.builtin_options_as_ReducerOptions();
      o.keep_dims = opt != nullptr && opt->keep_dims();
      break;
    }
    case kCodeDepthToSpace: {
      out.kind = OpKind::kDepthToSpace;
      const auto* opt = requireOptions(op.builtin_options_as_DepthToSpaceOptions(), where);
      o.block_size = opt->block_size();
      if (o.block_size < 1 || o.block_size > 64) {
        throw ModelError(where + ": bad DEPTH_TO_SPACE block size");
      }
      break;
    }
    case kCodePad:
      out.kind = OpKind::kPad;
      break;
    case kCodeDequantize:
      out.kind = OpKind::kDequantize;
      break;
    case kCodeDensify:
      out.kind = OpKind::kDensify;
      break;
    case kCodeLogistic:
      out.kind = OpKind::kLogistic;
      break;
    case kCodeRelu:
      out.kind = OpKind::kRelu;
      break;
    case kCodeRelu6:
      out.kind = OpKind::kRelu6;
      break;
    case kCodeHardSwish:
      out.kind = OpKind::kHardSwish;
      break;
    case kCodeCustom: {
      const std::string name = code.custom_code() != nullptr ? code.custom_code()->str() : "";
      if (name != "Convolution2DTransposeBias") {
        throw ModelError(where + ": unsupported custom operator '" + name + "'");
      }
      out.kind = OpKind::kTransposeConvBias;
      readCustomTransposeConvOptions(op, out, where);
      break;
    }
    default:
      throw ModelError(where + ": unsupported TFLite operator (builtin code " +
                       std::to_string(builtin) + ")");
  }
  return out;
}

}  // namespace

std::int64_t Tensor::elementCount() const {
  std::int64_t count = 1;
  for (const int dim : shape) count *= dim;
  return count;
}

const char* toString(OpKind kind) {
  switch (kind) {
    case OpKind::kAdd:
      return "ADD";
    case OpKind::kAveragePool2d:
      return "AVERAGE_POOL_2D";
    case OpKind::kConcatenation:
      return "CONCATENATION";
    case OpKind::kConv2d:
      return "CONV_2D";
    case OpKind::kDepthwiseConv2d:
      return "DEPTHWISE_CONV_2D";
    case OpKind::kDepthToSpace:
      return "DEPTH_TO_SPACE";
    case OpKind::kDequantize:
      return "DEQUANTIZE";
    case OpKind::kDensify:
      return "DENSIFY";
    case OpKind::kHardSwish:
      return "HARD_SWISH";
    case OpKind::kLogistic:
      return "LOGISTIC";
    case OpKind::kMaxPool2d:
      return "MAX_POOL_2D";
    case OpKind::kMean:
      return "MEAN";
    case OpKind::kMul:
      return "MUL";
    case OpKind::kPad:
      return "PAD";
    case OpKind::kRelu:
      return "RELU";
    case OpKind::kRelu6:
      return "RELU6";
    case OpKind::kReshape:
      return "RESHAPE";
    case OpKind::kResizeBilinear:
      return "RESIZE_BILINEAR";
    case OpKind::kTransposeConvBias:
      return "Convolution2DTransposeBias";
  }
  return "?";
}

Graph readGraph(const std::vector<std::uint8_t>& bytes, const std::string& label) {
  if (bytes.size() < 16) fail(label, "file too small to be a TFLite model");
  if (bytes.size() > kMaxModelBytes) fail(label, "file larger than the loader accepts");
  if (!fb::ModelBufferHasIdentifier(bytes.data())) {
    fail(label, "not a TFLite model (missing TFL3 identifier)");
  }
  flatbuffers::Verifier::Options verifier_options;
  verifier_options.max_depth = 32;
  verifier_options.max_tables = 1'000'000;
  verifier_options.check_alignment = true;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), verifier_options);
  if (!fb::VerifyModelBuffer(verifier)) {
    fail(label, "corrupt TFLite flatbuffer (verification failed)");
  }
  const fb::Model& model = *fb::GetModel(bytes.data());
  const auto* subgraphs = model.subgraphs();
  if (subgraphs == nullptr || subgraphs->size() != 1) {
    fail(label, "expected exactly one subgraph");
  }
  const fb::SubGraph& sub = *subgraphs->Get(0);
  if (sub.tensors() == nullptr || sub.operators() == nullptr) fail(label, "empty subgraph");

  Graph graph;
  graph.tensors.reserve(sub.tensors()->size());
  for (flatbuffers::uoffset_t i = 0; i < sub.tensors()->size(); ++i) {
    graph.tensors.push_back(readTensor(*sub.tensors()->Get(i), model, i, label));
  }
  const std::size_t tensor_count = graph.tensors.size();
  graph.operators.reserve(sub.operators()->size());
  for (flatbuffers::uoffset_t i = 0; i < sub.operators()->size(); ++i) {
    graph.operators.push_back(
        readOperator(*sub.operators()->Get(i), model, i, tensor_count, label));
  }
  graph.inputs = toVector(sub.inputs());
  graph.outputs = toVector(sub.outputs());
  if (graph.inputs.size() != 1) fail(label, "expected exactly one graph input");
  if (graph.outputs.empty()) fail(label, "graph has no outputs");
  for (const int t : graph.inputs) {
    if (t < 0 || t >= static_cast<int>(tensor_count)) fail(label, "bad graph input index");
  }
  for (const int t : graph.outputs) {
    if (t < 0 || t >= static_cast<int>(tensor_count)) fail(label, "bad graph output index");
  }
  return graph;
}

}  // namespace veil::tflite
