// Per-stage cost of redaction on a real frame (megamind_05, one face), at 640x360 and 1280x720.
// Table rows: <stage>/<frame width>; Google Benchmark's header states the core count.
// Later benchmarks (faces, pose, latency) add rows in the same form.
#include <benchmark/benchmark.h>

#include <chrono>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "model_registry.h"
#include "patient_isolation.h"
#include "redaction_fill.h"
#include "veil/face_detector.h"
#include "veil/pose_landmarker.h"
#include "veil/redactor.h"
#include "visibility.h"

namespace {

cv::Mat benchFrame(int width) {
  const cv::Mat frame = cv::imread(std::string(VEIL_SOURCE_DIR) +
                                   "/tests/data/reference/frames-360p/megamind_05.png");
  cv::Mat scaled;
  cv::resize(frame, scaled, cv::Size(width, width * 9 / 16), 0, 0, cv::INTER_CUBIC);
  return scaled;
}

std::unique_ptr<veil::PersonSegmenter> segmenter(veil::SegmenterModel model) {
  return veil::makeSelfieSegmenter(model, {});
}

void Segmentation(benchmark::State& state, veil::SegmenterModel model) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  auto seg = segmenter(model);
  for (auto _ : state) benchmark::DoNotOptimize(seg->segment(frame));
}

void Isolation(benchmark::State& state) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  const cv::Mat probability = segmenter(veil::SegmenterModel::kGeneral)->segment(frame);
  veil::PatientIsolator isolator;
  for (auto _ : state) {
    cv::Mat foreground;
    cv::compare(probability, veil::Redactor::kPersonThreshold, foreground, cv::CMP_GE);
    benchmark::DoNotOptimize(isolator.isolate(foreground));
  }
}

void FaceDetection(benchmark::State& state, veil::FaceDetectorModel model) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  veil::FaceDetector detector(model, veil::resolveModelsDir({}));
  for (auto _ : state) benchmark::DoNotOptimize(detector.detect(frame));
}

void Pose(benchmark::State& state, veil::PoseModel model) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  veil::PoseLandmarker landmarker(model, veil::resolveModelsDir({}));
  const cv::Rect person(frame.cols / 4, 0, frame.cols / 2, frame.rows);
  for (auto _ : state) benchmark::DoNotOptimize(landmarker.estimate(frame, person));
}

void MarginAndFill(benchmark::State& state) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  const cv::Mat shown = segmenter(veil::SegmenterModel::kGeneral)->segment(frame) >= 0.5;
  const double margin = frame.cols * veil::Redactor::kSafetyMarginFractionOfWidth;
  for (auto _ : state) {
    benchmark::DoNotOptimize(veil::composeVisible(frame, veil::visibilityAlpha(shown, margin)));
  }
}

void TotalPerFrame(benchmark::State& state, veil::Mode mode) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  veil::RedactorOptions options;
  options.mode = mode;
  veil::Redactor redactor(options);
  std::int64_t t = 0;
  for (auto _ : state) benchmark::DoNotOptimize(redactor.redact(veil::Frame(frame, t += 33'333)));
}

// veil-blur per frame in background mode: redaction, plus with --masks-out the 8-bit mask PNG,
// its probability from a second run of the general model (veil-blur before 2026-12-04) or from
// the redactor's own (lastFramePersonProbability). The counter says how often the general model
// ran per frame. Deadline as veil-blur sets it (offline: only a hung inference fails).
enum class MaskSource { kNoMasks, kSecondInference, kRedactorProbability };

void CliFrame(benchmark::State& state, MaskSource source) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  veil::RedactorOptions options;
  options.deadline = std::chrono::seconds(10);
  veil::Redactor redactor(options);
  const auto separate =
      source == MaskSource::kSecondInference ? segmenter(veil::SegmenterModel::kGeneral) : nullptr;
  const std::uint64_t general_before = veil::selfieInferenceCount(veil::SegmenterModel::kGeneral);
  std::int64_t t = 0;
  std::vector<std::uint8_t> png;
  for (auto _ : state) {
    const veil::RedactedFrame out = redactor.redact(veil::Frame(frame, t += 33'333));
    benchmark::DoNotOptimize(out.bgrBytes().data());
    if (source == MaskSource::kNoMasks) continue;
    const cv::Mat probability = source == MaskSource::kSecondInference
                                    ? separate->segment(frame)
                                    : redactor.lastFramePersonProbability();
    cv::Mat mask8;
    probability.convertTo(mask8, CV_8U, 255.0);
    cv::imencode(".png", mask8, png);
    benchmark::DoNotOptimize(png.data());
  }
  state.counters["general_runs_per_frame"] =
      static_cast<double>(veil::selfieInferenceCount(veil::SegmenterModel::kGeneral) -
                          general_before) /
      static_cast<double>(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(Segmentation, general, veil::SegmenterModel::kGeneral)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(Segmentation, landscape, veil::SegmenterModel::kLandscape)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(Isolation)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(FaceDetection, short_range, veil::FaceDetectorModel::kShortRange)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(FaceDetection, full_range, veil::FaceDetectorModel::kFullRange)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(Pose, lite, veil::PoseModel::kLite)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(Pose, full, veil::PoseModel::kFull)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(MarginAndFill)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(TotalPerFrame, background, veil::Mode::kBackground)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(TotalPerFrame, face, veil::Mode::kFace)
    ->Arg(640)
    ->Arg(1280)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(CliFrame, no_masks, MaskSource::kNoMasks)
    ->Arg(640)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(CliFrame, masks_second_inference, MaskSource::kSecondInference)
    ->Arg(640)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(CliFrame, masks_redactor_probability, MaskSource::kRedactorProbability)
    ->Arg(640)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
