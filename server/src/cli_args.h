// Tiny "--name value" argument parser shared by veil-server and veil-sfu-tap.
#pragma once

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
