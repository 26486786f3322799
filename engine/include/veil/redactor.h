#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "veil/frame.h"
#include "veil/mode.h"
#include "veil/person_segmenter.h"
#include "veil/redacted_frame.h"

namespace veil {

struct RedactorOptions {
  Mode mode = Mode::kBackground;
  SegmenterModel model = SegmenterModel::kAuto;
  std::filesystem::path models_dir;  // empty: VEIL_MODELS, then the build's default
  // A frame whose inference takes longer than this does not use that inference result.
  std::chrono::milliseconds deadline{200};
  // Frames a pixel must be seen as patient in a row before it is revealed again.
  int reveal_after_frames = 3;
};

// Rectangle the patient exempts from redaction on the device, for a limited time.
struct KeepVisibleZone {
  int x = 0, y = 0, width = 0, height = 0;
  std::int64_t until_us = 0;  // frame timestamp after which the zone no longer applies
};

// Turns raw frames into RedactedFrames. It is the only place in Veil where raw pixels turn into
// pixels that may leave the device, and it fails closed: whatever goes wrong, the result hides
// more, never less. Not thread-safe; one instance per video stream (it keeps temporal state).
class Redactor {
 public:
  // Never throws for a missing or broken model: the redactor then hides whole frames and says
  // why in every frame's RedactionInfo.
  explicit Redactor(RedactorOptions options);
  // For fault-injection tests and alternative segmenters; `fallback` may be null.
  Redactor(RedactorOptions options, std::unique_ptr<PersonSegmenter> primary,
           std::unique_ptr<PersonSegmenter> fallback);
  ~Redactor();
  Redactor(Redactor&&) noexcept;
  Redactor& operator=(Redactor&&) noexcept;

  RedactedFrame redact(const Frame& frame);

  // A frame carrying no camera pixels: the static avatar (voice-only mode, camera closed).
  RedactedFrame avatar(int width, int height, std::int64_t timestamp_us);

  // Forgets all temporal state (hysteresis, patient position, last good mask): the next frame
  // starts a new, unrelated stream (e.g. the next image of a folder).
  void reset();

  void setMode(Mode mode);
  Mode mode() const;
  void setKeepVisible(std::optional<KeepVisibleZone> zone);

  // The person probability (CV_32FC1 in [0,1] at the frame's size) that the last redact() call
  // computed with the selfie model RedactorOptions::model selects (or the cheaper model while
  // the fallback ladder runs on it): before the consensus with the other model, isolation and
  // hysteresis, as `veil-blur --masks-out` writes it. A fresh copy of a mask, not of pixels:
  // RedactedFrame stays the only pixel type that leaves the redactor. Empty when that call
  // computed none (voice-only, a bad frame, a failed model or face stage).
  cv::Mat lastFramePersonProbability() const;

  // Human-readable reason the primary model could not be used, empty when it loaded.
  const std::string& modelError() const;

  // The engine's fixed parameters, exposed so tests and docs state the same numbers.
  // 1.5% of the width: at 1% the privacy eval still found 1.7% edge leak on a hand-held (jittering)
  // clip; at 1.5% 0.1%.
  static constexpr double kSafetyMarginFractionOfWidth = 1.5 / 100.0;
  static constexpr double kMotionBoundFractionOfWidthPerFrame = 1.0 / 50.0;
  static constexpr int kMaxLastGoodMaskFrames = 3;
  static constexpr int kFailuresBeforeCheaperModel = 3;
  // A pixel is the patient when both selfie models give it at least this probability.
  static constexpr double kPersonThreshold = 0.7;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace veil
