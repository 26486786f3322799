// An error the API answers with: HTTP status, stable code and a human-readable message that never
// contains request data.
#pragma once

#include <stdexcept>
#include <string>

namespace veil::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

}  // namespace veil::server
