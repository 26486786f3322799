#include "blur_options.h"

#include <cstdlib>
#include <sstream>
#include <vector>

namespace veil::cli {
namespace {

ParseResult usageError(const std::string& message) {
  return {std::nullopt, "veil-blur: " + message + "\nTry 'veil-blur --help'.", kExitUsage};
}

std::optional<SegmenterModel> parseModel(const std::string& text) {
  if (text == "auto") return SegmenterModel::kAuto;
  if (text == "general") return SegmenterModel::kGeneral;
  if (text == "landscape") return SegmenterModel::kLandscape;
  return std::nullopt;
}

}  // namespace

std::string blurUsage() {
  return R"(Usage: veil-blur --mode MODE [--model auto|general|landscape] [--models DIR]
                 [--masks-out DIR] [--quiet] INPUT OUTPUT

Redacts images, folders of images or videos offline with the same engine veil-patient runs.

  --mode MODE     background | voice-only (face, background+face, private-regions: see docs)
  --model M       segmentation model: auto (general, landscape as fallback), general, landscape
  --models DIR    model directory (default: $VEIL_MODELS, then the repository's models/fetched)
  --masks-out DIR also write the raw person probability (8-bit PNG, no temporal state):
                  DIR/<input-stem>.mask.png for images, DIR/<frame#>.mask.png for videos
  --quiet         no progress on stderr

INPUT/OUTPUT: an image (.png .jpg .jpeg), a folder of images (OUTPUT is a folder), or a video
(.webm .mp4 .mkv .avi in; .webm .mp4 .mkv out). Audio is dropped; EXIF, GPS and container
metadata are not copied. Outputs are written to a temporary name and renamed on success, so a
failed run leaves no partial output.

Exit codes: 0 success, 1 processing/writing failed, 2 bad command line,
            3 input missing/unreadable/unsupported, 4 model files missing or unusable.
)";
}

ParseResult parseBlurOptions(int argc, char** argv) {
  BlurOptions options;
  bool mode_given = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (arg == "-h" || arg == "--help") return {std::nullopt, blurUsage(), kExitOk};
    if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg == "--mode") {
      const auto v = value();
      const auto mode = v ? parseMode(*v) : std::nullopt;
      if (!mode) return usageError("--mode needs one of background, face, background+face, "
                                   "private-regions, voice-only");
      options.mode = *mode;
      mode_given = true;
    } else if (arg == "--model") {
      const auto v = value();
      const auto model = v ? parseModel(*v) : std::nullopt;
      if (!model) return usageError("--model needs auto, general or landscape");
      options.model = *model;
    } else if (arg == "--models") {
      const auto v = value();
      if (!v) return usageError("--models needs a directory");
      options.models_dir = *v;
    } else if (arg == "--masks-out") {
      const auto v = value();
      if (!v) return usageError("--masks-out needs a directory");
      options.masks_out = *v;
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      return usageError("unknown option " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (!mode_given) return usageError("--mode is required");
  if (positional.size() != 2) return usageError("expected INPUT and OUTPUT");
  options.input = positional[0];
  options.output = positional[1];
  return {options, "", kExitOk};
}

}  // namespace veil::cli
