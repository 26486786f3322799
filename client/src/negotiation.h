#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

namespace veil::client {

// Queues `work` on the default main context, from any thread (webrtcbin calls back on its own).
void onMainLoop(std::function<void()> work);

// Turns ICE-TCP and UPnP off and, when `ice_address` is set, gathers candidates on that address
// only.
// Throws std::runtime_error when the address cannot be used.
void pinIceAddress(GstElement* webrtc, const std::string& ice_address);

// Relay-only ICE: webrtcbin's ice-transport-policy "relay" (only TURN relay candidates are
// gathered and paired) and every TURN server in `turn_uris` (webrtcbinTurnUri form). Throws
// std::runtime_error when no server is accepted: relay-only without a relay cannot connect.
void useRelayOnly(GstElement* webrtc, const std::vector<std::string>& turn_uris);

// Asks webrtcbin for its stats and calls `report` on the main loop with the type of the local
// candidate of the selected pair ("host", "srflx", "prflx", "relay"), or "" when none is
// selected yet. `report` must stay valid until it runs (capture values, not objects).
void selectedCandidateType(GstElement* webrtc, std::function<void(const std::string&)> report);

// Offer/answer on a webrtcbin for WHIP-style publishing: one complete offer (ICE gathering
// finished, all candidates inline), one answer. Callbacks run on the default main context.
class OfferNegotiator {
 public:
  using OfferCallback = std::function<void(bool ok, const std::string& sdp_or_error)>;

  explicit OfferNegotiator(GstElement* webrtc) : webrtc_(webrtc) {}
  ~OfferNegotiator();
  OfferNegotiator(const OfferNegotiator&) = delete;
  OfferNegotiator& operator=(const OfferNegotiator&) = delete;

  void createOffer(OfferCallback on_complete_offer);
  // Applies the SFU's answer; false when the text is not SDP or webrtcbin rejects it.
  bool applyAnswer(const std::string& sdp);

 private:
  void requestOffer();
  void retryOffer();
  static void onOfferCreated(GstPromise* promise, gpointer self);
  static void onGatheringStateChanged(GObject* webrtc, GParamSpec* spec, gpointer self);
  void deliverIfGathered();
  void deliver(bool ok, std::string text);

  GstElement* webrtc_;  // owned by the SendPipeline, which outlives this object
  OfferCallback on_offer_;
  gulong gathering_handler_ = 0;
  bool local_description_set_ = false;
  bool delivered_ = false;
  int offer_attempts_ = 0;
  static constexpr int kMaxOfferAttempts = 100;
  static constexpr guint kOfferRetryMs = 50;
};

}  // namespace veil::client
