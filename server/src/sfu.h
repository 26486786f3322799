// What veil-server needs from a selective forwarding unit. The HTTP API speaks only to this
// interface, so replacing Janus (e.g. by LiveKit, which ingests WHIP) is a server-side change.
// Implementations hold every SFU credential (admin keys, room secrets) and never return them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace veil::server {

class SfuError : public std::runtime_error {
 public:
  enum class Kind {
    kUnavailable,  // the SFU cannot be reached
    kRefused,      // the SFU answered with an error (bad SDP, limits, ...)
    kNotFound,     // no such publish resource / subscription
    kNoPublisher,  // subscribing while nobody publishes
    kConflict,     // the feed belongs to another participant (never replaced by someone else)
  };
  SfuError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct PublishResult {
  std::string resource_id;  // opaque, random; names the publish resource in URLs
  std::string answer_sdp;   // complete answer, SFU candidates included
};

struct SubscribeResult {
  std::string subscription_id;  // opaque, random
  std::string offer_sdp;        // the SFU's offer: audio, video and data of the publisher
};

// The two feeds of a consultation's room: the patient's redacted stream and the clinician's camera.
enum class FeedSlot { kPatient, kClinician };

// Who publishes: the slot and the participant (`sub`) owning it. A publish replaces the slot's
// current publisher only when the owner is the same (a reconnect), never another participant's.
struct Publisher {
  FeedSlot slot = FeedSlot::kPatient;
  std::string owner;
};

// All methods are thread-safe and throw SfuError. Consultation ids are already validated.
class Sfu {
 public:
  virtual ~Sfu() = default;

  // Creates the consultation's room if it does not exist yet.
  virtual void EnsureRoom(std::string_view consultation_id) = 0;
  // Kicks everyone (publishers and subscribers) and destroys the room. Idempotent.
  virtual void DestroyRoom(std::string_view consultation_id) = 0;
  // Ends every publish and subscription owned by `owner` in the consultation.
  virtual void RemoveParticipant(std::string_view consultation_id, std::string_view owner) = 0;

  // Publishes a complete (non-trickle) offer into the publisher's slot.
  virtual PublishResult Publish(std::string_view consultation_id, const Publisher& publisher,
                                std::string_view offer_sdp) = 0;
  virtual void Unpublish(std::string_view consultation_id, std::string_view owner,
                         std::string_view resource_id) = 0;
  virtual bool IsPublishing(std::string_view consultation_id, FeedSlot slot) = 0;
  // Whether someone's subscription to `feed` has its WebRTC connection up (DTLS done), i.e. the
  // feed's data channel messages can reach them (the SCTP association follows within ~1 s).
  virtual bool IsReceiving(std::string_view consultation_id, FeedSlot feed) = 0;
  // Whether anyone still publishes or subscribes in the consultation (presence for the idle end).
  virtual bool HasMediaSessions(std::string_view consultation_id) = 0;

  // Subscription to one feed of the consultation: the SFU offers, the client answers.
  virtual SubscribeResult Subscribe(std::string_view consultation_id, FeedSlot feed,
                                    std::string_view owner) = 0;
  // The next three act only on a subscription of `owner` in that consultation (else kNotFound).
  virtual void AnswerSubscription(std::string_view consultation_id, std::string_view owner,
                                  std::string_view subscription_id,
                                  std::string_view answer_sdp) = 0;
  // Marks the subscription alive; returns whether its publisher is still publishing.
  virtual bool KeepSubscriptionAlive(std::string_view consultation_id, std::string_view owner,
                                     std::string_view subscription_id) = 0;
  virtual void Unsubscribe(std::string_view consultation_id, std::string_view owner,
                           std::string_view subscription_id) = 0;

  virtual bool Healthy() = 0;
};

}  // namespace veil::server
