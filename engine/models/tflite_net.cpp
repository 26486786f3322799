#include "tflite_net.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "model_error.h"

namespace veil {
namespace {

using tflite::Activation;
using tflite::Graph;
using tflite::Operator;
using tflite::OpKind;
using tflite::Padding;
using tflite::TensorType;

// Where a TFLite tensor lives inside the OpenCV network. 4-D activations are kept NCHW for
// OpenCV's convolution kernels; anything else keeps TFLite's own row-major layout.
struct Value {
  int layer = -1;
  bool nchw = false;
};

struct Pads {
  int begin = 0;
  int end = 0;
};

// TFLite's padding rule: the output size depends only on input, stride and the padding kind; any
// odd padding goes after the data.
Pads computePads(Padding padding, int in, int kernel, int stride, int& out) {
  if (padding == Padding::kValid) {
    out = (in - kernel + stride) / stride;
    return {};
  }
  out = (in + stride - 1) / stride;
  const int total = std::max((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

std::vector<float> permute4(const std::vector<float>& src, const std::array<int, 4>& dims,
                            const std::array<int, 4>& order) {
  // dst dimension i is src dimension order[i].
  std::array<int, 4> dst_dims{};
  for (int i = 0; i < 4; ++i) dst_dims[i] = dims[order[i]];
  std::array<std::size_t, 4> src_strides{};
  src_strides[3] = 1;
  for (int i = 2; i >= 0; --i) src_strides[i] = src_strides[i + 1] * dims[i + 1];
  std::vector<float> dst(src.size());
  std::size_t k = 0;
  std::array<int, 4> idx{};
  for (idx[0] = 0; idx[0] < dst_dims[0]; ++idx[0])
    for (idx[1] = 0; idx[1] < dst_dims[1]; ++idx[1])
      for (idx[2] = 0; idx[2] < dst_dims[2]; ++idx[2])
        for (idx[3] = 0; idx[3] < dst_dims[3]; ++idx[3]) {
          std::size_t offset = 0;
          for (int i = 0; i < 4; ++i) offset += idx[i] * src_strides[order[i]];
          dst[k++] = src[offset];
        }
  return dst;
}

cv::Mat blob(const std::vector<float>& data, const std::vector<int>& shape) {
  cv::Mat m(static_cast<int>(shape.size()), shape.data(), CV_32F);
  std::memcpy(m.ptr<float>(), data.data(), data.size() * sizeof(float));
  return m;
}

std::string shapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

class NetBuilder {
 public:
  NetBuilder(const Graph& graph, const std::string& label) : graph_(graph), label_(label) {}

  void build(cv::dnn::Net& net, std::vector<cv::String>& output_layers) {
    net_ = &net;
    const int input = graph_.inputs.front();
    const auto& input_tensor = graph_.tensors[input];
    if (input_tensor.isConstant() || input_tensor.type != TensorType::kFloat32) {
      throw ModelError(label_ + ": graph input must be a float32 activation");
    }
    net.setInputsNames({"input"});
    values_[input] = Value{0, false};
    for (std::size_t i = 0; i < graph_.operators.size(); ++i) {
      op_index_ = i;
      addOperator(graph_.operators[i]);
    }
    for (const int t : graph_.outputs) {
      const Value v = plain(t);
      if (v.layer == 0) throw ModelError(label_ + ": graph output is the raw input");
      output_layers.push_back(layer_names_.at(v.layer));
    }
  }

 private:
  std::string where() const {
    return label_ + ": operator #" + std::to_string(op_index_) + " (" +
           tflite::toString(graph_.operators[op_index_].kind) + ")";
  }
  [[noreturn]] void fail(const std::string& what) const { throw ModelError(where() + ": " + what); }

  const std::vector<int>& shapeOf(int t) const { return graph_.tensors[t].shape; }

  int input(const Operator& op, std::size_t i) const {
    if (i >= op.inputs.size() || op.inputs[i] < 0) fail("missing input " + std::to_string(i));
    return op.inputs[i];
  }

  void expectInputs(const Operator& op, std::size_t count) const {
    if (op.inputs.size() != count) fail("expects " + std::to_string(count) + " inputs");
    if (op.outputs.size() != 1) fail("expects one output");
  }

  void expectOutputShape(const Operator& op, const std::vector<int>& shape) const {
    if (shapeOf(op.outputs[0]) != shape) {
      fail("output shape " + shapeText(shapeOf(op.outputs[0])) + " does not match computed " +
           shapeText(shape));
    }
  }

  void expectRank(int t, std::size_t rank) const {
    if (shapeOf(t).size() != rank) {
      fail("tensor '" + graph_.tensors[t].name + "' must have rank " + std::to_string(rank));
    }
  }

  int addLayer(const std::string& type, cv::dnn::LayerParams params,
               const std::vector<Value>& inputs) {
    const std::string name = type + "_" + std::to_string(layer_names_.size());
    params.name = name;
    params.type = type;
    const int id = net_->addLayer(name, type, params);
    layer_names_[id] = name;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      net_->connect(inputs[i].layer, 0, id, static_cast<int>(i));
    }
    return id;
  }

  Value permute(Value v, const std::array<int, 4>& order, bool to_nchw) {
    cv::dnn::LayerParams p;
    p.set("order", cv::dnn::DictValue::arrayInt(order.data(), 4));
    return Value{addLayer("Permute", p, {v}), to_nchw};
  }

  Value produced(int t) const {
    const auto it = values_.find(t);
    if (it == values_.end()) {
      if (graph_.tensors[t].isConstant()) fail("a constant operand is not supported here");
      fail("reads tensor '" + graph_.tensors[t].name + "' before it is produced");
    }
    return it->second;
  }

  Value nchw(int t) {
    expectRank(t, 4);
    const Value v = produced(t);
    if (v.nchw) return v;
    if (const auto it = nchw_cache_.find(t); it != nchw_cache_.end()) return it->second;
    return nchw_cache_[t] = permute(v, {0, 3, 1, 2}, true);
  }

  Value plain(int t) {
    const Value v = produced(t);
    if (!v.nchw) return v;
    if (const auto it = plain_cache_.find(t); it != plain_cache_.end()) return it->second;
    return plain_cache_[t] = permute(v, {0, 2, 3, 1}, false);
  }

  void define(const Operator& op, Value v) {
    if (values_.count(op.outputs[0]) != 0) fail("output tensor is written twice");
    values_[op.outputs[0]] = v;
  }

  Value activate(Value v, Activation activation) {
    if (activation == Activation::kNone) return v;
    cv::dnn::LayerParams p;
    if (activation == Activation::kRelu) return Value{addLayer("ReLU", p, {v}), v.nchw};
    p.set("min_value", 0.0f);
    p.set("max_value", 6.0f);
    return Value{addLayer("ReLU6", p, {v}), v.nchw};
  }

  const std::vector<float>& floatConstant(int t) {
    if (const auto it = float_constants_.find(t); it != float_constants_.end()) return it->second;
    const auto& tensor = graph_.tensors[t];
    if (!tensor.isConstant() || tensor.type != TensorType::kFloat32 || tensor.has_sparsity) {
      fail("tensor '" + tensor.name + "' must be a dense float32 constant");
    }
    std::vector<float> values(static_cast<std::size_t>(tensor.elementCount()));
    std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
    return float_constants_[t] = std::move(values);
  }

  std::vector<int> intConstant(int t) const {
    const auto& tensor = graph_.tensors[t];
    if (!tensor.isConstant() || tensor.type != TensorType::kInt32 || tensor.has_sparsity) {
      fail("tensor '" + tensor.name + "' must be an int32 constant");
    }
    std::vector<int> values(static_cast<std::size_t>(tensor.elementCount()));
    std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(int));
    return values;
  }

  void addOperator(const Operator& op) {
    switch (op.kind) {
      case OpKind::kDequantize:
        return dequantize(op);
      case OpKind::kDensify:
        return fail("DENSIFY (sparse weights) is not implemented by this loader");
      case OpKind::kConv2d:
        return convolution(op, false);
      case OpKind::kDepthwiseConv2d:
        return convolution(op, true);
      case OpKind::kTransposeConvBias:
        return transposeConvolution(op);
      case OpKind::kAveragePool2d:
      case OpKind::kMaxPool2d:
        return pooling(op);
      case OpKind::kMean:
        return mean(op);
      case OpKind::kAdd:
      case OpKind::kMul:
        return binary(op);
      case OpKind::kRelu:
      case OpKind::kRelu6:
      case OpKind::kLogistic:
      case OpKind::kHardSwish:
        return elementwise(op);
      case OpKind::kConcatenation:
        return concatenation(op);
      case OpKind::kReshape:
        return reshape(op);
      case OpKind::kPad:
        return pad(op);
      case OpKind::kResizeBilinear:
        return resize(op);
      case OpKind::kDepthToSpace:
        return depthToSpace(op);
    }
    fail("unsupported operator");
  }

  void dequantize(const Operator& op) {
    expectInputs(op, 1);
    const auto& in = graph_.tensors[input(op, 0)];
    if (!in.isConstant() || in.type != TensorType::kFloat16 || in.has_sparsity) {
      fail("only DEQUANTIZE of dense float16 constants is supported (weights are folded at load)");
    }
    expectOutputShape(op, in.shape);
    const int out = op.outputs[0];
    if (graph_.tensors[out].type != TensorType::kFloat32) fail("output must be float32");
    const auto count = static_cast<int>(in.elementCount());
    cv::Mat half(1, count, CV_16F);
    std::memcpy(half.data, in.data.data(), static_cast<std::size_t>(count) * 2);
    cv::Mat full;
    half.convertTo(full, CV_32F);
    float_constants_[out].assign(full.ptr<float>(), full.ptr<float>() + count);
  }

  Value zeroPad(Value nchw_value, Pads ph, Pads pw) {
    const int paddings[8] = {0, 0, 0, 0, ph.begin, ph.end, pw.begin, pw.end};
    cv::dnn::LayerParams p;
    p.set("paddings", cv::dnn::DictValue::arrayInt(paddings, 8));
    p.set("value", 0.0);
    return Value{addLayer("Padding", p, {nchw_value}), true};
  }

  void convolution(const Operator& op, bool depthwise) {
    expectInputs(op, 3);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto& in_shape = shapeOf(x);
    const auto& w_shape = shapeOf(input(op, 1));
    if (w_shape.size() != 4) fail("weights must be 4-D");
    const int channels = in_shape[3];
    const int kh = w_shape[1], kw = w_shape[2];
    int out_channels = w_shape[0];
    std::vector<float> weights = floatConstant(input(op, 1));
    if (depthwise) {
      if (op.options.depth_multiplier != 1 || w_shape[0] != 1 || w_shape[3] != channels) {
        fail("only depthwise convolution with multiplier 1 is supported");
      }
      out_channels = channels;
      // [1, kh, kw, C] -> [C, 1, kh, kw]
      weights = permute4(weights, {1, kh, kw, channels}, {3, 0, 1, 2});
    } else {
      if (w_shape[3] != channels) fail("weights do not match input channels");
      // [O, kh, kw, I] -> [O, I, kh, kw]
      weights = permute4(weights, {w_shape[0], kh, kw, w_shape[3]}, {0, 3, 1, 2});
    }
    const std::vector<float>& bias = floatConstant(input(op, 2));
    if (static_cast<int>(bias.size()) != out_channels) fail("bias does not match output channels");

    int out_h = 0, out_w = 0;
    const Pads ph = computePads(op.options.padding, in_shape[1], kh, op.options.stride_h, out_h);
    const Pads pw = computePads(op.options.padding, in_shape[2], kw, op.options.stride_w, out_w);
    if (out_h < 1 || out_w < 1) fail("kernel larger than input");
    expectOutputShape(op, {in_shape[0], out_h, out_w, out_channels});

    // OpenCV 4.6 convolutions only pad symmetrically; TFLite's SAME puts the odd pixel after the
    // data, so such inputs get an explicit zero Padding layer first.
    const bool symmetric = ph.begin == ph.end && pw.begin == pw.end;
    const Value conv_input = symmetric ? nchw(x) : zeroPad(nchw(x), ph, pw);
    cv::dnn::LayerParams p;
    p.set("kernel_h", kh);
    p.set("kernel_w", kw);
    p.set("stride_h", op.options.stride_h);
    p.set("stride_w", op.options.stride_w);
    p.set("pad_t", symmetric ? ph.begin : 0);
    p.set("pad_b", symmetric ? ph.end : 0);
    p.set("pad_l", symmetric ? pw.begin : 0);
    p.set("pad_r", symmetric ? pw.end : 0);
    p.set("num_output", out_channels);
    p.set("group", depthwise ? channels : 1);
    p.set("bias_term", true);
    p.blobs = {blob(weights, {out_channels, depthwise ? 1 : channels, kh, kw}),
               blob(bias, {out_channels})};
    const Value conv{addLayer("Convolution", p, {conv_input}), true};
    define(op, activate(conv, op.options.activation));
  }

  void transposeConvolution(const Operator& op) {
    expectInputs(op, 3);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto& in_shape = shapeOf(x);
    const auto& w_shape = shapeOf(input(op, 1));
    if (w_shape.size() != 4 || w_shape[3] != in_shape[3]) fail("weights must be [O, kh, kw, I]");
    const int out_channels = w_shape[0], kh = w_shape[1], kw = w_shape[2];
    const int sh = op.options.stride_h, sw = op.options.stride_w;
    const bool same = op.options.padding == Padding::kSame;
    const int out_h = same ? in_shape[1] * sh : (in_shape[1] - 1) * sh + kh;
    const int out_w = same ? in_shape[2] * sw : (in_shape[2] - 1) * sw + kw;
    expectOutputShape(op, {in_shape[0], out_h, out_w, out_channels});
    // TFLite pads a transposed convolution as if its output were the input of a forward one.
    int unused = 0;
    const Pads ph = computePads(op.options.padding, out_h, kh, sh, unused);
    const Pads pw = computePads(op.options.padding, out_w, kw, sw, unused);
    const int adj_h = out_h - ((in_shape[1] - 1) * sh + kh - ph.begin - ph.end);
    const int adj_w = out_w - ((in_shape[2] - 1) * sw + kw - pw.begin - pw.end);
    if (adj_h < 0 || adj_w < 0 || adj_h >= sh || adj_w >= sw) fail("unsupported output geometry");
    const std::vector<float> bias = floatConstant(input(op, 2));
    if (static_cast<int>(bias.size()) != out_channels) fail("bias does not match output channels");
    // [O, kh, kw, I] -> [I, O, kh, kw]
    const auto weights =
        permute4(floatConstant(input(op, 1)), {out_channels, kh, kw, in_shape[3]}, {3, 0, 1, 2});
    cv::dnn::LayerParams p;
    p.set("kernel_h", kh);
    p.set("kernel_w", kw);
    p.set("stride_h", sh);
    p.set("stride_w", sw);
    p.set("pad_t", ph.begin);
    p.set("pad_b", ph.end);
    p.set("pad_l", pw.begin);
    p.set("pad_r", pw.end);
    p.set("adj_h", adj_h);
    p.set("adj_w", adj_w);
    p.set("num_output", out_channels);
    p.set("bias_term", true);
    p.blobs = {blob(weights, {in_shape[3], out_channels, kh, kw}), blob(bias, {out_channels})};
    define(op, Value{addLayer("Deconvolution", p, {nchw(x)}), true});
  }

  void pooling(const Operator& op) {
    expectInputs(op, 1);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto& s = shapeOf(x);
    const auto& o = op.options;
    int out_h = 0, out_w = 0;
    const Pads ph = computePads(o.padding, s[1], o.filter_h, o.stride_h, out_h);
    const Pads pw = computePads(o.padding, s[2], o.filter_w, o.stride_w, out_w);
    if (out_h < 1 || out_w < 1) fail("filter larger than input");
    expectOutputShape(op, {s[0], out_h, out_w, s[3]});
    cv::dnn::LayerParams p;
    if (ph.begin != ph.end || pw.begin != pw.end) fail("asymmetric pooling padding");
    p.set("pool", op.kind == OpKind::kMaxPool2d ? "max" : "ave");
    p.set("kernel_h", o.filter_h);
    p.set("kernel_w", o.filter_w);
    p.set("stride_h", o.stride_h);
    p.set("stride_w", o.stride_w);
    p.set("pad_t", ph.begin);
    p.set("pad_b", ph.end);
    p.set("pad_l", pw.begin);
    p.set("pad_r", pw.end);
    p.set("ceil_mode", false);
    p.set("ave_pool_padded_area", false);  // TFLite averages over real pixels only
    const Value pooled{addLayer("Pooling", p, {nchw(x)}), true};
    define(op, activate(pooled, o.activation));
  }

  void mean(const Operator& op) {
    expectInputs(op, 2);
    const int x = input(op, 0);
    expectRank(x, 4);
    auto axes = intConstant(input(op, 1));
    for (int& a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<int>{1, 2} || !op.options.keep_dims) {
      fail("only MEAN over height and width with keep_dims is supported");
    }
    const auto& s = shapeOf(x);
    expectOutputShape(op, {s[0], 1, 1, s[3]});
    cv::dnn::LayerParams p;
    p.set("pool", "ave");
    p.set("global_pooling", true);
    define(op, Value{addLayer("Pooling", p, {nchw(x)}), true});
  }

  void binary(const Operator& op) {
    expectInputs(op, 2);
    int a = input(op, 0), b = input(op, 1);
    const bool is_mul = op.kind == OpKind::kMul;
    if (graph_.tensors[a].isConstant() || graph_.tensors[b].isConstant() ||
        float_constants_.count(a) || float_constants_.count(b)) {
      fail("constant operands are not supported");
    }
    if (shapeOf(a) == shapeOf(b)) {
      expectOutputShape(op, shapeOf(a));
      cv::dnn::LayerParams p;
      p.set("operation", is_mul ? "prod" : "sum");
      const bool four_d = shapeOf(a).size() == 4;
      const Value va = four_d ? nchw(a) : plain(a);
      const Value vb = four_d ? nchw(b) : plain(b);
      define(op, activate(Value{addLayer("Eltwise", p, {va, vb}), four_d}, op.options.activation));
      return;
    }
    // Squeeze-and-excitation: [1,H,W,C] * [1,1,1,C] scales each channel.
    if (is_mul && shapeOf(a).size() == 4 && shapeOf(b).size() == 4) {
      if (shapeOf(a)[1] == 1 && shapeOf(a)[2] == 1) std::swap(a, b);
      const auto& sa = shapeOf(a);
      const auto& sb = shapeOf(b);
      if (sb[0] == sa[0] && sb[1] == 1 && sb[2] == 1 && sb[3] == sa[3]) {
        expectOutputShape(op, sa);
        cv::dnn::LayerParams p;
        p.set("axis", 1);
        p.set("bias_term", false);
        const Value scaled{addLayer("Scale", p, {nchw(a), nchw(b)}), true};
        define(op, activate(scaled, op.options.activation));
        return;
      }
    }
    fail("broadcast between " + shapeText(shapeOf(a)) + " and " + shapeText(shapeOf(b)) +
         " is not supported");
  }

  void elementwise(const Operator& op) {
    expectInputs(op, 1);
    const int x = input(op, 0);
    expectOutputShape(op, shapeOf(x));
    const Value v = produced(x);
    cv::dnn::LayerParams p;
    std::string type;
    switch (op.kind) {
      case OpKind::kRelu:
        type = "ReLU";
        break;
      case OpKind::kRelu6:
        type = "ReLU6";
        p.set("min_value", 0.0f);
        p.set("max_value", 6.0f);
        break;
      case OpKind::kLogistic:
        type = "Sigmoid";
        break;
      default:
        type = "HardSwish";
        break;
    }
    define(op, Value{addLayer(type, p, {v}), v.nchw});
  }

  void concatenation(const Operator& op) {
    if (op.inputs.empty() || op.outputs.size() != 1) fail("bad arity");
    const std::size_t rank = shapeOf(op.outputs[0]).size();
    int axis = op.options.axis < 0 ? op.options.axis + static_cast<int>(rank) : op.options.axis;
    if (axis < 0 || axis >= static_cast<int>(rank)) fail("bad axis");
    std::vector<int> expected = shapeOf(input(op, 0));
    if (expected.size() != rank) fail("inputs must have the output's rank");
    expected[axis] = 0;
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
      const auto& s = shapeOf(input(op, i));
      if (s.size() != rank) fail("inputs must have the output's rank");
      for (std::size_t d = 0; d < rank; ++d) {
        if (static_cast<int>(d) != axis && s[d] != expected[d]) fail("input shapes disagree");
      }
      expected[axis] += s[axis];
    }
    expectOutputShape(op, expected);
    std::vector<Value> inputs;
    const bool four_d = rank == 4;
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
      inputs.push_back(four_d ? nchw(input(op, i)) : plain(input(op, i)));
    }
    if (four_d) axis = std::array<int, 4>{0, 2, 3, 1}[axis];
    cv::dnn::LayerParams p;
    p.set("axis", axis);
    define(op, activate(Value{addLayer("Concat", p, inputs), four_d}, op.options.activation));
  }

  void reshape(const Operator& op) {
    if (op.inputs.empty() || op.outputs.size() != 1) fail("bad arity");
    const int x = input(op, 0);
    const auto& out_shape = shapeOf(op.outputs[0]);
    if (graph_.tensors[x].elementCount() != graph_.tensors[op.outputs[0]].elementCount()) {
      fail("element count changes");
    }
    cv::dnn::LayerParams p;
    p.set("dim",
          cv::dnn::DictValue::arrayInt(out_shape.data(), static_cast<int>(out_shape.size())));
    define(op, Value{addLayer("Reshape", p, {plain(x)}), false});
  }

  void pad(const Operator& op) {
    expectInputs(op, 2);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto pads = intConstant(input(op, 1));
    if (pads.size() != 8) fail("paddings must be [4,2]");
    std::vector<int> out = shapeOf(x);
    for (int d = 0; d < 4; ++d) {
      if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 || pads[2 * d] > 4096 || pads[2 * d + 1] > 4096) {
        fail("bad padding");
      }
      out[d] += pads[2 * d] + pads[2 * d + 1];
    }
    expectOutputShape(op, out);
    // NHWC rows -> NCHW order.
    const std::array<int, 4> nchw_dims{0, 3, 1, 2};
    std::vector<int> paddings;
    for (const int d : nchw_dims) {
      paddings.push_back(pads[2 * d]);
      paddings.push_back(pads[2 * d + 1]);
    }
    cv::dnn::LayerParams p;
    p.set("paddings", cv::dnn::DictValue::arrayInt(paddings.data(), 8));
    p.set("value", 0.0);
    define(op, Value{addLayer("Padding", p, {nchw(x)}), true});
  }

  void resize(const Operator& op) {
    expectInputs(op, 2);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto size = intConstant(input(op, 1));
    if (size.size() != 2 || size[0] < 1 || size[1] < 1) fail("size must be [h, w]");
    const auto& s = shapeOf(x);
    expectOutputShape(op, {s[0], size[0], size[1], s[3]});
    if (op.options.align_corners && op.options.half_pixel_centers) fail("conflicting options");
    cv::dnn::LayerParams p;
    p.set("interpolation", "bilinear");
    p.set("height", size[0]);
    p.set("width", size[1]);
    p.set("align_corners", op.options.align_corners);
    p.set("half_pixel_centers", op.options.half_pixel_centers);
    define(op, Value{addLayer("Resize", p, {nchw(x)}), true});
  }

  void depthToSpace(const Operator& op) {
    expectInputs(op, 1);
    const int x = input(op, 0);
    expectRank(x, 4);
    const auto& s = shapeOf(x);
    const int b = op.options.block_size;
    if (s[3] % (b * b) != 0) fail("channels not divisible by block_size^2");
    const int c = s[3] / (b * b);
    expectOutputShape(op, {s[0], s[1] * b, s[2] * b, c});
    // NHWC: [N,H,W,b,b,C'] -> [N,H,b,W,b,C'] -> [N,H*b,W*b,C'].
    cv::dnn::LayerParams split;
    const std::array<int, 6> six{s[0], s[1], s[2], b, b, c};
    split.set("dim", cv::dnn::DictValue::arrayInt(six.data(), 6));
    const Value a{addLayer("Reshape", split, {plain(x)}), false};
    cv::dnn::LayerParams order;
    const std::array<int, 6> perm{0, 1, 3, 2, 4, 5};
    order.set("order", cv::dnn::DictValue::arrayInt(perm.data(), 6));
    const Value t{addLayer("Permute", order, {a}), false};
    cv::dnn::LayerParams merge;
    const auto& out = shapeOf(op.outputs[0]);
    merge.set("dim", cv::dnn::DictValue::arrayInt(out.data(), 4));
    define(op, Value{addLayer("Reshape", merge, {t}), false});
  }

  const Graph& graph_;
  const std::string& label_;
  cv::dnn::Net* net_ = nullptr;
  std::size_t op_index_ = 0;
  std::map<int, Value> values_;
  std::map<int, Value> nchw_cache_;
  std::map<int, Value> plain_cache_;
  std::map<int, std::vector<float>> float_constants_;
  std::map<int, std::string> layer_names_;
};

}  // namespace

TfliteNet::TfliteNet(const tflite::Graph& graph, const std::string& label) {
  NetBuilder builder(graph, label);
  try {
    builder.build(net_, output_layers_);
  } catch (const cv::Exception& e) {
    throw ModelError(label + ": OpenCV refused the network: " + e.what());
  }
  net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  input_shape_ = graph.tensors[graph.inputs.front()].shape;
  for (const int t : graph.outputs) output_shapes_.push_back(graph.tensors[t].shape);
}

std::vector<cv::Mat> TfliteNet::forward(const cv::Mat& input) {
  std::size_t expected = 1;
  for (const int d : input_shape_) expected *= static_cast<std::size_t>(d);
  if (input.depth() != CV_32F || input.total() * input.channels() != expected ||
      !input.isContinuous()) {
    throw ModelError("model input must be " + std::to_string(expected) + " contiguous floats");
  }
  const cv::Mat shaped(static_cast<int>(input_shape_.size()), input_shape_.data(), CV_32F,
                       const_cast<void*>(static_cast<const void*>(input.ptr<float>())));
  net_.setInput(shaped);
  std::vector<cv::Mat> outs;
  net_.forward(outs, output_layers_);
  std::vector<cv::Mat> result;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    const auto& shape = output_shapes_[i];
    result.push_back(outs[i].reshape(1, static_cast<int>(shape.size()), shape.data()).clone());
  }
  return result;
}

}  // namespace veil
