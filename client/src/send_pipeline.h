#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "bitrate_controller.h"
#include "gst_ptr.h"
#include "options.h"
#include "veil/redacted_frame.h"

namespace veil::client {

// The send side: its own GstPipeline whose only video source is the appsrc "video", fed with
// RedactedFrames, → encoder → payloader → webrtcbin; audio enters through the appsrc "audio".
// There is deliberately no way to hand it a raw frame or a cv::Mat.
class SendPipeline {
 public:
  struct Config {
    Codec codec = Codec::kVp8;
    int width = 640;
    int height = 480;
    int fps = 30;
    std::string ice_address;  // empty: let libnice choose (only for tests that never connect)
    bool audio = true;
    bool latency_stamp = false;
    // A tee after the appsrc also hands every buffer that enters the encoder to an appsink
    // ("preview"), so the patient can be shown exactly what is sent.
    bool preview = false;
  };
  using SampleCallback = std::function<void(GstSample*)>;
  using StateCallback = std::function<void(const std::string& what)>;

  explicit SendPipeline(const Config& config);
  ~SendPipeline();
  SendPipeline(const SendPipeline&) = delete;
  SendPipeline& operator=(const SendPipeline&) = delete;

  // Goes to PLAYING and opens the "veil-state" data channel (before any offer, so the offer
  // carries it).
  bool start();
  void stop();

  // The only way video enters the send path. The buffer wraps the frame's own immutable pixels.
  bool pushVideo(const RedactedFrame& frame);
  // Audio from the capture side (re-timestamped on entry).
  bool pushAudio(GstSample* sample);

  GstElement* pipeline() const { return pipeline_.get(); }
  GstElement* webrtc() const { return webrtc_.get(); }
  std::uint64_t framesPushed() const { return frames_pushed_.load(); }

  // Calls `ready` once on the default main context when every media pad of webrtcbin has
  // negotiated caps (so the offer carries the real SSRCs; Janus drops packets with an SSRC the
  // offer did not announce).
  void whenMediaFlowing(std::function<void()> ready);

  // Polls webrtcbin's stats every few seconds and adapts the encoder's bitrate to the loss the
  // SFU reports (BitrateController). Call once the peer connection is up.
  void startBitrateControl();

  // With Config::preview: called on a streaming thread with each buffer the encoder receives.
  void setPreviewCallback(SampleCallback callback) { on_preview_ = std::move(callback); }

  // Reports bus errors and ICE/peer connection state changes (called on the main loop).
  void setStateCallback(StateCallback callback) { on_state_ = std::move(callback); }

 private:
  std::string launchDescription() const;
  void configureTransceivers();
  void pinIceAddress();
  void sendFrameInfo(const RedactionInfo& info);
  static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);
  static void onConnectionStateChanged(GObject* webrtc, GParamSpec* spec, gpointer self);
  static void onChannelOpen(GObject* channel, gpointer self);
  bool everyMediaPadHasCaps() const;
  static gboolean onMediaPoll(gpointer self);
  void applyLossReport(std::optional<double> fraction_lost);
  std::optional<guint> videoSsrc() const;
  static gboolean onStatsTimer(gpointer self);
  static GstFlowReturn onPreviewSample(GstElement* sink, gpointer self);
  static void onStats(GstPromise* promise, gpointer self);

  static constexpr guint kStatsIntervalSeconds = 2;
  static constexpr guint kMediaPollMs = 20;

  Config config_;
  ElementPtr pipeline_;
  ElementPtr webrtc_;
  ElementPtr video_src_;
  ElementPtr audio_src_;
  GObjectPtr channel_;
  guint bus_watch_ = 0;
  std::atomic<bool> channel_open_{false};
  std::atomic<std::uint64_t> frames_pushed_{0};
  std::unique_ptr<BitrateController> bitrate_;
  guint stats_timer_ = 0;
  guint media_poll_ = 0;
  std::function<void()> on_media_flowing_;
  StateCallback on_state_;
  SampleCallback on_preview_;
};

}  // namespace veil::client
