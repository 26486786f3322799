// Per-stage cost of background-mode redaction on a real frame, at 640x360 and 1280x720.
// Table rows: <stage>/<frame width>; Google Benchmark's header states the core count.
// Later benchmarks (faces, pose, latency) add rows in the same form.
#include <benchmark/benchmark.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "patient_isolation.h"
#include "redaction_fill.h"
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

void EdgeRefinementAndIsolation(benchmark::State& state) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  const cv::Mat probability = segmenter(veil::SegmenterModel::kGeneral)->segment(frame);
  veil::PatientIsolator isolator;
  for (auto _ : state) {
    cv::Mat foreground;
    cv::compare(veil::refineToEdges(frame, probability), 0.5, foreground, cv::CMP_GE);
    benchmark::DoNotOptimize(isolator.isolate(foreground));
  }
}

void MarginAndFill(benchmark::State& state) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  const cv::Mat shown = segmenter(veil::SegmenterModel::kGeneral)->segment(frame) >= 0.5;
  const double margin = frame.cols * veil::Redactor::kSafetyMarginFractionOfWidth;
  for (auto _ : state) {
    benchmark::DoNotOptimize(veil::composeVisible(frame, veil::visibilityAlpha(shown, margin)));
  }
}

void TotalPerFrame(benchmark::State& state) {
  const cv::Mat frame = benchFrame(static_cast<int>(state.range(0)));
  veil::Redactor redactor(veil::RedactorOptions{});
  std::int64_t t = 0;
  for (auto _ : state) benchmark::DoNotOptimize(redactor.redact(veil::Frame(frame, t += 33'333)));
}

}  // namespace

BENCHMARK_CAPTURE(Segmentation, general, veil::SegmenterModel::kGeneral)
    ->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(Segmentation, landscape, veil::SegmenterModel::kLandscape)
    ->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(EdgeRefinementAndIsolation)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(MarginAndFill)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(TotalPerFrame)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond)->UseRealTime();
