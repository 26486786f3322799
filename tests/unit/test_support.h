#pragma once

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace veil::test {

inline std::filesystem::path sourceDir() {
  return VEIL_SOURCE_DIR;
}
inline std::filesystem::path dataDir() {
  return sourceDir() / "tests" / "data";
}
inline std::filesystem::path referenceDir() {
  return dataDir() / "reference";
}
inline std::filesystem::path modelsDir() {
  return VEIL_MODELS_DIR;
}

inline std::vector<float> readFloats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  std::vector<float> values(bytes / sizeof(float));
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
  return values;
}

inline cv::Mat readImage(const std::filesystem::path& path, int flags = cv::IMREAD_COLOR) {
  cv::Mat image = cv::imread(path.string(), flags);
  if (image.empty()) throw std::runtime_error("cannot read " + path.string());
  return image;
}

// Reference frames rendered by MediaPipe's own web solution (tests/data/reference/README.md).
inline std::vector<std::string> referenceFrameNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(referenceDir() / "frames-360p")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace veil::test
