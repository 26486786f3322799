#include "veil/redactor.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
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

// What a mode makes of this frame's person probability, for the fail-closed ladder.
struct ModeRegion {
  enum class Kind {
    kShown,   // `shown` holds what may be shown on this frame
    kNobody,  // no patient: hide the whole frame and forget the patient
    kFailed,  // a later stage (e.g. pose) failed: fall back like a failed segmentation
  };
  Kind kind = Kind::kFailed;
  cv::Mat shown;                        // kShown: CV_8U, 255 = may be shown (before hysteresis)
  std::uint32_t reasons = kReasonNone;  // added to the frame's reasons

  static ModeRegion shownRegion(cv::Mat shown, std::uint32_t reasons) {
    return {Kind::kShown, std::move(shown), reasons};
  }
  static ModeRegion nobody() { return {Kind::kNobody, {}, kReasonNoPerson}; }
  static ModeRegion failed(std::uint32_t why) { return {Kind::kFailed, {}, why}; }
};

using RegionFromProbability = std::function<ModeRegion(const cv::Mat& probability)>;
// Hides what this frame is known to need hidden on top of a reused (last good) region.
using HideKnownNow = std::function<void(cv::Mat& shown)>;

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
  cv::Mat selected_probability;  // this frame's, from the selected model (empty: none computed)

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
    const Inference general = inferSelected(primary.get(), bgr);
    if (general.failure != kReasonNone || !fallback) return general;
    Inference landscape = infer(fallback.get(), bgr);
    if (landscape.failure != kReasonNone) return landscape;
    // Into a new matrix: the general model's own probability stays as it was for the caller.
    cv::Mat both;
    cv::min(general.probability, landscape.probability, both);
    return {both, kReasonNone};
  }

  // `infer` on the model RedactorOptions::model selected (or the cheaper one the ladder moved
  // to); a good result is kept as this frame's probability (lastFramePersonProbability).
  Inference inferSelected(PersonSegmenter* segmenter, const cv::Mat& bgr) {
    Inference result = infer(segmenter, bgr);
    if (result.failure == kReasonNone) selected_probability = result.probability;
    return result;
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
    Inference result = on_fallback ? inferSelected(fallback.get(), bgr) : inferConsensus(bgr);
    if (result.failure != kReasonNone && !on_fallback && fallback &&
        consecutive_failures + 1 >= kFailuresBeforeCheaperModel) {
      reasons |= result.failure;
      on_fallback = true;
      frames_on_fallback = 0;
      result = inferSelected(fallback.get(), bgr);
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

  RedactedFrame hideAll(RedactionInfo info, std::uint32_t reasons, cv::Size size) const {
    info.state = RedactionState::kFull;
    info.reasons = reasons;
    return RedactedFrame(fullyHiddenFrame(size), info);
  }

  // Nobody confirmed there: the next person starts afresh, and no earlier region may be reused.
  void forgetPatient() {
    hysteresis.reset();
    isolator.reset();
    last_good_shown.release();
  }

  bool lastGoodUsable(cv::Size size) const {
    return !last_good_shown.empty() && last_good_shown.size() == size &&
           last_good_age < kMaxLastGoodMaskFrames;
  }

  // The one fail-closed ladder (design.md §5) every mode that uses the person mask goes through:
  // this frame's mask (primary model, or the cheaper one after repeated failures) → the last
  // good shown region, shrunk by the motion bound per frame, for at most kMaxLastGoodMaskFrames
  // → the whole frame hidden. `regionFrom` turns a good probability into the mode's region;
  // `hideKnownNow` hides, on a reused region, what this frame is already known to need hidden.
  RedactedFrame redactThroughLadder(const Frame& frame, RedactionInfo info,
                                    const RegionFromProbability& regionFrom,
                                    const HideKnownNow& hideKnownNow) {
    const cv::Mat& bgr = frame.bgr();
    std::uint32_t reasons = kReasonNone;
    const Inference inference = segmentWithLadder(bgr, reasons);
    ModeRegion region;
    if (inference.failure == kReasonNone) {
      consecutive_failures = 0;
      region = regionFrom(inference.probability);
    } else {
      ++consecutive_failures;
      region = ModeRegion::failed(inference.failure);
    }
    reasons |= region.reasons;
    double margin = marginPx(bgr.cols);
    cv::Mat shown;
    switch (region.kind) {
      case ModeRegion::Kind::kNobody:
        forgetPatient();
        return hideAll(info, reasons, bgr.size());
      case ModeRegion::Kind::kShown:
        shown = hysteresis.update(region.shown);
        last_good_shown = shown;
        last_good_age = 0;
        info.state = on_fallback ? RedactionState::kDegraded : RedactionState::kNormal;
        break;
      case ModeRegion::Kind::kFailed:
        if (!lastGoodUsable(bgr.size())) return hideAll(info, reasons, bgr.size());
        // The patient may have moved since: shrink what is shown by the motion bound per frame.
        ++last_good_age;
        shown = last_good_shown.clone();
        hideKnownNow(shown);
        margin += last_good_age * kMotionBoundFractionOfWidthPerFrame * bgr.cols;
        reasons |= kReasonLastGoodMask;
        info.state = RedactionState::kDegraded;
        break;
    }
    cv::Mat alpha = visibilityAlpha(shown, margin);
    applyKeepVisible(alpha, frame.timestampUs(), reasons);
    info.reasons = reasons;
    return RedactedFrame(composeVisible(bgr, alpha), info);
  }

  // Experimental private-regions mode: pose landmarks place chest, pelvis and buttocks zones on
  // the patient; an untrusted pose hides the whole torso-to-thigh area; no person hides it all.
  // Zones are hidden whole (not cut to the person mask): the mask's edge is where it errs.
  RedactedFrame redactPrivateRegions(const Frame& frame, RedactionInfo info) {
    const cv::Mat& bgr = frame.bgr();
    if (!pose) return hideAll(info, kReasonModelUnavailable, bgr.size());
    auto zonesFrom = [&](const cv::Mat& probability) {
      const auto patient = isolatePatient(probability);
      if (!patient) return ModeRegion::nobody();
      const cv::Rect person_box = cv::boundingRect(*patient);
      BodyZones zones;
      try {
        zones = computeBodyZones(pose->estimate(bgr, person_box), person_box, bgr.size());
      } catch (const std::exception&) {
        return ModeRegion::failed(kReasonInferenceFailed);
      }
      cv::Mat shown(bgr.size(), CV_8U, cv::Scalar(255));
      shown.setTo(0, zones.mask);
      return ModeRegion::shownRegion(shown, zones.uncertain ? kReasonPoseUncertain : kReasonNone);
    };
    // A reused region already hides that frame's zones; this frame adds nothing it knows.
    return redactThroughLadder(frame, info, zonesFrom, [](cv::Mat&) {});
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
  s.selected_probability.release();
  if (s.faces) s.faces->reset();
}

cv::Mat Redactor::lastFramePersonProbability() const {
  return state_->selected_probability.clone();
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
  s.selected_probability.release();  // only this frame's may be handed out

  if (mode == Mode::kVoiceOnly) {
    return avatar(bgr.empty() ? s.last_size.width : bgr.cols,
                  bgr.empty() ? s.last_size.height : bgr.rows, now_us);
  }
  info.sequence = ++s.sequence;
  if (!isUsableFrame(bgr)) {
    return s.hideAll(info, kReasonBadFrame, hasUsableSize(bgr) ? bgr.size() : s.last_size);
  }
  s.last_size = bgr.size();
  if (mode == Mode::kPrivateRegions) return s.redactPrivateRegions(frame, info);
  const bool hides_faces = mode == Mode::kFace || mode == Mode::kBackgroundAndFace;
  const bool shows_only_patient = mode == Mode::kBackground || mode == Mode::kBackgroundAndFace;

  // Faces: hidden in the face modes, and the proof that a person is there in the others (the
  // selfie model alone marks furniture and animals as people when nobody is in view).
  if (!s.faces) return s.hideAll(info, kReasonModelUnavailable, bgr.size());
  std::vector<TrackedFace> faces;
  try {
    faces = s.faces->update(bgr, now_us, hides_faces);
  } catch (const std::exception&) {
    return s.hideAll(info, kReasonInferenceFailed, bgr.size());
  }
  const cv::Mat face_regions = rasteriseFaceRegions(faces, bgr.size());

  auto patientFrom = [&](const cv::Mat& probability) {
    const auto patient = s.isolatePatient(probability);
    const bool face_on_patient = patient && anyFaceOn(faces, *patient);
    if (face_on_patient) s.last_presence_us = now_us;
    const bool present = patient && s.last_presence_us &&
                         now_us - *s.last_presence_us <= kPresenceHoldUs &&
                         now_us >= *s.last_presence_us;
    if (shows_only_patient && !present) return ModeRegion::nobody();
    cv::Mat shown =
        shows_only_patient ? patient->clone() : cv::Mat(bgr.size(), CV_8U, cv::Scalar(255));
    std::uint32_t reasons = kReasonNone;
    if (hides_faces) {
      shown.setTo(0, face_regions);
      if (patient && !face_on_patient) {
        // The patient's face is not found (turned away, looking down): hide the head region.
        shown.setTo(0, headRegion(*patient));
        reasons |= kReasonHeadFallback;
      }
    }
    return ModeRegion::shownRegion(shown, reasons);
  };
  // This frame's faces are known even when its mask is not: hide them on a reused region too.
  auto hideFacesNow = [&](cv::Mat& shown) {
    if (hides_faces) shown.setTo(0, face_regions);
  };
  return s.redactThroughLadder(frame, info, patientFrom, hideFacesNow);
}

}  // namespace veil
