#include "clinician_feed.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <memory>
#include <stdexcept>

#include "audio_playback.h"
#include "log.h"
#include "negotiation.h"

namespace veil::client {
namespace {

using DescriptionPtr =
    std::unique_ptr<GstWebRTCSessionDescription, decltype(&gst_webrtc_session_description_free)>;

// Emits a webrtcbin action that takes a promise and waits for its reply (webrtcbin answers on
// its own thread, so waiting here cannot deadlock).
const GstStructure* emitAndWait(GstElement* webrtc, const char* action, PromisePtr& promise,
                                GstWebRTCSessionDescription* description) {
  promise.reset(gst_promise_new());
  if (description != nullptr) {
    g_signal_emit_by_name(webrtc, action, description, promise.get());
  } else {
    g_signal_emit_by_name(webrtc, action, nullptr, promise.get());
  }
  if (gst_promise_wait(promise.get()) != GST_PROMISE_RESULT_REPLIED) return nullptr;
  return gst_promise_get_reply(promise.get());
}

}  // namespace

ClinicianFeed::ClinicianFeed(const std::string& ice_address,
                             const std::vector<std::string>& relay_turn_uris,
                             MessageCallback on_message, AudioCallback on_audio,
                             VideoCallback on_video)
    : on_message_(std::move(on_message)),
      on_audio_(std::move(on_audio)),
      on_video_(std::move(on_video)) {
  pipeline_.reset(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new("clinician-feed"))));
  webrtc_ = makeElement("webrtcbin", "receive");
  if (!webrtc_) throw std::runtime_error("webrtcbin is not installed");
  g_object_set(webrtc_.get(), "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), webrtc_.get());
  pinIceAddress(webrtc_.get(), ice_address);
  if (!relay_turn_uris.empty()) useRelayOnly(webrtc_.get(), relay_turn_uris);
  g_signal_connect(webrtc_.get(), "pad-added", G_CALLBACK(&ClinicianFeed::onPadAdded), this);
  g_signal_connect(webrtc_.get(), "on-data-channel", G_CALLBACK(&ClinicianFeed::onDataChannel),
                   this);
  g_signal_connect(webrtc_.get(), "notify::connection-state",
                   G_CALLBACK(&ClinicianFeed::onConnectionState), this);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error("cannot start the receive pipeline");
  }
}

ClinicianFeed::~ClinicianFeed() {
  if (gathering_poll_ != 0) g_source_remove(gathering_poll_);
  g_signal_handlers_disconnect_by_data(webrtc_.get(), this);
  if (const guint check = candidate_check_.exchange(0); check != 0) g_source_remove(check);
  if (local_channel_) g_signal_handlers_disconnect_by_data(local_channel_.get(), this);
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

void ClinicianFeed::answer(const std::string& offer_sdp, AnswerCallback on_answer) {
  on_answer_ = std::move(on_answer);
  GstSDPMessage* raw_sdp = nullptr;
  if (gst_sdp_message_new_from_text(offer_sdp.c_str(), &raw_sdp) != GST_SDP_OK) {
    finish(false, "the clinician feed's offer is not SDP");
    return;
  }
  // The description takes ownership of the SDP message.
  const DescriptionPtr offer(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, raw_sdp),
                             &gst_webrtc_session_description_free);
  PromisePtr promise;
  emitAndWait(webrtc_.get(), "set-remote-description", promise, offer.get());

  // A local channel before answering starts SCTP (server/README.md, data channels).
  GstWebRTCDataChannel* raw_channel = nullptr;
  g_signal_emit_by_name(webrtc_.get(), "create-data-channel", "veil-receive", nullptr,
                        &raw_channel);
  if (raw_channel != nullptr) {
    local_channel_.reset(G_OBJECT(raw_channel));
    g_signal_connect(local_channel_.get(), "on-message-string",
                     G_CALLBACK(&ClinicianFeed::onMessage), this);
  }

  const GstStructure* reply = emitAndWait(webrtc_.get(), "create-answer", promise, nullptr);
  GstWebRTCSessionDescription* raw_answer = nullptr;
  if (reply == nullptr ||
      !gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw_answer,
                         nullptr) ||
      raw_answer == nullptr) {
    finish(false, "webrtcbin did not answer the clinician feed's offer");
    return;
  }
  const DescriptionPtr answer(raw_answer, &gst_webrtc_session_description_free);
  emitAndWait(webrtc_.get(), "set-local-description", promise, answer.get());
  gathering_polls_ = 0;
  gathering_poll_ = g_timeout_add(kGatheringPollMs, &ClinicianFeed::onGatheringPoll, this);
}

gboolean ClinicianFeed::onGatheringPoll(gpointer self_ptr) {
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(self->webrtc_.get(), "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
    if (++self->gathering_polls_ < kMaxGatheringPolls) return G_SOURCE_CONTINUE;
    self->gathering_poll_ = 0;
    self->finish(false, "ICE gathering for the clinician feed did not finish");
    return G_SOURCE_REMOVE;
  }
  self->gathering_poll_ = 0;
  GstWebRTCSessionDescription* raw_local = nullptr;
  g_object_get(self->webrtc_.get(), "local-description", &raw_local, nullptr);
  if (raw_local == nullptr) {
    self->finish(false, "no local description for the clinician feed");
    return G_SOURCE_REMOVE;
  }
  const DescriptionPtr local(raw_local, &gst_webrtc_session_description_free);
  const GCharsPtr text(gst_sdp_message_as_text(local->sdp));
  self->finish(true, text.get());
  return G_SOURCE_REMOVE;
}

void ClinicianFeed::finish(bool ok, const std::string& text) {
  if (!on_answer_) return;
  // Later, on the main loop: the callback may destroy this object.
  onMainLoop([callback = std::move(on_answer_), ok, text] { callback(ok, text); });
  on_answer_ = nullptr;
}

void ClinicianFeed::onPadAdded(GstElement*, GstPad* pad, gpointer self_ptr) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  const CapsPtr caps(gst_pad_get_current_caps(pad));
  const GstStructure* structure = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  const char* media = structure ? gst_structure_get_string(structure, "media") : nullptr;
  const char* encoding = structure ? gst_structure_get_string(structure, "encoding-name") : nullptr;
  if (media != nullptr && std::string(media) == "audio" && self->on_audio_ &&
      self->linkAudioDecoder(pad)) {
    return;
  }
  if (media != nullptr && std::string(media) == "video" && encoding != nullptr && self->on_video_ &&
      self->linkVideoDecoder(pad, encoding)) {
    return;
  }
  self->linkDiscard(pad);
}

void ClinicianFeed::linkDiscard(GstPad* pad) {
  // Received RTP nobody decodes is discarded, so webrtcbin never stalls on it.
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (sink == nullptr) return;
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), sink);
  gst_element_sync_state_with_parent(sink);
  const PadPtr sink_pad(gst_element_get_static_pad(sink, "sink"));
  gst_pad_link(pad, sink_pad.get());
}

bool ClinicianFeed::linkVideoDecoder(GstPad* pad, const std::string& encoding) {
  // Whatever the SFU forwards from the clinician's browser. The depayloaders ask for a keyframe
  // after loss and drop frames until one arrives, so a decoder never shows a broken picture.
  std::string chain;
  if (encoding == "VP8") {
    chain = "rtpvp8depay request-keyframe=true wait-for-keyframe=true ! vp8dec";
  } else if (encoding == "VP9") {
    chain = "rtpvp9depay request-keyframe=true wait-for-keyframe=true ! vp9dec";
  } else if (encoding == "H264") {
    chain = "rtph264depay request-keyframe=true wait-for-keyframe=true ! h264parse ! avdec_h264";
  } else {
    onMainLoop([encoding] { logLine("clinician feed: video codec " + encoding + " not decoded"); });
    return false;
  }
  const std::string description =
      chain +
      " ! queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=downstream"
      " ! appsink name=decoded sync=false async=false emit-signals=true max-buffers=2"
      " drop=true";
  std::string parse_error;
  if (!linkDecodingBin(pad, description, G_CALLBACK(&ClinicianFeed::onVideoSample), parse_error)) {
    if (!parse_error.empty()) {
      onMainLoop([parse_error] { logLine("clinician feed: no video decoder: " + parse_error); });
    }
    return false;
  }
  onMainLoop([encoding] { logLine("clinician feed: video linked (" + encoding + ")"); });
  return true;
}

bool ClinicianFeed::linkDecodingBin(GstPad* pad, const std::string& description,
                                    GCallback on_sample, std::string& parse_error) {
  GError* raw_error = nullptr;
  GstElement* bin = gst_parse_bin_from_description(description.c_str(), TRUE, &raw_error);
  const ErrorPtr error(raw_error);
  if (bin == nullptr) {
    parse_error = errorText(error.get());
    return false;
  }
  gst_bin_add(GST_BIN(pipeline_.get()), bin);  // the pipeline takes the floating ref
  const ElementPtr sink(gst_bin_get_by_name(GST_BIN(bin), "decoded"));
  g_signal_connect(sink.get(), "new-sample", on_sample, this);
  gst_element_sync_state_with_parent(bin);
  const PadPtr sink_pad(gst_element_get_static_pad(bin, "sink"));
  return gst_pad_link(pad, sink_pad.get()) == GST_PAD_LINK_OK;
}

GstFlowReturn ClinicianFeed::onVideoSample(GstElement* sink, gpointer self_ptr) {
  GstSample* raw = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &raw);
  const SamplePtr sample(raw);
  if (!sample) return GST_FLOW_OK;
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  if (!self->video_size_logged_.exchange(true)) {
    // Size only: never anything about the picture itself.
    const GstCaps* caps = gst_sample_get_caps(sample.get());
    int width = 0;
    int height = 0;
    if (caps != nullptr && gst_caps_get_size(caps) > 0) {
      const GstStructure* structure = gst_caps_get_structure(caps, 0);
      gst_structure_get_int(structure, "width", &width);
      gst_structure_get_int(structure, "height", &height);
    }
    onMainLoop([width, height] {
      logLine("clinician feed: video decoding " + std::to_string(width) + "x" +
              std::to_string(height));
    });
  }
  self->on_video_(sample.get());
  return GST_FLOW_OK;
}

bool ClinicianFeed::linkAudioDecoder(GstPad* pad) {
  const std::string description =
      std::string("rtpopusdepay ! opusdec ! audioconvert ! audioresample ! ") +
      AudioPlayback::kCaps + " ! appsink name=decoded sync=false emit-signals=true";
  std::string parse_error;
  if (!linkDecodingBin(pad, description, G_CALLBACK(&ClinicianFeed::onAudioSample), parse_error)) {
    return false;
  }
  onMainLoop([] { logLine("clinician feed: audio decoding"); });
  return true;
}

GstFlowReturn ClinicianFeed::onAudioSample(GstElement* sink, gpointer self_ptr) {
  GstSample* raw = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &raw);
  const SamplePtr sample(raw);
  if (sample) static_cast<ClinicianFeed*>(self_ptr)->on_audio_(sample.get());
  return GST_FLOW_OK;
}

void ClinicianFeed::onConnectionState(GObject* webrtc, GParamSpec*, gpointer self_ptr) {
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc, "connection-state", &state, nullptr);
  static constexpr const char* kNames[] = {"new",          "connecting", "connected",
                                           "disconnected", "failed",     "closed"};
  const auto index = static_cast<std::size_t>(state);
  const std::string name = index < std::size(kNames) ? kNames[index] : "?";
  onMainLoop([name] { logLine("clinician feed: connection " + name); });
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && self->candidate_check_ == 0) {
    self->candidate_check_ =
        g_timeout_add(kCandidateCheckMs, &ClinicianFeed::onCandidateCheck, self);
  }
}

gboolean ClinicianFeed::onCandidateCheck(gpointer self_ptr) {
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  self->candidate_check_ = 0;
  // Which path the media takes (host, relay...), never an address.
  selectedCandidateType(self->webrtc_.get(), [](const std::string& type) {
    logLine("clinician feed: ICE selected local candidate " + (type.empty() ? "unknown" : type));
  });
  return G_SOURCE_REMOVE;
}

void ClinicianFeed::onDataChannel(GstElement*, GObject* channel, gpointer self) {
  onMainLoop([] { logLine("clinician feed: data channel"); });
  g_signal_connect(channel, "on-message-string", G_CALLBACK(&ClinicianFeed::onMessage), self);
}

void ClinicianFeed::onMessage(GObject*, gchar* text, gpointer self_ptr) {
  if (text == nullptr) return;
  auto* self = static_cast<ClinicianFeed*>(self_ptr);
  std::string message(text);
  // The feed outlives every queued message only while the app keeps it; the app drops it on the
  // main loop, after which queued lambdas must not touch it: they capture the callback by value.
  MessageCallback callback = self->on_message_;
  onMainLoop([callback, message] { callback(message); });
}

}  // namespace veil::client
