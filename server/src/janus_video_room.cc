#include "janus_video_room.h"

#include <iostream>
#include <vector>

#include "crypto.h"

namespace veil::server {
namespace {

using nlohmann::json;
using Kind = SfuError::Kind;

constexpr const char* kVideoRoomPlugin = "janus.plugin.videoroom";
// The patient and the clinician's camera, plus room for a replaced publisher that Janus has not
// dropped yet.
constexpr int kMaxPublishers = 4;

bool IsHangup(const json& event) {
  const std::string kind = event.value("janus", "");
  return kind == "hangup" || kind == "detached";
}

}  // namespace

JanusVideoRoom::JanusVideoRoom(std::string janus_api_url, std::string admin_key,
                               std::string rooms_key)
    : admin_key_(std::move(admin_key)),
      rooms_key_(std::move(rooms_key)),
      janus_(std::move(janus_api_url)) {
  janus_.SetSessionLostHandler([this] { OnSessionLost(); });
  reaper_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!reaper_wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; })) {
      lock.unlock();
      ReapIdleSubscriptions();
      lock.lock();
    }
  });
}

JanusVideoRoom::~JanusVideoRoom() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  reaper_wake_.notify_all();
  reaper_.join();
  // Leaving the rooms is enough: destroying the Janus session (JanusClient's destructor) detaches
  // every handle, which ends every publish and subscription.
}

RoomCredentials JanusVideoRoom::Room(std::string_view consultation_id) const {
  return DeriveRoomCredentials(rooms_key_, consultation_id);
}

std::mutex& JanusVideoRoom::ConsultationLock(const std::string& consultation_id) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<std::mutex>& entry = consultation_locks_[consultation_id];
  if (!entry) entry = std::make_unique<std::mutex>();
  return *entry;
}

void JanusVideoRoom::EnsureRoom(std::string_view consultation_id) {
  const std::string cid(consultation_id);
  std::lock_guard consultation(ConsultationLock(cid));
  EnsureRoomLocked(cid);
}

void JanusVideoRoom::EnsureRoomLocked(const std::string& consultation_id) {
  {
    std::lock_guard lock(mutex_);
    if (known_rooms_.contains(consultation_id)) return;
  }
  const RoomCredentials room = Room(consultation_id);
  {
    const HandleGuard control = ControlHandle();
    const json exists =
        janus_.Request(control.get(), {{"request", "exists"}, {"room", room.room_id}});
    if (!exists.value("exists", false)) {
      janus_.Request(control.get(), {
                                        {"request", "create"},
                                        {"admin_key", admin_key_},
                                        {"room", room.room_id},
                                        {"description", "veil consultation"},
                                        {"secret", room.secret},
                                        {"pin", room.pin},
                                        {"is_private", true},
                                        {"permanent", false},
                                        {"publishers", kMaxPublishers},
                                        {"record", false},
                                        {"lock_record", true},
                                        {"audiocodec", "opus"},
                                        {"videocodec", "vp8,h264,vp9"},
                                        {"opus_fec", true},
                                        {"notify_joining", false},
                                    });
    }
  }
  std::lock_guard lock(mutex_);
  known_rooms_.insert(consultation_id);
}

void JanusVideoRoom::DestroyRoom(std::string_view consultation_id) {
  const std::string cid(consultation_id);
  std::lock_guard consultation(ConsultationLock(cid));
  std::vector<std::uint64_t> handles;
  {
    std::lock_guard lock(mutex_);
    handles = TakeSessionsLocked(cid, std::nullopt);
    known_rooms_.erase(cid);
  }
  DetachAll(handles);
  // Destroying the room also kicks anyone Janus still lists in it (e.g. a publisher that vanished
  // without hanging up).
  const RoomCredentials room = Room(cid);
  const HandleGuard control = ControlHandle();
  const json exists =
      janus_.Request(control.get(), {{"request", "exists"}, {"room", room.room_id}});
  if (exists.value("exists", false)) {
    janus_.Request(control.get(),
                   {{"request", "destroy"}, {"room", room.room_id}, {"secret", room.secret}});
  }
}

void JanusVideoRoom::RemoveParticipant(std::string_view consultation_id, std::string_view owner) {
  std::vector<std::uint64_t> handles;
  {
    std::lock_guard lock(mutex_);
    handles = TakeSessionsLocked(consultation_id, owner);
  }
  DetachAll(handles);
}

JanusVideoRoom::HandleGuard JanusVideoRoom::ControlHandle() {
  return HandleGuard(janus_, janus_.Attach(kVideoRoomPlugin, [](const json&) {}));
}

std::vector<std::uint64_t> JanusVideoRoom::TakeSessionsLocked(
    std::string_view consultation_id, std::optional<std::string_view> owner) {
  const auto matches = [&](std::string_view cid, const std::string& who) {
    return cid == consultation_id && (!owner || who == *owner);
  };
  std::vector<std::uint64_t> handles;
  std::erase_if(publishers_, [&](const auto& entry) {
    if (!matches(entry.first.first, entry.second.owner)) return false;
    handles.push_back(entry.second.handle);
    return true;
  });
  std::erase_if(subscriptions_, [&](const auto& entry) {
    if (!matches(entry.second.consultation_id, entry.second.owner)) return false;
    handles.push_back(entry.second.handle);
    return true;
  });
  return handles;
}

void JanusVideoRoom::DetachAll(const std::vector<std::uint64_t>& handles) {
  for (const std::uint64_t handle : handles) janus_.Detach(handle);
}

JanusVideoRoom::Subscriptions::iterator JanusVideoRoom::OwnedSubscriptionLocked(
    std::string_view consultation_id, std::string_view owner, std::string_view subscription_id) {
  const auto it = subscriptions_.find(std::string(subscription_id));
  if (it == subscriptions_.end() || it->second.consultation_id != consultation_id ||
      it->second.owner != owner) {
    throw SfuError(Kind::kNotFound, "no such subscription");
  }
  return it;
}

PublishResult JanusVideoRoom::Publish(std::string_view consultation_id, const Publisher& publisher,
                                      std::string_view offer_sdp) {
  const std::string cid(consultation_id);
  const PublisherKey key{cid, publisher.slot};
  std::lock_guard consultation(ConsultationLock(cid));
  EnsureRoomLocked(cid);
  const RoomCredentials room = Room(cid);

  // A new publish by the same participant replaces the old one (reconnect): leave, then join.
  // Someone else's feed is never replaced (security-design §6, C32).
  std::optional<LivePublisher> previous;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = publishers_.find(key); it != publishers_.end()) {
      if (it->second.owner != publisher.owner) {
        throw SfuError(Kind::kConflict, "another participant is publishing this feed");
      }
      previous = it->second;
      publishers_.erase(it);
    }
  }
  if (previous) janus_.Detach(previous->handle);

  HandleGuard handle(janus_, janus_.Attach(kVideoRoomPlugin, [this, key](const json& event) {
    OnPublisherEvent(key, event.value("sender", std::uint64_t{0}), event);
  }));
  const char* display = publisher.slot == FeedSlot::kPatient ? "patient" : "clinician";
  const JanusClient::Reply joined = janus_.RequestAsync(handle.get(), {{"request", "join"},
                                                                       {"ptype", "publisher"},
                                                                       {"room", room.room_id},
                                                                       {"pin", room.pin},
                                                                       {"display", display}});
  if (joined.data.value("videoroom", "") != "joined") {
    throw SfuError(Kind::kRefused, "VideoRoom did not confirm the join");
  }
  const std::uint64_t feed_id = joined.data.at("id").get<std::uint64_t>();
  const JanusClient::Reply published =
      janus_.RequestAsync(handle.get(), {{"request", "publish"}},
                          {{"type", "offer"}, {"sdp", std::string(offer_sdp)}, {"trickle", false}});
  if (!published.jsep.is_object() || published.jsep.value("type", "") != "answer") {
    throw SfuError(Kind::kRefused, "VideoRoom sent no answer");
  }
  PublishResult result{RandomHex(16), published.jsep.value("sdp", "")};
  std::lock_guard lock(mutex_);
  publishers_[key] = LivePublisher{result.resource_id, publisher.owner, handle.Keep(), feed_id};
  return result;
}

void JanusVideoRoom::Unpublish(std::string_view consultation_id, std::string_view owner,
                               std::string_view resource_id) {
  std::uint64_t handle = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = publishers_.end();
    for (auto it = publishers_.begin(); it != publishers_.end(); ++it) {
      if (it->first.first == consultation_id && it->second.owner == owner &&
          ConstantTimeEquals(it->second.resource_id, resource_id)) {
        found = it;
      }
    }
    if (found == publishers_.end()) throw SfuError(Kind::kNotFound, "no such publish resource");
    handle = found->second.handle;
    publishers_.erase(found);
  }
  janus_.Detach(handle);
}

bool JanusVideoRoom::IsPublishing(std::string_view consultation_id, FeedSlot slot) {
  std::lock_guard lock(mutex_);
  return publishers_.contains(PublisherKey{std::string(consultation_id), slot});
}

bool JanusVideoRoom::HasMediaSessions(std::string_view consultation_id) {
  std::lock_guard lock(mutex_);
  for (const auto& [key, publisher] : publishers_) {
    if (key.first == consultation_id) return true;
  }
  for (const auto& [id, subscription] : subscriptions_) {
    if (subscription.consultation_id == consultation_id) return true;
  }
  return false;
}

bool JanusVideoRoom::IsReceiving(std::string_view consultation_id, FeedSlot feed) {
  std::lock_guard lock(mutex_);
  const auto publisher = publishers_.find(PublisherKey{std::string(consultation_id), feed});
  if (publisher == publishers_.end()) return false;
  for (const auto& [id, subscription] : subscriptions_) {
    if (subscription.consultation_id == consultation_id &&
        subscription.feed_id == publisher->second.feed_id && subscription.webrtc_up) {
      return true;
    }
  }
  return false;
}

void JanusVideoRoom::OnPublisherEvent(const PublisherKey& key, std::uint64_t handle,
                                      const json& event) {
  if (!IsHangup(event)) return;
  bool was_current = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = publishers_.find(key);
    if (it != publishers_.end() && it->second.handle == handle) {
      publishers_.erase(it);
      was_current = true;
    }
  }
  if (was_current) {
    std::cerr << "veil-server: a publisher of a consultation hung up ("
              << event.value("reason", std::string("no reason")) << ")\n";
    janus_.Detach(handle);
  }
}

SubscribeResult JanusVideoRoom::Subscribe(std::string_view consultation_id, FeedSlot feed,
                                          std::string_view owner) {
  const std::string cid(consultation_id);
  std::uint64_t feed_id = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = publishers_.find(PublisherKey{cid, feed});
    if (it == publishers_.end()) {
      throw SfuError(Kind::kNoPublisher, feed == FeedSlot::kPatient
                                             ? "the patient is not publishing"
                                             : "the clinician is not publishing");
    }
    feed_id = it->second.feed_id;
  }
  const RoomCredentials room = Room(cid);
  const std::string subscription_id = RandomHex(16);
  HandleGuard handle(janus_,
                     janus_.Attach(kVideoRoomPlugin, [this, subscription_id](const json& event) {
                       OnSubscriberEvent(subscription_id, event);
                     }));
  // Subscribing to the feed subscribes to all its streams: audio, video and data.
  const JanusClient::Reply attached =
      janus_.RequestAsync(handle.get(), {{"request", "join"},
                                         {"ptype", "subscriber"},
                                         {"room", room.room_id},
                                         {"pin", room.pin},
                                         {"streams", json::array({{{"feed", feed_id}}})}});
  if (!attached.jsep.is_object() || attached.jsep.value("type", "") != "offer") {
    throw SfuError(Kind::kRefused, "VideoRoom sent no offer");
  }
  std::lock_guard lock(mutex_);
  subscriptions_[subscription_id] = Subscription{cid, std::string(owner), handle.Keep(), feed_id,
                                                 std::chrono::steady_clock::now()};
  return SubscribeResult{subscription_id, attached.jsep.value("sdp", "")};
}

void JanusVideoRoom::AnswerSubscription(std::string_view consultation_id, std::string_view owner,
                                        std::string_view subscription_id,
                                        std::string_view answer_sdp) {
  std::uint64_t handle = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = OwnedSubscriptionLocked(consultation_id, owner, subscription_id);
    it->second.last_seen = std::chrono::steady_clock::now();
    handle = it->second.handle;
  }
  janus_.RequestAsync(handle, {{"request", "start"}},
                      {{"type", "answer"}, {"sdp", std::string(answer_sdp)}, {"trickle", false}});
}

bool JanusVideoRoom::KeepSubscriptionAlive(std::string_view consultation_id, std::string_view owner,
                                           std::string_view subscription_id) {
  std::lock_guard lock(mutex_);
  const auto it = OwnedSubscriptionLocked(consultation_id, owner, subscription_id);
  it->second.last_seen = std::chrono::steady_clock::now();
  for (const auto& [key, publisher] : publishers_) {
    if (key.first == it->second.consultation_id && publisher.feed_id == it->second.feed_id) {
      return true;
    }
  }
  return false;
}

void JanusVideoRoom::Unsubscribe(std::string_view consultation_id, std::string_view owner,
                                 std::string_view subscription_id) {
  std::uint64_t handle = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = OwnedSubscriptionLocked(consultation_id, owner, subscription_id);
    handle = it->second.handle;
    subscriptions_.erase(it);
  }
  janus_.Detach(handle);
}

void JanusVideoRoom::OnSubscriberEvent(const std::string& subscription_id, const json& event) {
  if (event.value("janus", "") == "webrtcup") {
    std::lock_guard lock(mutex_);
    if (const auto it = subscriptions_.find(subscription_id); it != subscriptions_.end()) {
      it->second.webrtc_up = true;
    }
    return;
  }
  if (!IsHangup(event)) return;
  std::uint64_t handle = 0;
  {
    std::lock_guard lock(mutex_);
    const auto it = subscriptions_.find(subscription_id);
    if (it == subscriptions_.end()) return;
    handle = it->second.handle;
    subscriptions_.erase(it);
  }
  janus_.Detach(handle);
}

void JanusVideoRoom::ReapIdleSubscriptions() {
  std::vector<std::uint64_t> idle_handles;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(subscriptions_, [&](const auto& entry) {
      if (now - entry.second.last_seen <= kSubscriptionIdleLimit) return false;
      idle_handles.push_back(entry.second.handle);
      return true;
    });
  }
  DetachAll(idle_handles);
}

void JanusVideoRoom::OnSessionLost() {
  // Janus restarted or vanished: its rooms, publishers and subscriptions are gone with it.
  std::lock_guard lock(mutex_);
  known_rooms_.clear();
  publishers_.clear();
  subscriptions_.clear();
}

bool JanusVideoRoom::Healthy() {
  return janus_.Ping();
}

}  // namespace veil::server
