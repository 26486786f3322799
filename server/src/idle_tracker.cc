#include "idle_tracker.h"

namespace veil::server {

IdleTracker::IdleTracker(std::int64_t idle_end_seconds, std::int64_t activity_window_seconds)
    : idle_end_seconds_(idle_end_seconds), activity_window_seconds_(activity_window_seconds) {}

void IdleTracker::Touch(const std::string& cid, std::int64_t now) {
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[cid];
  entry.joined = true;
  entry.last_activity = now;
}

void IdleTracker::MarkJoined(const std::string& cid) {
  std::lock_guard lock(mutex_);
  entries_[cid].joined = true;
}

bool IdleTracker::EverJoined(const std::string& cid) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(cid);
  return it != entries_.end() && it->second.joined;
}

bool IdleTracker::Observe(const std::string& cid, bool media_present, std::int64_t now) {
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[cid];
  const bool active = entry.last_activity && now - *entry.last_activity < activity_window_seconds_;
  if (media_present || active) {
    entry.joined = true;
    entry.empty_since.reset();
    return false;
  }
  if (!entry.joined) return false;
  if (!entry.empty_since) entry.empty_since = now;
  return now - *entry.empty_since >= idle_end_seconds_;
}

void IdleTracker::Forget(const std::string& cid) {
  std::lock_guard lock(mutex_);
  entries_.erase(cid);
}

}  // namespace veil::server
