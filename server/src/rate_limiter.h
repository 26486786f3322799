// In-memory sliding-window counters for login and invite throttling (security-design §3.1, §5.1).
// Keys are client addresses or account names; they live only in memory and are dropped once
// their window has passed (§10: IP addresses are never persisted).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace veil::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(std::size_t limit, std::chrono::seconds window) : limit_(limit), window_(window) {}

  // Whether `key` has reached the limit within the window (does not record anything).
  bool Exceeded(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return Prune(key, now) >= limit_;
  }

  void Record(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Prune(key, now);
    events_[key].push_back(now);
  }

  // Time of the most recent event for `key` within the window, if any.
  std::optional<Clock::time_point> Last(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (Prune(key, now) == 0) return std::nullopt;
    return events_[key].back();
  }

  void Clear(const std::string& key) {
    std::lock_guard lock(mutex_);
    events_.erase(key);
  }

 private:
  std::size_t Prune(const std::string& key, Clock::time_point now) {
    const auto it = events_.find(key);
    if (it == events_.end()) return 0;
    while (!it->second.empty() && now - it->second.front() >= window_) it->second.pop_front();
    if (it->second.empty()) {
      events_.erase(it);
      return 0;
    }
    return it->second.size();
  }

  const std::size_t limit_;
  const std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, std::deque<Clock::time_point>> events_;
};

}  // namespace veil::server
