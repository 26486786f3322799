// The TFLite reader refuses, with a clear error, any operator, option, type or shape it does not
// implement (design.md §4; threat model claim C13). Each test takes a real model file, rewrites
// one field of its flatbuffer in place and reads it again. The hash check (model_registry) would
// refuse these files first; here the reader itself must refuse them.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>

#include "model_error.h"
#include "model_registry.h"
#include "test_support.h"
#include "tflite_net.h"
#include "tflite_reader.h"
#include "tflite_subset_generated.h"

namespace veil {
namespace {

namespace fb = tflite::fb;

// Builtin codes from TFLite's schema that the reader does not implement.
constexpr std::int32_t kFullyConnected = 9;
constexpr std::int8_t kActivationTanh = 4;
constexpr std::int8_t kTypeInt8 = 9;

class ModelBytes {
 public:
  explicit ModelBytes(ModelId id = ModelId::kSelfieLandscape)
      : label_(modelSpec(id).file_name), bytes_(loadVerifiedModel(id, test::modelsDir())) {}

  const std::string& label() const { return label_; }
  const fb::Model& model() const { return *fb::GetModel(bytes_.data()); }
  const fb::SubGraph& subgraph() const { return *model().subgraphs()->Get(0); }

  // Where a scalar field of a flatbuffer table is stored, as an offset into the file; 0 when the
  // writer left it out (it then has its default, and cannot be rewritten in place). Layout: a
  // table starts with an int32 offset back to its vtable; the vtable holds its own size (uint16)
  // and, at `vtable_offset`, the field's uint16 offset from the table's start (0 = absent).
  std::size_t fieldOffset(const void* table, flatbuffers::voffset_t vtable_offset) const {
    const auto* start = static_cast<const std::uint8_t*>(table);
    const std::uint8_t* vtable = start - flatbuffers::ReadScalar<flatbuffers::soffset_t>(start);
    if (vtable_offset >= flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable)) return 0;
    const auto field = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable + vtable_offset);
    return field == 0 ? 0 : offsetOf(start + field);
  }
  std::size_t offsetOf(const void* inside) const {
    return static_cast<std::size_t>(static_cast<const std::uint8_t*>(inside) - bytes_.data());
  }

  template <typename T>
  void write(std::size_t offset, T value) {
    ASSERT_GT(offset, 0u);
    ASSERT_LE(offset + sizeof(T), bytes_.size());
    std::memcpy(bytes_.data() + offset, &value, sizeof(T));
  }

  // The error reading (and building) these bytes gives; empty when they load.
  std::string loadError() const {
    try {
      TfliteNet net(tflite::readGraph(bytes_, label_), label_);
      return {};
    } catch (const ModelError& e) {
      return e.what();
    }
  }

 private:
  std::string label_;
  std::vector<std::uint8_t> bytes_;
};

int effectiveBuiltin(const fb::OperatorCode& code) {
  return std::max<int>(code.builtin_code(), code.deprecated_builtin_code());
}

// Index into operator_codes of the first code with this builtin, or -1.
int findCode(const fb::Model& model, int builtin) {
  const auto* codes = model.operator_codes();
  for (flatbuffers::uoffset_t i = 0; i < codes->size(); ++i) {
    if (effectiveBuiltin(*codes->Get(i)) == builtin) return static_cast<int>(i);
  }
  return -1;
}

// The first operator for which `pick` returns true, or nullptr.
const fb::Operator* findOperator(const ModelBytes& m,
                                 const std::function<bool(const fb::Operator&)>& pick) {
  for (const auto* op : *m.subgraph().operators()) {
    if (pick(*op)) return op;
  }
  return nullptr;
}

void expectRefused(const ModelBytes& m, const std::string& expected) {
  const std::string error = m.loadError();
  ASSERT_FALSE(error.empty()) << "the rewritten model loaded; expected: " << expected;
  EXPECT_NE(error.find(m.label()), std::string::npos) << error;
  EXPECT_NE(error.find(expected), std::string::npos) << error;
}

// Without a rewrite the same files load: each refusal below is caused by its one change.
TEST(TfliteRefusal, TheUnchangedModelsLoad) {
  EXPECT_EQ(ModelBytes().loadError(), "");
  EXPECT_EQ(ModelBytes(ModelId::kPoseLandmarkLite).loadError(), "");
}

TEST(TfliteRefusal, AnOperatorItDoesNotImplement) {
  ModelBytes m;
  const int conv = findCode(m.model(), 3);  // CONV_2D
  ASSERT_GE(conv, 0);
  const fb::OperatorCode* code = m.model().operator_codes()->Get(conv);
  const std::size_t old_field = m.fieldOffset(code, fb::OperatorCode::VT_DEPRECATED_BUILTIN_CODE);
  const std::size_t new_field = m.fieldOffset(code, fb::OperatorCode::VT_BUILTIN_CODE);
  ASSERT_TRUE(old_field != 0 || new_field != 0);
  if (old_field != 0) m.write<std::int8_t>(old_field, kFullyConnected);
  if (new_field != 0) m.write<std::int32_t>(new_field, kFullyConnected);
  ASSERT_EQ(findCode(m.model(), 3), -1);
  expectRefused(m, "unsupported TFLite operator (builtin code 9)");
}

TEST(TfliteRefusal, ACustomOperatorItDoesNotImplement) {
  ModelBytes m;
  const int custom = findCode(m.model(), 32);  // CUSTOM
  ASSERT_GE(custom, 0);
  const auto* name = m.model().operator_codes()->Get(custom)->custom_code();
  ASSERT_NE(name, nullptr);
  ASSERT_EQ(name->str(), "Convolution2DTransposeBias");
  m.write<char>(m.offsetOf(name->data()) + name->size() - 1, 'X');
  expectRefused(m, "unsupported custom operator 'Convolution2DTransposeBiaX'");
}

TEST(TfliteRefusal, AFusedActivationItDoesNotImplement) {
  // The selfie models keep activations as separate operators; the pose model fuses them.
  ModelBytes m(ModelId::kPoseLandmarkLite);
  const int conv = findCode(m.model(), 3);
  // A CONV_2D that stores its (non-default) fused activation, so it can be rewritten in place.
  const fb::Operator* op = findOperator(m, [&](const fb::Operator& o) {
    const auto* options = o.builtin_options_as_Conv2DOptions();
    return static_cast<int>(o.opcode_index()) == conv && options != nullptr &&
           m.fieldOffset(options, fb::Conv2DOptions::VT_FUSED_ACTIVATION_FUNCTION) != 0;
  });
  ASSERT_NE(op, nullptr);
  m.write<std::int8_t>(m.fieldOffset(op->builtin_options_as_Conv2DOptions(),
                                     fb::Conv2DOptions::VT_FUSED_ACTIVATION_FUNCTION),
                       kActivationTanh);
  expectRefused(m, "unsupported fused activation 4");
}

TEST(TfliteRefusal, ACustomOperatorOptionItDoesNotImplement) {
  ModelBytes m;
  const int custom = findCode(m.model(), 32);
  const fb::Operator* op = findOperator(
      m, [&](const fb::Operator& o) { return static_cast<int>(o.opcode_index()) == custom; });
  ASSERT_NE(op, nullptr);
  ASSERT_NE(op->custom_options(), nullptr);
  // The first little-endian int32 is the padding: 1 SAME, 2 VALID; 3 means nothing.
  m.write<std::int32_t>(m.offsetOf(op->custom_options()->data()), 3);
  expectRefused(m, "unsupported Convolution2DTransposeBias padding 3");
}

// Options the reader maps but the net builder does not implement are refused there.
TEST(TfliteRefusal, ADepthMultiplierItDoesNotImplement) {
  ModelBytes m;
  const fb::Operator* op = findOperator(m, [&](const fb::Operator& o) {
    const auto* options = o.builtin_options_as_DepthwiseConv2DOptions();
    return options != nullptr &&
           m.fieldOffset(options, fb::DepthwiseConv2DOptions::VT_DEPTH_MULTIPLIER) != 0;
  });
  ASSERT_NE(op, nullptr);
  m.write<std::int32_t>(m.fieldOffset(op->builtin_options_as_DepthwiseConv2DOptions(),
                                      fb::DepthwiseConv2DOptions::VT_DEPTH_MULTIPLIER),
                        2);
  expectRefused(m, "only depthwise convolution with multiplier 1 is supported");
}

TEST(TfliteRefusal, AnElementTypeItDoesNotImplement) {
  ModelBytes m;
  const fb::Tensor* half = nullptr;
  for (const auto* t : *m.subgraph().tensors()) {
    if (t->type() == fb::TensorType_FLOAT16) {
      half = t;
      break;
    }
  }
  ASSERT_NE(half, nullptr);
  m.write<std::int8_t>(m.fieldOffset(half, fb::Tensor::VT_TYPE), kTypeInt8);
  expectRefused(m, "unsupported element type 9");
}

TEST(TfliteRefusal, AShapeItDoesNotImplement) {
  // A zero-sized dimension is refused by the reader.
  ModelBytes zero;
  const fb::Tensor& input = *zero.subgraph().tensors()->Get(zero.subgraph().inputs()->Get(0));
  ASSERT_EQ(input.shape()->size(), 4u);
  zero.write<std::int32_t>(zero.offsetOf(input.shape()->data()) + 3 * sizeof(std::int32_t), 0);
  expectRefused(zero, "unsupported dimension 0");

  // Four input channels where the first convolution's weights take three: the shapes no longer
  // fit, and the net builder refuses instead of guessing.
  ModelBytes four;
  const fb::Tensor& in4 = *four.subgraph().tensors()->Get(four.subgraph().inputs()->Get(0));
  four.write<std::int32_t>(four.offsetOf(in4.shape()->data()) + 3 * sizeof(std::int32_t), 4);
  expectRefused(four, "weights do not match input channels");
}

}  // namespace
}  // namespace veil
