#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace veil {

// The model files Veil runs. Each comes from a pinned npm package (models/package.json) and is
// refused at load time unless its SHA-256 matches the one compiled in here.
enum class ModelId {
  kSelfieGeneral,
  kSelfieLandscape,
  kFaceShortRange,
  kFaceFullRange,
  kPoseLandmarkLite,
  kPoseLandmarkFull,
};

struct ModelSpec {
  ModelId id;
  std::string_view file_name;
  std::string_view sha256;
};

const ModelSpec& modelSpec(ModelId id);

// --models, else $VEIL_MODELS, else the directory the build was configured with.
std::filesystem::path resolveModelsDir(const std::filesystem::path& explicit_dir);

// Reads the file for `id` from `models_dir` and checks its hash. Throws ModelError naming the
// missing/unreadable/mismatching file and the command that fetches it.
std::vector<std::uint8_t> loadVerifiedModel(ModelId id, const std::filesystem::path& models_dir);

}  // namespace veil
