#include "send_pipeline.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <nice/agent.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "capture_sources.h"
#include "latency_stamp.h"
#include "negotiation.h"

namespace veil::client {
namespace {

// Roughly 0.07 bit per pixel per frame: ~650 kbit/s at 640x480@30, ~1.9 Mbit/s at 720p30.
int targetBitrate(const SendPipeline::Config& config) {
  return static_cast<int>(0.07 * config.width * config.height * config.fps);
}

std::string videoEncoderChain(const SendPipeline::Config& config) {
  const std::string bitrate = std::to_string(targetBitrate(config));
  const std::string keyframe_interval = std::to_string(config.fps * 2);
  switch (config.codec) {
    case Codec::kH264:
      return "x264enc name=encoder tune=zerolatency speed-preset=ultrafast bitrate=" +
             std::to_string(targetBitrate(config) / 1000) + " key-int-max=" + keyframe_interval +
             " ! video/x-h264,profile=constrained-baseline"
             " ! rtph264pay config-interval=-1 aggregate-mode=zero-latency mtu=1200"
             " ! application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000";
    case Codec::kVp9:
      return "vp9enc name=encoder deadline=1 cpu-used=8 lag-in-frames=0 end-usage=cbr row-mt=true "
             "target-bitrate=" +
             bitrate + " keyframe-max-dist=" + keyframe_interval +
             " ! rtpvp9pay picture-id-mode=15-bit mtu=1200"
             " ! application/x-rtp,media=video,encoding-name=VP9,payload=98,clock-rate=90000";
    case Codec::kVp8:
      break;
  }
  return "vp8enc name=encoder deadline=1 cpu-used=8 lag-in-frames=0 end-usage=cbr "
         "error-resilient=partitions "
         "target-bitrate=" +
         bitrate + " keyframe-max-dist=" + keyframe_interval +
         " ! rtpvp8pay picture-id-mode=15-bit mtu=1200"
         " ! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";
}

// Keeps the RedactedFrame (and so its pixels) alive for as long as GStreamer uses the buffer.
void releaseHeldFrame(gpointer held) {
  const std::unique_ptr<RedactedFrame> frame(static_cast<RedactedFrame*>(held));
}

}  // namespace

std::string SendPipeline::launchDescription() const {
  // The video appsrc is the only video source. A small leaky queue keeps a slow encoder from
  // stalling capture: it drops redacted frames, never substitutes anything else.
  std::string description =
      "webrtcbin name=webrtc bundle-policy=max-bundle "
      "appsrc name=video is-live=true format=time do-timestamp=true block=false "
      "max-bytes=0 max-buffers=2 leaky-type=downstream caps=" +
      videoRawCaps(config_.width, config_.height, config_.fps, "BGR") +
      (config_.preview ? " ! tee name=sent" : "") +
      " ! queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=downstream"
      " ! videoconvert ! video/x-raw,format=I420 ! " +
      videoEncoderChain(config_) + " ! webrtc. ";
  if (config_.preview) {
    // The preview is a second branch of the encoder's tee: the same buffers, after
    // redaction (and after the test-only latency stamp). It never blocks the encoder.
    description +=
        "sent. ! queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream"
        " ! appsink name=preview emit-signals=true sync=false max-buffers=1 drop=true ";
  }
  if (config_.audio) {
    description += std::string(
                       "appsrc name=audio is-live=true format=time do-timestamp=true "
                       "block=false max-bytes=0 max-buffers=16 leaky-type=downstream "
                       "caps=") +
                   kAudioRawCaps +
                   " ! queue ! audioconvert ! opusenc inband-fec=true packet-loss-percentage=10 "
                   "frame-size=20 ! rtpopuspay pt=111 ! application/x-rtp,media=audio,"
                   "encoding-name=OPUS,payload=111,clock-rate=48000,useinbandfec=(string)1 "
                   "! webrtc. ";
  }
  return description;
}

SendPipeline::SendPipeline(const Config& config) : config_(config) {
  GError* raw_error = nullptr;
  GstElement* pipeline = gst_parse_launch(launchDescription().c_str(), &raw_error);
  const ErrorPtr error(raw_error);
  if (pipeline == nullptr) throw std::runtime_error("send pipeline: " + errorText(error.get()));
  pipeline_ = ElementPtr{GST_ELEMENT(gst_object_ref_sink(pipeline))};
  if (error) throw std::runtime_error("send pipeline: " + errorText(error.get()));
  gst_element_set_name(pipeline_.get(), "veil-send");

  webrtc_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "webrtc"));
  video_src_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "video"));
  if (config_.audio) audio_src_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "audio"));
  if (!webrtc_ || !video_src_ || (config_.audio && !audio_src_)) {
    throw std::runtime_error("send pipeline: missing webrtcbin or appsrc");
  }
  if (config_.preview) {
    const ElementPtr preview(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "preview"));
    if (!preview) throw std::runtime_error("send pipeline: missing the preview appsink");
    g_signal_connect(preview.get(), "new-sample", G_CALLBACK(&SendPipeline::onPreviewSample), this);
  }
  configureTransceivers();
  pinIceAddress();
  g_signal_connect(webrtc_.get(), "notify::connection-state",
                   G_CALLBACK(&SendPipeline::onConnectionStateChanged), this);
  g_signal_connect(webrtc_.get(), "notify::ice-connection-state",
                   G_CALLBACK(&SendPipeline::onConnectionStateChanged), this);
  const BusPtr bus{gst_element_get_bus(pipeline_.get())};
  bus_watch_ = gst_bus_add_watch(bus.get(), &SendPipeline::onBusMessage, this);
}

SendPipeline::~SendPipeline() {
  if (stats_timer_ != 0) g_source_remove(stats_timer_);
  if (media_poll_ != 0) g_source_remove(media_poll_);
  stop();
  if (bus_watch_ != 0) g_source_remove(bus_watch_);
  g_signal_handlers_disconnect_by_data(webrtc_.get(), this);
  if (channel_) g_signal_handlers_disconnect_by_data(channel_.get(), this);
}

GstFlowReturn SendPipeline::onPreviewSample(GstElement* sink, gpointer self_ptr) {
  GstSample* raw = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &raw);
  const SamplePtr sample(raw);
  auto* self = static_cast<SendPipeline*>(self_ptr);
  if (sample && self->on_preview_) self->on_preview_(sample.get());
  return GST_FLOW_OK;
}

void SendPipeline::configureTransceivers() {
  // Publish only; NACK so Janus can ask for lost video packets again.
  GArray* raw_transceivers = nullptr;
  g_signal_emit_by_name(webrtc_.get(), "get-transceivers", &raw_transceivers);
  if (raw_transceivers == nullptr) return;
  const std::unique_ptr<GArray, decltype(&g_array_unref)> transceivers(raw_transceivers,
                                                                       &g_array_unref);
  for (guint i = 0; i < transceivers->len; ++i) {
    GstWebRTCRTPTransceiver* transceiver =
        g_array_index(transceivers.get(), GstWebRTCRTPTransceiver*, i);
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack",
                 TRUE, nullptr);
  }
}

void SendPipeline::whenMediaFlowing(std::function<void()> ready) {
  on_media_flowing_ = std::move(ready);
  // Polled on the main loop rather than probed: a pad's current caps are set only once webrtcbin
  // has handled the caps event (and noted the SSRC), which a probe would see too early.
  media_poll_ = g_timeout_add(kMediaPollMs, &SendPipeline::onMediaPoll, this);
}

bool SendPipeline::everyMediaPadHasCaps() const {
  const IteratorPtr pads(gst_element_iterate_sink_pads(webrtc_.get()));
  GValue item = G_VALUE_INIT;
  bool all = true;
  int count = 0;
  while (all && gst_iterator_next(pads.get(), &item) == GST_ITERATOR_OK) {
    const CapsPtr caps(gst_pad_get_current_caps(GST_PAD(g_value_get_object(&item))));
    g_value_reset(&item);
    all = caps != nullptr;
    ++count;
  }
  g_value_unset(&item);
  return all && count > 0;
}

gboolean SendPipeline::onMediaPoll(gpointer self_ptr) {
  auto* self = static_cast<SendPipeline*>(self_ptr);
  if (!self->everyMediaPadHasCaps()) return G_SOURCE_CONTINUE;
  self->media_poll_ = 0;
  self->on_media_flowing_();
  return G_SOURCE_REMOVE;
}

void SendPipeline::startBitrateControl() {
  if (stats_timer_ != 0) return;
  const int start = targetBitrate(config_);
  // Never below what keeps a redacted picture legible, never above the configured target.
  bitrate_ = std::make_unique<BitrateController>(start, std::max(start / 8, 100'000), start);
  stats_timer_ = g_timeout_add_seconds(kStatsIntervalSeconds, &SendPipeline::onStatsTimer, this);
}

gboolean SendPipeline::onStatsTimer(gpointer self) {
  // The promise's callback runs on a webrtcbin thread and owns the promise from then on.
  GstPromise* promise = gst_promise_new_with_change_func(&SendPipeline::onStats, self, nullptr);
  g_signal_emit_by_name(static_cast<SendPipeline*>(self)->webrtc_.get(), "get-stats", nullptr,
                        promise);
  return G_SOURCE_CONTINUE;
}

std::optional<guint> SendPipeline::videoSsrc() const {
  const IteratorPtr pads(gst_element_iterate_sink_pads(webrtc_.get()));
  GValue item = G_VALUE_INIT;
  std::optional<guint> ssrc;
  while (!ssrc && gst_iterator_next(pads.get(), &item) == GST_ITERATOR_OK) {
    const CapsPtr caps(gst_pad_get_current_caps(GST_PAD(g_value_get_object(&item))));
    g_value_reset(&item);
    if (!caps) continue;
    const GstStructure* structure = gst_caps_get_structure(caps.get(), 0);
    guint value = 0;
    if (g_strcmp0(gst_structure_get_string(structure, "media"), "video") == 0 &&
        gst_structure_get_uint(structure, "ssrc", &value)) {
      ssrc = value;
    }
  }
  g_value_unset(&item);
  return ssrc;
}

void SendPipeline::onStats(GstPromise* raw_promise, gpointer self_ptr) {
  auto* self = static_cast<SendPipeline*>(self_ptr);
  const PromisePtr promise(raw_promise);
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  const std::optional<guint> video_ssrc = self->videoSsrc();
  std::optional<double> fraction_lost;
  for (int i = 0; reply != nullptr && video_ssrc && i < gst_structure_n_fields(reply); ++i) {
    const GValue* value = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
    if (!GST_VALUE_HOLDS_STRUCTURE(value)) continue;
    const GstStructure* stats = gst_value_get_structure(value);
    GstWebRTCStatsType type{};
    guint ssrc = 0;
    double lost = 0.0;
    if (gst_structure_get(stats, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr) &&
        type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP &&
        gst_structure_get_uint(stats, "ssrc", &ssrc) && ssrc == *video_ssrc &&
        gst_structure_get_double(stats, "fraction-lost", &lost)) {
      fraction_lost = lost;
    }
  }
  auto report =
      std::make_unique<std::pair<SendPipeline*, std::optional<double>>>(self, fraction_lost);
  g_idle_add(
      [](gpointer data) -> gboolean {
        const std::unique_ptr<std::pair<SendPipeline*, std::optional<double>>> owned(
            static_cast<std::pair<SendPipeline*, std::optional<double>>*>(data));
        owned->first->applyLossReport(owned->second);
        return G_SOURCE_REMOVE;
      },
      report.release());
}

void SendPipeline::applyLossReport(std::optional<double> fraction_lost) {
  if (!fraction_lost || !bitrate_ || stats_timer_ == 0) return;
  const std::optional<int> changed = bitrate_->onReport(*fraction_lost);
  if (!changed) return;
  const ElementPtr encoder{gst_bin_get_by_name(GST_BIN(pipeline_.get()), "encoder")};
  if (!encoder) return;
  if (config_.codec == Codec::kH264) {
    g_object_set(encoder.get(), "bitrate", static_cast<guint>(*changed / 1000), nullptr);
  } else {
    g_object_set(encoder.get(), "target-bitrate", *changed, nullptr);
  }
  if (on_state_) {
    on_state_("video bitrate " + std::to_string(*changed / 1000) + " kbit/s (loss " +
              std::to_string(static_cast<int>(*fraction_lost * 100)) + "%)");
  }
}

void SendPipeline::pinIceAddress() {
  client::pinIceAddress(webrtc_.get(), config_.ice_address);
}

bool SendPipeline::start() {
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    return false;
  }
  GstWebRTCDataChannel* raw_channel = nullptr;
  g_signal_emit_by_name(webrtc_.get(), "create-data-channel", "veil-state", nullptr, &raw_channel);
  if (raw_channel == nullptr) return false;
  channel_.reset(G_OBJECT(raw_channel));
  g_signal_connect(channel_.get(), "on-open", G_CALLBACK(&SendPipeline::onChannelOpen), this);
  return true;
}

void SendPipeline::stop() {
  channel_open_ = false;
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

bool SendPipeline::pushVideo(const RedactedFrame& frame) {
  if (frame.width() != config_.width || frame.height() != config_.height) return false;
  const std::span<const std::uint8_t> pixels = frame.bgrBytes();
  const int stride = frame.width() * 3;
  GstBuffer* raw_buffer = nullptr;
  if (config_.latency_stamp) {
    // Measurement builds only: the stamp needs a writable copy of the redacted pixels.
    raw_buffer = gst_buffer_new_allocate(nullptr, pixels.size(), nullptr);
    MappedBuffer mapped(raw_buffer, GST_MAP_WRITE);
    if (!mapped.ok()) {
      gst_buffer_unref(raw_buffer);
      return false;
    }
    std::copy(pixels.begin(), pixels.end(), mapped.mutableData());
    drawLatencyStamp(mapped.mutableData(), frame.width(), frame.height(), stride,
                     static_cast<std::uint32_t>(frame.info().timestamp_us / 1000));
  } else {
    // Zero copy: the buffer wraps the frame's immutable pixels and holds a reference to them.
    auto held = std::make_unique<RedactedFrame>(frame);
    raw_buffer = gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, const_cast<std::uint8_t*>(pixels.data()), pixels.size(), 0,
        pixels.size(), held.release(), &releaseHeldFrame);
  }
  gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
  gint strides[GST_VIDEO_MAX_PLANES] = {stride};
  gst_buffer_add_video_meta_full(raw_buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_BGR,
                                 frame.width(), frame.height(), 1, offsets, strides);
  // gst_app_src_push_buffer takes ownership of the buffer.
  if (gst_app_src_push_buffer(GST_APP_SRC(video_src_.get()), raw_buffer) != GST_FLOW_OK) {
    return false;
  }
  frames_pushed_++;
  sendFrameInfo(frame.info());
  return true;
}

bool SendPipeline::pushAudio(GstSample* sample) {
  if (!audio_src_) return false;
  GstBuffer* source = gst_sample_get_buffer(sample);
  if (source == nullptr) return false;
  // Same memory, no capture-side timestamps: the send pipeline stamps its own running time.
  GstBuffer* copy = gst_buffer_copy_region(source, GST_BUFFER_COPY_MEMORY, 0, -1);
  return gst_app_src_push_buffer(GST_APP_SRC(audio_src_.get()), copy) == GST_FLOW_OK;
}

void SendPipeline::sendFrameInfo(const RedactionInfo& info) {
  if (!channel_open_) return;
  const nlohmann::json message = {{"mode", std::string(toString(info.mode))},
                                  {"state", std::string(toString(info.state))},
                                  {"seq", info.sequence}};
  GError* raw_error = nullptr;
  gst_webrtc_data_channel_send_string_full(GST_WEBRTC_DATA_CHANNEL(channel_.get()),
                                           message.dump().c_str(), &raw_error);
  const ErrorPtr error(raw_error);
}

void SendPipeline::onChannelOpen(GObject*, gpointer self) {
  static_cast<SendPipeline*>(self)->channel_open_ = true;
  if (static_cast<SendPipeline*>(self)->on_state_) {
    static_cast<SendPipeline*>(self)->on_state_("data channel open");
  }
}

void SendPipeline::onConnectionStateChanged(GObject* webrtc, GParamSpec* spec, gpointer self) {
  auto* pipeline = static_cast<SendPipeline*>(self);
  if (!pipeline->on_state_) return;
  gint value = 0;
  g_object_get(webrtc, spec->name, &value, nullptr);
  GEnumClass* enum_class = G_ENUM_CLASS(g_type_class_ref(spec->value_type));
  const GEnumValue* named = g_enum_get_value(enum_class, value);
  pipeline->on_state_(std::string(spec->name) + " " + (named ? named->value_nick : "?"));
  g_type_class_unref(enum_class);
}

gboolean SendPipeline::onBusMessage(GstBus*, GstMessage* message, gpointer self_ptr) {
  auto* self = static_cast<SendPipeline*>(self_ptr);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR && self->on_state_) {
    GError* raw_error = nullptr;
    gchar* raw_debug = nullptr;
    gst_message_parse_error(message, &raw_error, &raw_debug);
    const ErrorPtr error(raw_error);
    const GCharsPtr debug(raw_debug);
    self->on_state_("error " + errorText(error.get()));
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veil::client
