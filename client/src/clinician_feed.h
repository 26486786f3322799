#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>

#include "gst_ptr.h"

namespace veil::client {

// The receive side: a separate pipeline with its own webrtcbin that answers the SFU's offer for
// the clinician's feed. It exists for the clinician's data channel (mode requests); media pads
// end in fakesinks until playback arrives. Nothing received here can reach the send pipeline.
class ClinicianFeed {
 public:
  using AnswerCallback = std::function<void(bool ok, const std::string& sdp_or_error)>;
  using MessageCallback = std::function<void(const std::string& text)>;
  // Decoded audio (AudioPlayback::kCaps), on a streaming thread.
  using AudioCallback = std::function<void(GstSample* sample)>;

  ClinicianFeed(const std::string& ice_address, MessageCallback on_message, AudioCallback on_audio);
  ~ClinicianFeed();
  ClinicianFeed(const ClinicianFeed&) = delete;
  ClinicianFeed& operator=(const ClinicianFeed&) = delete;

  // Applies the SFU's offer and calls `on_answer` on the main loop with a complete answer (ICE
  // gathering finished), or an error.
  void answer(const std::string& offer_sdp, AnswerCallback on_answer);

 private:
  bool linkAudioDecoder(GstPad* pad);
  static GstFlowReturn onAudioSample(GstElement* sink, gpointer self);
  static void onPadAdded(GstElement* webrtc, GstPad* pad, gpointer self);
  static void onConnectionState(GObject* webrtc, GParamSpec* spec, gpointer self);
  static void onDataChannel(GstElement* webrtc, GObject* channel, gpointer self);
  static void onMessage(GObject* channel, gchar* text, gpointer self);
  static gboolean onGatheringPoll(gpointer self);
  void finish(bool ok, const std::string& text);

  static constexpr guint kGatheringPollMs = 20;
  static constexpr int kMaxGatheringPolls = 500;  // 10 s

  ElementPtr pipeline_;
  ElementPtr webrtc_;
  GObjectPtr local_channel_;
  MessageCallback on_message_;
  AudioCallback on_audio_;
  AnswerCallback on_answer_;
  guint gathering_poll_ = 0;
  int gathering_polls_ = 0;
};

}  // namespace veil::client
