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

// "x,y,w,h[,seconds]": the only way to exempt an area from redaction, always time-limited.
std::optional<KeepVisibleZone> parseKeepVisible(const std::string& text) {
  std::vector<double> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end == nullptr || *end != '\0' || v < 0) return std::nullopt;
    values.push_back(v);
  }
  if (values.size() != 4 && values.size() != 5) return std::nullopt;
  const double seconds = values.size() == 5 ? values[4] : kDefaultKeepVisibleSeconds;
  if (values[2] < 1 || values[3] < 1 || seconds <= 0 || seconds > kMaxKeepVisibleSeconds) {
    return std::nullopt;
  }
  return KeepVisibleZone{static_cast<int>(values[0]), static_cast<int>(values[1]),
                         static_cast<int>(values[2]), static_cast<int>(values[3]),
                         static_cast<std::int64_t>(seconds * 1e6)};
}

}  // namespace

std::string blurUsage() {
  return R"(Usage: veil-blur --mode MODE [--model auto|general|landscape] [--models DIR]
                 [--masks-out DIR] [--keep-visible x,y,w,h[,seconds]] [--quiet] INPUT OUTPUT

Redacts images, folders of images or videos offline with the same engine veil-patient runs.

  --mode MODE     background | face | background+face | voice-only |
                  private-regions (experimental: see README)
  --model M       segmentation model: auto (general, landscape as fallback), general, landscape
  --models DIR    model directory (default: $VEIL_MODELS, then the repository's models/fetched)
  --masks-out DIR also write the person probability the redactor computed for each frame with
                  the selected model (8-bit PNG, no temporal state): DIR/<input-stem>.mask.png
                  for images, DIR/<frame#>.mask.png for videos; none for frames it could not
                  segment (hidden whole) or in voice-only mode
  --keep-visible x,y,w,h[,seconds]
                  show this rectangle (input pixels) unredacted for the first `seconds` of the
                  input (default 30, at most 600; images count as time 0). The patient's own,
                  audited exemption for a clinically relevant area; each frame reports it.
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
      if (!mode)
        return usageError(
            "--mode needs one of background, face, background+face, "
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
    } else if (arg == "--keep-visible") {
      const auto v = value();
      const auto zone = v ? parseKeepVisible(*v) : std::nullopt;
      if (!zone) {
        return usageError(
            "--keep-visible needs x,y,w,h[,seconds] (non-negative numbers, w and h "
            ">= 1, 0 < seconds <= 600)");
      }
      options.keep_visible = zone;
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
