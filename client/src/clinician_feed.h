#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "gst_ptr.h"

namespace veil::client {

// The receive side: a separate pipeline with its own webrtcbin that answers the SFU's offer for
// the clinician's feed: the clinician's data channel (mode requests), audio (Opus, decoded for
// AudioPlayback) and video (VP8, VP9 or H.264 by the RTP caps, decoded for a window or dropped).
// Nothing received here can reach the send pipeline.
class ClinicianFeed {
 public:
  using AnswerCallback = std::function<void(bool ok, const std::string& sdp_or_error)>;
  using MessageCallback = std::function<void(const std::string& text)>;
  // Decoded audio (AudioPlayback::kCaps), on a streaming thread.
  using AudioCallback = std::function<void(GstSample* sample)>;
  // Decoded video frames (raw, the decoder's format and size), on a streaming thread.
  using VideoCallback = std::function<void(GstSample* sample)>;

  // `relay_turn_uris` non-empty: relay-only ICE through those TURN servers (useRelayOnly).
  ClinicianFeed(const std::string& ice_address, const std::vector<std::string>& relay_turn_uris,
                MessageCallback on_message, AudioCallback on_audio, VideoCallback on_video);
  ~ClinicianFeed();
  ClinicianFeed(const ClinicianFeed&) = delete;
  ClinicianFeed& operator=(const ClinicianFeed&) = delete;

  // Applies the SFU's offer and calls `on_answer` on the main loop with a complete answer (ICE
  // gathering finished), or an error.
  void answer(const std::string& offer_sdp, AnswerCallback on_answer);

  GstElement* webrtc() const { return webrtc_.get(); }

 private:
  bool linkAudioDecoder(GstPad* pad);
  bool linkVideoDecoder(GstPad* pad, const std::string& encoding);
  // Adds `description` (ending in an appsink named "decoded") to the pipeline, connects
  // `on_sample` to it and links `pad` to its sink. `parse_error` is set when it cannot be built.
  bool linkDecodingBin(GstPad* pad, const std::string& description, GCallback on_sample,
                       std::string& parse_error);
  void linkDiscard(GstPad* pad);
  static GstFlowReturn onAudioSample(GstElement* sink, gpointer self);
  static GstFlowReturn onVideoSample(GstElement* sink, gpointer self);
  static void onPadAdded(GstElement* webrtc, GstPad* pad, gpointer self);
  static void onConnectionState(GObject* webrtc, GParamSpec* spec, gpointer self);
  static void onDataChannel(GstElement* webrtc, GObject* channel, gpointer self);
  static void onMessage(GObject* channel, gchar* text, gpointer self);
  static gboolean onGatheringPoll(gpointer self);
  static gboolean onCandidateCheck(gpointer self);
  void finish(bool ok, const std::string& text);

  static constexpr guint kGatheringPollMs = 20;
  static constexpr int kMaxGatheringPolls = 500;  // 10 s

  ElementPtr pipeline_;
  ElementPtr webrtc_;
  GObjectPtr local_channel_;
  MessageCallback on_message_;
  AudioCallback on_audio_;
  VideoCallback on_video_;
  std::atomic<bool> video_size_logged_{false};
  AnswerCallback on_answer_;
  guint gathering_poll_ = 0;
  std::atomic<guint> candidate_check_{0};
  static constexpr guint kCandidateCheckMs = 1000;  // after "connected", once a pair is chosen
  int gathering_polls_ = 0;
};

}  // namespace veil::client
