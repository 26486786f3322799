#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "veil/redactor.h"

namespace veil::cli {

// Documented in --help; tests and scripts rely on these numbers.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,    // processing or writing failed; no output was left behind
  kExitUsage = 2,     // bad command line
  kExitBadInput = 3,  // input missing, unreadable or of an unsupported kind
  kExitNoModels = 4,  // model files missing or unusable (run scripts/fetch-models)
};

inline constexpr double kDefaultKeepVisibleSeconds = 30;
inline constexpr double kMaxKeepVisibleSeconds = 600;

struct BlurOptions {
  Mode mode = Mode::kBackground;
  SegmenterModel model = SegmenterModel::kAuto;
  std::filesystem::path models_dir;
  std::optional<std::filesystem::path> masks_out;
  std::optional<KeepVisibleZone> keep_visible;  // until_us counts from the input's start
  std::filesystem::path input;
  std::filesystem::path output;
  bool quiet = false;
};

struct ParseResult {
  std::optional<BlurOptions> options;  // empty: print `message` and exit with `exit_code`
  std::string message;
  int exit_code = kExitOk;
};

ParseResult parseBlurOptions(int argc, char** argv);
std::string blurUsage();

}  // namespace veil::cli
