#include "negotiation.h"

#include <agent.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <memory>
#include <stdexcept>

#include "gst_ptr.h"

namespace veil::client {
namespace {

using DescriptionPtr =
    std::unique_ptr<GstWebRTCSessionDescription, decltype(&gst_webrtc_session_description_free)>;

// True when every audio and video section names its SSRC: Janus drops RTP whose SSRC the offer
// did not announce, so an offer without them would publish a frozen picture.
bool announcesEverySsrc(const GstSDPMessage* sdp) {
  for (guint i = 0; i < gst_sdp_message_medias_len(sdp); ++i) {
    const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
    const std::string kind = gst_sdp_media_get_media(media);
    if ((kind == "audio" || kind == "video") &&
        gst_sdp_media_get_attribute_val(media, "ssrc") == nullptr) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Queues `work` on the default main context, from any thread. (g_idle_add, not
// g_main_context_invoke: the latter runs the work right away in the calling thread whenever that
// thread can acquire the context, e.g. a streaming thread before the loop runs.)
void onMainLoop(std::function<void()> work) {
  auto owned = std::make_unique<std::function<void()>>(std::move(work));
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()>*>(data))();
        return G_SOURCE_REMOVE;
      },
      owned.release(),
      [](gpointer data) {
        const std::unique_ptr<std::function<void()>> done(
            static_cast<std::function<void()>*>(data));
      });
}

void pinIceAddress(GstElement* webrtc, const std::string& ice_address) {
  GstWebRTCICE* raw_ice = nullptr;
  g_object_get(webrtc, "ice-agent", &raw_ice, nullptr);
  if (raw_ice == nullptr) throw std::runtime_error("webrtcbin has no ICE agent");
  const GObjectPtr ice(G_OBJECT(raw_ice));
  g_object_set(ice.get(), "ice-tcp", FALSE, nullptr);

  NiceAgent* raw_agent = nullptr;
  g_object_get(ice.get(), "agent", &raw_agent, nullptr);
  if (raw_agent == nullptr) throw std::runtime_error("webrtcbin ICE object has no NiceAgent");
  const GObjectPtr agent(G_OBJECT(raw_agent));
  // libnice's UPnP-IGD support multicasts SSDP searches for a home router to open ports on: a
  // contact outside the deployment (threat model C24) that the SFU path never needs.
  g_object_set(agent.get(), "upnp", FALSE, nullptr);
  if (ice_address.empty()) return;

  // Janus cannot pair with a loopback candidate, and a host with several interfaces must not
  // offer addresses the SFU cannot reach: gather on the given address only.
  NiceAddress address;
  nice_address_init(&address);
  if (!nice_address_set_from_string(&address, ice_address.c_str())) {
    throw std::runtime_error("--ice-address is not an IP address");
  }
  if (!nice_agent_add_local_address(NICE_AGENT(agent.get()), &address)) {
    throw std::runtime_error("cannot add the ICE address");
  }
}

void useRelayOnly(GstElement* webrtc, const std::vector<std::string>& turn_uris) {
  int accepted = 0;
  for (const std::string& uri : turn_uris) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", uri.c_str(), &ok);
    if (ok) ++accepted;
  }
  if (accepted == 0) throw std::runtime_error("relay-only ICE without a usable TURN server");
  g_object_set(webrtc, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
}

namespace {

// Field `field` (a string) of the stats entry named `id`, or "".
std::string statsField(const GstStructure* reply, const std::string& id, const char* field) {
  const GValue* value = gst_structure_get_value(reply, id.c_str());
  if (value == nullptr || !GST_VALUE_HOLDS_STRUCTURE(value)) return {};
  const char* text = gst_structure_get_string(gst_value_get_structure(value), field);
  return text != nullptr ? text : "";
}

std::string selectedLocalType(const GstStructure* reply) {
  for (int i = 0; i < gst_structure_n_fields(reply); ++i) {
    const GValue* value = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
    if (!GST_VALUE_HOLDS_STRUCTURE(value)) continue;
    const GstStructure* stats = gst_value_get_structure(value);
    GstWebRTCStatsType type{};
    const char* pair = gst_structure_get_string(stats, "selected-candidate-pair-id");
    if (!gst_structure_get(stats, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr) ||
        type != GST_WEBRTC_STATS_TRANSPORT || pair == nullptr) {
      continue;
    }
    const std::string local = statsField(reply, pair, "local-candidate-id");
    if (!local.empty()) return statsField(reply, local, "candidate-type");
  }
  return {};
}

}  // namespace

void selectedCandidateType(GstElement* webrtc, std::function<void(const std::string&)> report) {
  auto owned = std::make_unique<std::function<void(const std::string&)>>(std::move(report));
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise* raw_promise, gpointer data) {
        const PromisePtr promise(raw_promise);
        std::unique_ptr<std::function<void(const std::string&)>> callback(
            static_cast<std::function<void(const std::string&)>*>(data));
        const GstStructure* reply = gst_promise_get_reply(promise.get());
        const std::string type = reply != nullptr ? selectedLocalType(reply) : "";
        onMainLoop([callback = std::shared_ptr(std::move(callback)), type] { (*callback)(type); });
      },
      owned.release(), nullptr);
  g_signal_emit_by_name(webrtc, "get-stats", nullptr, promise);
}

OfferNegotiator::~OfferNegotiator() {
  if (gathering_handler_ != 0) g_signal_handler_disconnect(webrtc_, gathering_handler_);
}

void OfferNegotiator::createOffer(OfferCallback on_complete_offer) {
  on_offer_ = std::move(on_complete_offer);
  gathering_handler_ =
      g_signal_connect(webrtc_, "notify::ice-gathering-state",
                       G_CALLBACK(&OfferNegotiator::onGatheringStateChanged), this);
  requestOffer();
}

void OfferNegotiator::requestOffer() {
  GstPromise* promise =
      gst_promise_new_with_change_func(&OfferNegotiator::onOfferCreated, this, nullptr);
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void OfferNegotiator::retryOffer() {
  if (++offer_attempts_ >= kMaxOfferAttempts) {
    deliver(false, "the offer never named every stream's SSRC");
    return;
  }
  g_timeout_add(
      kOfferRetryMs,
      [](gpointer self) -> gboolean {
        static_cast<OfferNegotiator*>(self)->requestOffer();
        return G_SOURCE_REMOVE;
      },
      this);
}

void OfferNegotiator::onOfferCreated(GstPromise* raw_promise, gpointer self_ptr) {
  auto* self = static_cast<OfferNegotiator*>(self_ptr);
  const PromisePtr promise(raw_promise);
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  GstWebRTCSessionDescription* raw_offer = nullptr;
  if (reply != nullptr)
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw_offer, nullptr);
  if (raw_offer == nullptr) {
    onMainLoop([self] { self->deliver(false, "webrtcbin could not create an offer"); });
    return;
  }
  const DescriptionPtr offer(raw_offer, &gst_webrtc_session_description_free);
  if (!announcesEverySsrc(offer->sdp)) {
    // webrtcbin has not seen a stream's caps yet: ask again shortly, a bounded number of times.
    onMainLoop([self] { self->retryOffer(); });
    return;
  }
  g_signal_emit_by_name(self->webrtc_, "set-local-description", offer.get(), nullptr);
  onMainLoop([self] {
    self->local_description_set_ = true;
    self->deliverIfGathered();
  });
}

void OfferNegotiator::onGatheringStateChanged(GObject*, GParamSpec*, gpointer self_ptr) {
  auto* self = static_cast<OfferNegotiator*>(self_ptr);
  onMainLoop([self] { self->deliverIfGathered(); });
}

void OfferNegotiator::deliverIfGathered() {
  if (!local_description_set_ || delivered_) return;
  GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
  g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  GstWebRTCSessionDescription* raw_local = nullptr;
  g_object_get(webrtc_, "local-description", &raw_local, nullptr);
  if (raw_local == nullptr) {
    deliver(false, "no local description after gathering");
    return;
  }
  const DescriptionPtr local(raw_local, &gst_webrtc_session_description_free);
  const GCharsPtr text(gst_sdp_message_as_text(local->sdp));
  deliver(true, text.get());
}

void OfferNegotiator::deliver(bool ok, std::string text) {
  if (delivered_) return;
  delivered_ = true;
  if (on_offer_) on_offer_(ok, text);
}

bool OfferNegotiator::applyAnswer(const std::string& sdp) {
  GstSDPMessage* raw_sdp = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &raw_sdp) != GST_SDP_OK || raw_sdp == nullptr) {
    return false;
  }
  // The description takes ownership of the SDP message.
  const DescriptionPtr answer(
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, raw_sdp),
      &gst_webrtc_session_description_free);
  const PromisePtr promise(gst_promise_new());
  g_signal_emit_by_name(webrtc_, "set-remote-description", answer.get(), promise.get());
  if (gst_promise_wait(promise.get()) != GST_PROMISE_RESULT_REPLIED) return false;
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  return reply == nullptr || !gst_structure_has_field(reply, "error");
}

}  // namespace veil::client
