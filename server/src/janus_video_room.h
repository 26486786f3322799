// Sfu implementation on Janus 1.1.2 VideoRoom: one private room per consultation, created with
// the admin key, a room secret and a PIN that never leave this class; recording locked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "janus_client.h"
#include "secrets.h"
#include "sfu.h"

namespace veil::server {

class JanusVideoRoom final : public Sfu {
 public:
  // Subscriptions without a keepalive for this long are dropped.
  static constexpr auto kSubscriptionIdleLimit = std::chrono::seconds(60);

  JanusVideoRoom(std::string janus_api_url, std::string admin_key, std::string rooms_key);
  ~JanusVideoRoom() override;

  void EnsureRoom(std::string_view consultation_id) override;
  void DestroyRoom(std::string_view consultation_id) override;
  void RemoveParticipant(std::string_view consultation_id, std::string_view owner) override;
  PublishResult Publish(std::string_view consultation_id, const Publisher& publisher,
                        std::string_view offer_sdp) override;
  void Unpublish(std::string_view consultation_id, std::string_view owner,
                 std::string_view resource_id) override;
  bool IsPublishing(std::string_view consultation_id, FeedSlot slot) override;
  bool HasMediaSessions(std::string_view consultation_id) override;
  bool IsReceiving(std::string_view consultation_id, FeedSlot feed) override;
  SubscribeResult Subscribe(std::string_view consultation_id, FeedSlot feed,
                            std::string_view owner) override;
  void AnswerSubscription(std::string_view consultation_id, std::string_view owner,
                          std::string_view subscription_id, std::string_view answer_sdp) override;
  bool KeepSubscriptionAlive(std::string_view consultation_id, std::string_view owner,
                             std::string_view subscription_id) override;
  void Unsubscribe(std::string_view consultation_id, std::string_view owner,
                   std::string_view subscription_id) override;
  bool Healthy() override;

 private:
  struct LivePublisher {
    std::string resource_id;
    std::string owner;
    std::uint64_t handle = 0;
    std::uint64_t feed_id = 0;
  };
  struct Subscription {
    std::string consultation_id;
    std::string owner;
    std::uint64_t handle = 0;
    std::uint64_t feed_id = 0;
    std::chrono::steady_clock::time_point last_seen;
    bool webrtc_up = false;  // Janus sent `webrtcup` for this handle
  };
  using PublisherKey = std::pair<std::string, FeedSlot>;  // consultation id, slot

  // A Janus handle that is detached when the guard goes out of scope, unless `Keep()` hands it
  // over to one of the maps below.
  class HandleGuard {
   public:
    HandleGuard(JanusClient& janus, std::uint64_t handle) : janus_(janus), handle_(handle) {}
    ~HandleGuard() {
      if (handle_ != 0) janus_.Detach(handle_);
    }
    HandleGuard(const HandleGuard&) = delete;
    HandleGuard& operator=(const HandleGuard&) = delete;
    std::uint64_t get() const { return handle_; }
    std::uint64_t Keep() { return std::exchange(handle_, 0); }

   private:
    JanusClient& janus_;
    std::uint64_t handle_;
  };
  using Subscriptions = std::map<std::string, Subscription>;

  RoomCredentials Room(std::string_view consultation_id) const;
  // A handle for room management (exists/create/destroy), detached after use.
  HandleGuard ControlHandle();
  // Removes every publish and subscription of the consultation (only `owner`'s, if given) from
  // the maps; returns their handles, to be detached outside `mutex_`. Caller holds `mutex_`.
  std::vector<std::uint64_t> TakeSessionsLocked(std::string_view consultation_id,
                                                std::optional<std::string_view> owner);
  void DetachAll(const std::vector<std::uint64_t>& handles);
  // `owner`'s subscription `subscription_id` in the consultation, else SfuError kNotFound.
  // Caller holds `mutex_`.
  Subscriptions::iterator OwnedSubscriptionLocked(std::string_view consultation_id,
                                                  std::string_view owner,
                                                  std::string_view subscription_id);
  std::mutex& ConsultationLock(const std::string& consultation_id);
  void EnsureRoomLocked(const std::string& consultation_id);
  void OnPublisherEvent(const PublisherKey& key, std::uint64_t handle, const nlohmann::json& event);
  void OnSubscriberEvent(const std::string& subscription_id, const nlohmann::json& event);
  void OnSessionLost();
  void ReapIdleSubscriptions();

  const std::string admin_key_;
  const std::string rooms_key_;

  std::mutex mutex_;  // guards the maps below; never held during Janus I/O
  std::map<std::string, std::unique_ptr<std::mutex>> consultation_locks_;
  std::set<std::string> known_rooms_;
  std::map<PublisherKey, LivePublisher> publishers_;
  Subscriptions subscriptions_;  // by subscription id
  bool stopping_ = false;
  std::condition_variable reaper_wake_;
  std::thread reaper_;

  // Last member: destroyed first, so its threads stop before anything their handlers touch.
  JanusClient janus_;
};

}  // namespace veil::server
