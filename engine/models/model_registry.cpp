#include "model_registry.h"

#include <array>
#include <cstdlib>
#include <fstream>

#include "model_error.h"
#include "sha256.h"
#include "tflite_reader.h"

#ifndef VEIL_DEFAULT_MODELS_DIR
#define VEIL_DEFAULT_MODELS_DIR "models/fetched"
#endif

namespace veil {
namespace {

constexpr std::array<ModelSpec, 6> kModels = {{
    {ModelId::kSelfieGeneral, "selfie_segmentation.tflite",
     "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27"},
    {ModelId::kSelfieLandscape, "selfie_segmentation_landscape.tflite",
     "4aafe6223bb8dac6fac8ca8ed56852870a33051ef3f6238822d282a109962894"},
    {ModelId::kFaceShortRange, "face_detection_short_range.tflite",
     "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633"},
    {ModelId::kFaceFullRange, "face_detection_full_range.tflite",
     "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3"},
    {ModelId::kPoseLandmarkLite, "pose_landmark_lite.tflite",
     "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"},
    {ModelId::kPoseLandmarkFull, "pose_landmark_full.tflite",
     "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"},
}};

constexpr std::string_view kFetchHint =
    " (run scripts/fetch-models, or pass --models DIR / set VEIL_MODELS)";

}  // namespace

const ModelSpec& modelSpec(ModelId id) {
  for (const auto& spec : kModels) {
    if (spec.id == id) return spec;
  }
  throw ModelError("unknown model id");
}

std::filesystem::path resolveModelsDir(const std::filesystem::path& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  if (const char* env = std::getenv("VEIL_MODELS"); env != nullptr && *env != '\0') return env;
  return VEIL_DEFAULT_MODELS_DIR;
}

std::vector<std::uint8_t> loadVerifiedModel(ModelId id, const std::filesystem::path& models_dir) {
  const ModelSpec& spec = modelSpec(id);
  const std::filesystem::path path = models_dir / std::string(spec.file_name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw ModelError("model file missing: " + path.string() + std::string(kFetchHint));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > tflite::kMaxModelBytes) {
    throw ModelError("model file unreadable or too large: " + path.string());
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    throw ModelError("cannot read model file: " + path.string());
  }
  if (sha256Hex(bytes) != spec.sha256) {
    throw ModelError("model file has the wrong SHA-256 (corrupt or not the pinned version): " +
                     path.string() + std::string(kFetchHint));
  }
  return bytes;
}

}  // namespace veil
