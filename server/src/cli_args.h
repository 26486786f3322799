// Tiny "--name value" argument parser shared by veil-server and veil-sfu-tap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace veil::server {

class CliArgs {
 public:
  // Every option takes exactly one value; unknown options and missing values throw
  // std::invalid_argument.
  CliArgs(const std::vector<std::string>& args, const std::set<std::string>& allowed) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& name = args[i];
      if (!allowed.contains(name)) throw std::invalid_argument("unknown option " + name);
      if (i + 1 >= args.size()) throw std::invalid_argument(name + " needs a value");
      values_[name] = args[++i];
    }
  }

  std::optional<std::string> Get(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::nullopt : std::optional(it->second);
  }

  std::string Require(const std::string& name) const {
    const auto value = Get(name);
    if (!value) throw std::invalid_argument(name + " is required");
    return *value;
  }

 private:
  std::map<std::string, std::string> values_;
};

// The value of `name` as a whole number of seconds in [min, max], or `fallback` when absent;
// throws std::invalid_argument naming the option and its range.
inline std::int64_t BoundedSeconds(const CliArgs& cli, const std::string& name, std::int64_t min,
                                   std::int64_t max, std::int64_t fallback) {
  const std::optional<std::string> text = cli.Get(name);
  if (!text) return fallback;
  const std::string range = name + " must be " + std::to_string(min) + ".." + std::to_string(max);
  if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != text->npos) {
    throw std::invalid_argument(range);
  }
  const std::int64_t value = std::stoll(*text);
  if (value < min || value > max) throw std::invalid_argument(range);
  return value;
}

// "ADDR:PORT" → {ADDR, PORT}; throws std::invalid_argument.
inline std::pair<std::string, int> ParseHostPort(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("expected ADDR:PORT");
  const std::string port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("bad port in " + text);
  }
  const int port = std::stoi(port_text);
  if (port < 1 || port > 65535) throw std::invalid_argument("bad port in " + text);
  return {text.substr(0, colon), port};
}

}  // namespace veil::server
