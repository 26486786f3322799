// Prometheus text-format counters for /metrics. Labels are fixed codes (status classes, outcome
// and reason codes); never consultation ids, participants, accounts or addresses.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace veil::server {

class Metrics {
 public:
  // Increments counter `name` with an optional single label `label_name="label_value"`.
  void Increment(const std::string& name, const std::string& label_name = {},
                 const std::string& label_value = {}) {
    std::lock_guard lock(mutex_);
    ++counters_[{name,
                 label_name.empty() ? std::string() : label_name + "=\"" + label_value + "\""}];
  }

  // `gauges` are sampled by the caller at scrape time.
  std::string Render(const std::map<std::string, std::int64_t>& gauges) {
    std::lock_guard lock(mutex_);
    std::string out;
    std::string last_name;
    for (const auto& [key, value] : counters_) {
      if (key.first != last_name) {
        out += "# TYPE " + key.first + " counter\n";
        last_name = key.first;
      }
      out += key.first + (key.second.empty() ? "" : "{" + key.second + "}") + " " +
             std::to_string(value) + "\n";
    }
    for (const auto& [name, value] : gauges) {
      out += "# TYPE " + name + " gauge\n" + name + " " + std::to_string(value) + "\n";
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counters_;
};

}  // namespace veil::server
