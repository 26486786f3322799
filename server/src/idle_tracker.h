// Decides when a consultation has been empty long enough to end by itself (security-design §4:
// "30 min after the last participant left"). Pure bookkeeping, fed by the server's sweep: it
// knows nothing about Janus or HTTP, so its rules are unit-tested with plain numbers.
//
// Presence has two sources, both from what veil-server itself relays:
//  - media: the SFU adapter still holds a publish or subscription of the consultation (Janus
//    reports a hangup when a peer's ICE/DTLS dies; unanswered subscriptions are reaped after
//    60 s without keepalive);
//  - activity: an authorised request of a participant (a waiting patient's status poll, the
//    owning clinician's consultation view) within the last `activity_window` seconds.
// A consultation nobody has joined yet is never idle-ended (the invite TTL and the 4 h maximum
// cover it); after someone was present, it ends `idle_end` seconds after the first sweep that
// found it empty.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace veil::server {

class IdleTracker {
 public:
  IdleTracker(std::int64_t idle_end_seconds, std::int64_t activity_window_seconds);

  // A participant of `cid` was just seen (authorised request).
  void Touch(const std::string& cid, std::int64_t now);
  // The consultation held a participant before this process started (read from the store), so
  // it counts as joined even if nobody reconnects.
  void MarkJoined(const std::string& cid);
  bool EverJoined(const std::string& cid);

  // One sweep observation. `media_present`: the SFU holds a media session of `cid`. True when the
  // consultation should now end as idle.
  bool Observe(const std::string& cid, bool media_present, std::int64_t now);
  // The consultation ended: its entry is dropped.
  void Forget(const std::string& cid);

  std::int64_t idle_end_seconds() const { return idle_end_seconds_; }

 private:
  struct Entry {
    bool joined = false;
    std::optional<std::int64_t> last_activity;
    std::optional<std::int64_t> empty_since;
  };

  const std::int64_t idle_end_seconds_;
  const std::int64_t activity_window_seconds_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace veil::server
