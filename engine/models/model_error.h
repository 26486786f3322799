#pragma once

#include <stdexcept>
#include <string>

namespace veil {

// Anything wrong with a model file: missing, wrong hash, malformed, or using an operator, option
// or shape the loader does not implement. The message always names the file or the operator.
class ModelError : public std::runtime_error {
 public:
  explicit ModelError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace veil
