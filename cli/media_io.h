#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace veil::cli {

enum class MediaKind { kImage, kFolder, kVideo };

// What INPUT is, judged by what it is on disk and its extension; nullopt if unsupported.
std::optional<MediaKind> inputKind(const std::filesystem::path& input);
bool isImagePath(const std::filesystem::path& path);
bool isVideoOutputPath(const std::filesystem::path& path);
std::vector<std::filesystem::path> imagesInFolder(const std::filesystem::path& folder);

// A file or folder written under a temporary sibling name and renamed into place by commit().
// Destroyed without commit() (error, exception), it removes what it wrote: no partial outputs.
class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path final_path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write now. Keeps the final extension so encoders pick the right container.
  const std::filesystem::path& tempPath() const { return temp_path_; }
  void commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  bool committed_ = false;
};

}  // namespace veil::cli
