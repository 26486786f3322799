#include "media_io.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <system_error>

namespace veil::cli {
namespace {

std::string lowerExtension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

bool isImagePath(const std::filesystem::path& path) {
  const std::string ext = lowerExtension(path);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool isVideoOutputPath(const std::filesystem::path& path) {
  const std::string ext = lowerExtension(path);
  return ext == ".webm" || ext == ".mp4" || ext == ".mkv";
}

std::optional<MediaKind> inputKind(const std::filesystem::path& input) {
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) return MediaKind::kFolder;
  if (!std::filesystem::is_regular_file(input, ec)) return std::nullopt;
  if (isImagePath(input)) return MediaKind::kImage;
  const std::string ext = lowerExtension(input);
  if (ext == ".webm" || ext == ".mp4" || ext == ".mkv" || ext == ".avi") return MediaKind::kVideo;
  return std::nullopt;
}

std::vector<std::filesystem::path> imagesInFolder(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> images;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file() && isImagePath(entry.path())) images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end());
  return images;
}

AtomicOutput::AtomicOutput(std::filesystem::path final_path) : final_path_(std::move(final_path)) {
  const std::string stem = final_path_.filename().stem().string();
  temp_path_ = final_path_.parent_path() / ("." + stem + ".veil-tmp-" + std::to_string(::getpid()) +
                                            final_path_.extension().string());
}

AtomicOutput::~AtomicOutput() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove_all(temp_path_, ec);
}

void AtomicOutput::commit() {
  std::error_code ec;
  if (std::filesystem::is_directory(temp_path_) && std::filesystem::exists(final_path_)) {
    throw std::runtime_error(final_path_.string() + " already exists; not replacing a folder");
  }
  std::filesystem::rename(temp_path_, final_path_, ec);
  if (ec)
    throw std::runtime_error("cannot rename into " + final_path_.string() + ": " + ec.message());
  committed_ = true;
}

}  // namespace veil::cli
