// veil-blur: offline redaction of images, folders and videos with the engine veil-patient runs.
#include <array>
#include <cstdio>
#include <exception>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "blur_options.h"
#include "media_io.h"
#include "veil/redactor.h"

namespace veil::cli {
namespace {

class BlurFailure : public std::runtime_error {
 public:
  BlurFailure(int exit_code, const std::string& what)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exitCode() const { return exit_code_; }

 private:
  int exit_code_;
};

struct StateCounts {
  std::array<long, 3> by_state{};  // normal, degraded, full
  void add(const RedactedFrame& frame) { ++by_state[static_cast<int>(frame.info().state)]; }
};

class BlurJob {
 public:
  explicit BlurJob(const BlurOptions& options)
      : options_(options), redactor_(makeRedactorOptions(options)) {
    const bool needs_model = options.mode != Mode::kVoiceOnly;
    if (needs_model && !redactor_.modelError().empty()) {
      throw BlurFailure(kExitNoModels, redactor_.modelError());
    }
    if (options.masks_out) std::filesystem::create_directories(*options.masks_out);
  }

  int run() {
    const auto kind = inputKind(options_.input);
    if (!kind) {
      throw BlurFailure(kExitBadInput, options_.input.string() +
                                           ": missing, or not an image (.png .jpg .jpeg), a "
                                           "folder or a video (.webm .mp4 .mkv .avi)");
    }
    switch (*kind) {
      case MediaKind::kImage:
        blurImage(options_.input, options_.output);
        break;
      case MediaKind::kFolder:
        blurFolder();
        break;
      case MediaKind::kVideo:
        blurVideo();
        break;
    }
    progress("done: " + std::to_string(counts_.by_state[0]) + " normal, " +
             std::to_string(counts_.by_state[1]) + " degraded, " +
             std::to_string(counts_.by_state[2]) + " fully hidden frames; selfie model runs: " +
             std::to_string(selfieInferenceCount(SegmenterModel::kGeneral)) + " general, " +
             std::to_string(selfieInferenceCount(SegmenterModel::kLandscape)) + " landscape");
    if (frames_without_mask_ > 0) {
      progress(std::to_string(frames_without_mask_) +
               " frames had no person probability (hidden whole); no mask written for them");
    }
    return kExitOk;
  }

 private:
  static RedactorOptions makeRedactorOptions(const BlurOptions& options) {
    RedactorOptions r;
    r.mode = options.mode;
    r.model = options.model;
    r.models_dir = options.models_dir;
    // Offline there is no frame clock to keep up with; only a hung inference should fail.
    r.deadline = std::chrono::seconds(10);
    return r;
  }

  void progress(const std::string& line) const {
    if (!options_.quiet) std::cerr << "veil-blur: " << line << "\n";
  }

  // The probability the redactor computed for the frame it just redacted: no second inference.
  void writeMask(const std::string& name) {
    if (!options_.masks_out) return;
    const cv::Mat probability = redactor_.lastFramePersonProbability();
    if (probability.empty()) {
      ++frames_without_mask_;
      return;
    }
    cv::Mat mask8;
    probability.convertTo(mask8, CV_8U, 255.0);
    const auto path = *options_.masks_out / (name + ".mask.png");
    if (!cv::imwrite(path.string(), mask8)) {
      throw BlurFailure(kExitFailed, "cannot write " + path.string());
    }
  }

  void writeImage(const cv::Mat& image, const std::filesystem::path& path) {
    // imwrite encodes pixels only: no EXIF, GPS or ICC data from the input reaches the output.
    if (!cv::imwrite(path.string(), image)) {
      throw BlurFailure(kExitFailed, "cannot write " + path.string());
    }
  }

  void blurImage(const std::filesystem::path& input, const std::filesystem::path& output) {
    if (!isImagePath(output)) {
      throw BlurFailure(kExitUsage, "OUTPUT for an image must end in .png, .jpg or .jpeg");
    }
    AtomicOutput out(output);
    blurImageInto(input, out.tempPath());
    out.commit();
  }

  void blurImageInto(const std::filesystem::path& input, const std::filesystem::path& output) {
    const cv::Mat bgr = cv::imread(input.string(), cv::IMREAD_COLOR);
    if (bgr.empty()) throw BlurFailure(kExitBadInput, input.string() + ": not a readable image");
    redactor_.reset();  // images are unrelated: no temporal state carries over
    redactor_.setKeepVisible(options_.keep_visible);
    const RedactedFrame redacted = redactor_.redact(Frame(bgr, 0));
    counts_.add(redacted);
    writeImage(redacted.toMat(), output);
    writeMask(input.stem().string());
  }

  void blurFolder() {
    const auto images = imagesInFolder(options_.input);
    if (images.empty()) {
      throw BlurFailure(kExitBadInput, options_.input.string() + ": no .png/.jpg/.jpeg images");
    }
    if (std::filesystem::exists(options_.output)) {
      throw BlurFailure(kExitUsage, options_.output.string() + " exists; give a new folder name");
    }
    AtomicOutput out(options_.output);
    std::filesystem::create_directories(out.tempPath());
    for (std::size_t i = 0; i < images.size(); ++i) {
      blurImageInto(images[i], out.tempPath() / images[i].filename());
      progress("image " + std::to_string(i + 1) + "/" + std::to_string(images.size()));
    }
    out.commit();
  }

  void blurVideo() {
    if (!isVideoOutputPath(options_.output)) {
      throw BlurFailure(kExitUsage, "OUTPUT for a video must end in .webm, .mp4 or .mkv");
    }
    cv::VideoCapture capture(options_.input.string(), cv::CAP_FFMPEG);
    if (!capture.isOpened()) {
      throw BlurFailure(kExitBadInput, options_.input.string() + ": not a readable video");
    }
    double fps = capture.get(cv::CAP_PROP_FPS);
    if (!(fps > 0 && fps <= 240)) fps = 25;
    const long total = static_cast<long>(capture.get(cv::CAP_PROP_FRAME_COUNT));
    AtomicOutput out(options_.output);
    cv::VideoWriter writer;
    long index = 0;
    cv::Mat bgr;
    redactor_.reset();
    redactor_.setKeepVisible(options_.keep_visible);
    long kept_visible = 0;
    while (capture.read(bgr)) {
      const auto timestamp_us = static_cast<std::int64_t>(index * 1e6 / fps);
      const RedactedFrame redacted = redactor_.redact(Frame(bgr, timestamp_us));
      counts_.add(redacted);
      if (redacted.info().reasons & kReasonKeepVisibleActive) ++kept_visible;
      if (!writer.isOpened()) openWriter(writer, out.tempPath(), fps, bgr.size());
      writer.write(redacted.toMat());
      writeMask(std::to_string(index));
      ++index;
      if (index % 25 == 0) {
        progress("frame " + std::to_string(index) + (total > 0 ? "/" + std::to_string(total) : ""));
      }
    }
    if (index == 0) throw BlurFailure(kExitBadInput, options_.input.string() + ": no frames");
    if (options_.keep_visible) {
      progress("keep-visible zone shown unredacted in " + std::to_string(kept_visible) + " frames");
    }
    writer.release();
    out.commit();
  }

  static void openWriter(cv::VideoWriter& writer, const std::filesystem::path& path, double fps,
                         cv::Size size) {
    const std::string ext = path.extension().string();
    const int fourcc = ext == ".mp4" ? cv::VideoWriter::fourcc('a', 'v', 'c', '1')
                                     : cv::VideoWriter::fourcc('V', 'P', '8', '0');
    if (!writer.open(path.string(), cv::CAP_FFMPEG, fourcc, fps, size, true)) {
      throw BlurFailure(kExitFailed, "cannot encode video to " + path.string());
    }
  }

  BlurOptions options_;
  Redactor redactor_;
  StateCounts counts_;
  long frames_without_mask_ = 0;
};

}  // namespace
}  // namespace veil::cli

int main(int argc, char** argv) {
  using namespace veil::cli;
  const ParseResult parsed = parseBlurOptions(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == kExitOk ? std::cout : std::cerr) << parsed.message << "\n";
    return parsed.exit_code;
  }
  try {
    BlurJob job(*parsed.options);
    return job.run();
  } catch (const BlurFailure& e) {
    std::cerr << "veil-blur: " << e.what() << "\n";
    return e.exitCode();
  } catch (const std::exception& e) {
    std::cerr << "veil-blur: " << e.what() << "\n";
    return kExitFailed;
  }
}
