#include "veil/redactor.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "avatar.h"
#include "face_stage.h"
#include "mask_check.h"
#include "model_registry.h"
#include "patient_isolation.h"
#include "redaction_fill.h"
#include "reveal_hysteresis.h"
#include "veil/body_zones.h"
#include "veil/pose_landmarker.h"
#include "visibility.h"

namespace veil {
namespace {

constexpr int kMinFrameSide = 16;
constexpr int kMaxFrameSide = 4096;
// While on the cheaper model, retry the primary this often (frames).
constexpr int kPrimaryRetryInterval = 30;
const cv::Size kDefaultFrameSize(640, 360);
// How long a patient region stays confirmed as a person after a face was last seen on it.
constexpr std::int64_t kPresenceHoldUs = 3'000'000;

bool hasUsableSize(const cv::Mat& bgr) {
  return bgr.dims == 2 && bgr.cols >= kMinFrameSide && bgr.rows >= kMinFrameSide &&
         bgr.cols <= kMaxFrameSide && bgr.rows <= kMaxFrameSide;
}

bool isUsableFrame(const cv::Mat& bgr) {
  return !bgr.empty() && bgr.type() == CV_8UC3 && hasUsableSize(bgr);
}

struct Inference {
  cv::Mat probability;                  // empty on failure
  std::uint32_t failure = kReasonNone;  // why it failed
};

}  // namespace

struct Redactor::State {
  RedactorOptions options;
  std::unique_ptr<PersonSegmenter> primary;
  std::unique_ptr<PersonSegmenter> fallback;
  std::string model_error;
  bool on_fallback = false;
  int frames_on_fallback = 0;
  int consecutive_failures = 0;
  cv::Mat last_good_shown;  // CV_8U, the last shown region computed on its own frame
  int last_good_age = 0;
  cv::Size last_size = kDefaultFrameSize;
  std::uint64_t sequence = 0;
  std::optional<KeepVisibleZone> keep_visible;
  PatientIsolator isolator;
  RevealHysteresis hysteresis;
  std::unique_ptr<FaceStage> faces;
  std::unique_ptr<PoseLandmarker> pose;
  std::optional<std::int64_t> last_presence_us;  // last frame with a face on the patient

  explicit State(RedactorOptions o)
      : options(std::move(o)), hysteresis(options.reveal_after_frames) {}

  Inference infer(PersonSegmenter* segmenter, const cv::Mat& bgr) {
    if (segmenter == nullptr) return {{}, kReasonModelUnavailable};
    const auto started = std::chrono::steady_clock::now();
    cv::Mat probability;
    try {
      probability = segmenter->segment(bgr);
    } catch (const std::exception&) {
      return {{}, kReasonInferenceFailed};
    } catch (...) {
      return {{}, kReasonInferenceFailed};
    }
    if (std::chrono::steady_clock::now() - started > options.deadline) {
      return {{}, kReasonDeadlineMissed};
    }
    if (const auto problem = checkProbabilityMask(probability, bgr.size())) {
      return {{}, problem};
    }
    return {probability, kReasonNone};
  }

  // Both models must call a pixel a person (per-pixel minimum): each model marks some background
  // next to the patient as person, rarely the same. Measured on independent ground truth, this
  // cut the edge leak of tests/privacy from 22% to 0 on the worst still.
  Inference inferConsensus(const cv::Mat& bgr) {
    Inference general = infer(primary.get(), bgr);
    if (general.failure != kReasonNone || !fallback) return general;
    Inference landscape = infer(fallback.get(), bgr);
    if (landscape.failure != kReasonNone) return landscape;
    cv::min(general.probability, landscape.probability, general.probability);
    return general;
  }

  // Primary model, or the cheaper one once the primary failed repeatedly (design.md §5 ladder).
  Inference segmentWithLadder(const cv::Mat& bgr, std::uint32_t& reasons) {
    if (on_fallback && ++frames_on_fallback >= kPrimaryRetryInterval && primary) {
      frames_on_fallback = 0;
      Inference retry = inferConsensus(bgr);
      if (retry.failure == kReasonNone) {
        on_fallback = false;
        return retry;
      }
    }
    Inference result = on_fallback ? infer(fallback.get(), bgr) : inferConsensus(bgr);
    if (result.failure != kReasonNone && !on_fallback && fallback &&
        consecutive_failures + 1 >= kFailuresBeforeCheaperModel) {
      reasons |= result.failure;
      on_fallback = true;
      frames_on_fallback = 0;
      result = infer(fallback.get(), bgr);
    }
    if (on_fallback) reasons |= kReasonCheaperModel;
    return result;
  }

  // The patient's region from the person probability (no edge-aware refinement: a guided filter
  // copied the background's texture into the mask edge and tests/privacy measured more edge
  // leak with it, not less).
  std::optional<cv::Mat> isolatePatient(const cv::Mat& probability) {
    cv::Mat foreground;
    cv::compare(probability, kPersonThreshold, foreground, cv::CMP_GE);
    return isolator.isolate(foreground, faces ? faces->mainFaceCentre() : std::nullopt);
  }

  // Experimental private-regions mode: pose landmarks place chest, pelvis and buttocks zones on
  // the patient; an untrusted pose hides the whole torso-to-thigh area; no person hides it all.
  // Zones are hidden whole (not cut to the person mask): the mask's edge is where it errs.
  RedactedFrame redactPrivateRegions(const Frame& frame, RedactionInfo info) {
    const cv::Mat& bgr = frame.bgr();
    auto hideAll = [&](std::uint32_t reasons) {
      info.state = RedactionState::kFull;
      info.reasons = reasons;
      return RedactedFrame(fullyHiddenFrame(bgr.size()), info);
    };
    if (!pose) return hideAll(kReasonModelUnavailable);
    std::uint32_t reasons = kReasonNone;
    const Inference inference = segmentWithLadder(bgr, reasons);
    if (inference.failure != kReasonNone) {
      ++consecutive_failures;
      return hideAll(reasons | inference.failure);
    }
    consecutive_failures = 0;
    const auto patient = isolatePatient(inference.probability);
    if (!patient) return hideAll(reasons | kReasonNoPerson);
    const cv::Rect person_box = cv::boundingRect(*patient);
    BodyZones zones;
    try {
      zones = computeBodyZones(pose->estimate(bgr, person_box), person_box, bgr.size());
    } catch (const std::exception&) {
      return hideAll(reasons | kReasonInferenceFailed);
    }
    if (zones.uncertain) reasons |= kReasonPoseUncertain;
    cv::Mat shown(bgr.size(), CV_8U, cv::Scalar(255));
    shown.setTo(0, zones.mask);
    shown = hysteresis.update(shown);
    cv::Mat alpha = visibilityAlpha(shown, marginPx(bgr.cols));
    applyKeepVisible(alpha, frame.timestampUs(), reasons);
    info.state = on_fallback ? RedactionState::kDegraded : RedactionState::kNormal;
    info.reasons = reasons;
    return RedactedFrame(composeVisible(bgr, alpha), info);
  }

  void loadFaces() {
    try {
      // The full model: the lite one invents bodies inside face close-ups (tests/unit).
      pose =
          std::make_unique<PoseLandmarker>(PoseModel::kFull, resolveModelsDir(options.models_dir));
    } catch (const std::exception& e) {
      if (model_error.empty()) model_error = e.what();
    }
    try {
      faces = std::make_unique<FaceStage>(options.models_dir);
    } catch (const std::exception& e) {
      if (model_error.empty()) model_error = e.what();
    }
  }

  double marginPx(int width) const {
    return std::max(2.0, std::round(width * kSafetyMarginFractionOfWidth));
  }

  void applyKeepVisible(cv::Mat& alpha, std::int64_t timestamp_us, std::uint32_t& reasons) {
    if (!keep_visible || timestamp_us > keep_visible->until_us) return;
    const cv::Rect zone =
        cv::Rect(keep_visible->x, keep_visible->y, keep_visible->width, keep_visible->height) &
        cv::Rect(0, 0, alpha.cols, alpha.rows);
    if (zone.area() <= 0) return;
    alpha(zone).setTo(1.0);
    reasons |= kReasonKeepVisibleActive;
  }
};

Redactor::Redactor(RedactorOptions options) : state_(std::make_unique<State>(options)) {
  const SegmenterModel primary_model = options.model == SegmenterModel::kLandscape
                                           ? SegmenterModel::kLandscape
                                           : SegmenterModel::kGeneral;
  try {
    state_->primary = makeSelfieSegmenter(primary_model, options.models_dir);
  } catch (const std::exception& e) {
    state_->model_error = e.what();
  }
  state_->loadFaces();
  if (primary_model == SegmenterModel::kGeneral) {
    try {
      state_->fallback = makeSelfieSegmenter(SegmenterModel::kLandscape, options.models_dir);
    } catch (const std::exception&) {
      // Without the cheaper model the ladder goes from the last good mask straight to hiding all.
    }
  }
}

Redactor::Redactor(RedactorOptions options, std::unique_ptr<PersonSegmenter> primary,
                   std::unique_ptr<PersonSegmenter> fallback)
    : state_(std::make_unique<State>(std::move(options))) {
  state_->primary = std::move(primary);
  state_->fallback = std::move(fallback);
  if (!state_->primary) state_->model_error = "no segmenter given";
  state_->loadFaces();
}

Redactor::~Redactor() = default;
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;

void Redactor::setMode(Mode mode) {
  state_->options.mode = mode;
}
Mode Redactor::mode() const {
  return state_->options.mode;
}
void Redactor::setKeepVisible(std::optional<KeepVisibleZone> zone) {
  state_->keep_visible = zone;
}
const std::string& Redactor::modelError() const {
  return state_->model_error;
}

void Redactor::reset() {
  State& s = *state_;
  s.hysteresis.reset();
  s.isolator.reset();
  s.last_good_shown.release();
  s.last_good_age = 0;
  s.consecutive_failures = 0;
  s.last_presence_us.reset();
  if (s.faces) s.faces->reset();
}

RedactedFrame Redactor::avatar(int width, int height, std::int64_t timestamp_us) {
  const cv::Size size(std::clamp(width, kMinFrameSide, kMaxFrameSide),
                      std::clamp(height, kMinFrameSide, kMaxFrameSide));
  RedactionInfo info{Mode::kVoiceOnly, RedactionState::kFull, kReasonAvatar, ++state_->sequence,
                     timestamp_us};
  return RedactedFrame(drawAvatar(size), info);
}

RedactedFrame Redactor::redact(const Frame& frame) {
  State& s = *state_;
  const cv::Mat& bgr = frame.bgr();
  const Mode mode = s.options.mode;
  const std::int64_t now_us = frame.timestampUs();
  RedactionInfo info{mode, RedactionState::kFull, kReasonNone, 0, now_us};

  if (mode == Mode::kVoiceOnly) {
    return avatar(bgr.empty() ? s.last_size.width : bgr.cols,
                  bgr.empty() ? s.last_size.height : bgr.rows, now_us);
  }
  info.sequence = ++s.sequence;
  auto hideAll = [&](std::uint32_t reasons, cv::Size size) {
    info.state = RedactionState::kFull;
    info.reasons = reasons;
    return RedactedFrame(fullyHiddenFrame(size), info);
  };
  if (!isUsableFrame(bgr)) {
    return hideAll(kReasonBadFrame, hasUsableSize(bgr) ? bgr.size() : s.last_size);
  }
  s.last_size = bgr.size();
  const bool hides_faces = mode == Mode::kFace || mode == Mode::kBackgroundAndFace;
  const bool shows_only_patient = mode == Mode::kBackground || mode == Mode::kBackgroundAndFace;
  if (mode == Mode::kPrivateRegions) return s.redactPrivateRegions(frame, info);

  // Faces: hidden in the face modes, and the proof that a person is there in the others (the
  // selfie model alone marks furniture and animals as people when nobody is in view).
  std::uint32_t reasons = kReasonNone;
  std::vector<TrackedFace> faces;
  if (!s.faces) {
    return hideAll(kReasonModelUnavailable, bgr.size());
  }
  try {
    faces = s.faces->update(bgr, now_us, hides_faces);
  } catch (const std::exception&) {
    return hideAll(kReasonInferenceFailed, bgr.size());
  }
  const cv::Mat face_regions = rasteriseFaceRegions(faces, bgr.size());

  const Inference inference = s.segmentWithLadder(bgr, reasons);
  cv::Mat shown;
  double margin = s.marginPx(bgr.cols);
  if (inference.failure == kReasonNone) {
    s.consecutive_failures = 0;
    const auto patient = s.isolatePatient(inference.probability);
    const bool face_on_patient = patient && anyFaceOn(faces, *patient);
    if (face_on_patient) s.last_presence_us = now_us;
    const bool present = patient && s.last_presence_us &&
                         now_us - *s.last_presence_us <= kPresenceHoldUs &&
                         now_us >= *s.last_presence_us;
    if (shows_only_patient && !present) {
      // Nobody confirmed there: nothing may be shown, and the next person starts afresh.
      s.hysteresis.reset();
      s.isolator.reset();
      s.last_good_shown.release();
      return hideAll(reasons | kReasonNoPerson, bgr.size());
    }
    cv::Mat shown_now =
        shows_only_patient ? patient->clone() : cv::Mat(bgr.size(), CV_8U, cv::Scalar(255));
    if (hides_faces) {
      shown_now.setTo(0, face_regions);
      if (patient && !face_on_patient) {
        // The patient's face is not found (turned away, looking down): hide the head region.
        shown_now.setTo(0, headRegion(*patient));
        reasons |= kReasonHeadFallback;
      }
    }
    shown = s.hysteresis.update(shown_now);
    s.last_good_shown = shown;
    s.last_good_age = 0;
    info.state = s.on_fallback ? RedactionState::kDegraded : RedactionState::kNormal;
  } else {
    ++s.consecutive_failures;
    reasons |= inference.failure;
    const bool last_good_usable = !s.last_good_shown.empty() &&
                                  s.last_good_shown.size() == bgr.size() &&
                                  s.last_good_age < kMaxLastGoodMaskFrames;
    if (!last_good_usable) return hideAll(reasons, bgr.size());
    // The patient may have moved since: shrink what is shown by the motion bound per frame.
    ++s.last_good_age;
    shown = s.last_good_shown.clone();
    if (hides_faces) shown.setTo(0, face_regions);  // this frame's faces are known: hide them too
    margin += s.last_good_age * kMotionBoundFractionOfWidthPerFrame * bgr.cols;
    reasons |= kReasonLastGoodMask;
    info.state = RedactionState::kDegraded;
  }
  cv::Mat alpha = visibilityAlpha(shown, margin);
  s.applyKeepVisible(alpha, now_us, reasons);
  info.reasons = reasons;
  return RedactedFrame(composeVisible(bgr, alpha), info);
}

}  // namespace veil
