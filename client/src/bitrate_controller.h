#pragma once

#include <optional>

namespace veil::client {

// Adapts the video encoder's target bitrate to what the path to the SFU delivers, from the loss
// the SFU reports in RTCP (webrtcbin's remote-inbound-rtp stats). Additive-increase would be
// too slow to recover at these rates, so both directions are multiplicative: heavy loss cuts the
// rate at once, a clean report probes upwards slowly, moderate loss holds. Debian has no
// gst-plugins-rs congestion controller, hence this small one.
class BitrateController {
 public:
  BitrateController(int start_bps, int min_bps, int max_bps)
      : current_bps_(start_bps), min_bps_(min_bps), max_bps_(max_bps) {}

  static constexpr double kHeavyLoss = 0.10;
  static constexpr double kCleanLoss = 0.02;
  static constexpr double kDecrease = 0.75;
  static constexpr double kIncrease = 1.08;

  // `fraction_lost` in [0,1] since the previous report. Returns the new rate when it changed.
  std::optional<int> onReport(double fraction_lost);

  int currentBps() const { return current_bps_; }

 private:
  int current_bps_;
  int min_bps_;
  int max_bps_;
};

}  // namespace veil::client
