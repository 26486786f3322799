// veil-server's HTTP API: token checks, then signalling relayed to the Sfu. See server/README.md
// for the contract.
#pragma once

#include <memory>
#include <string>

#include "sfu.h"
#include "token.h"

namespace httplib {
class Server;
}

namespace veil::server {

inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;

class ApiServer {
 public:
  ApiServer(Sfu& sfu, const TokenSigner& tokens, std::string web_dir);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds; returns false if the address cannot be bound.
  bool Bind(const std::string& host, int port);
  // Serves until Stop() is called (from another thread or a signal watcher).
  void Serve();
  void Stop();

 private:
  void RegisterRoutes();

  Sfu& sfu_;
  const TokenSigner& tokens_;
  const std::string web_dir_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace veil::server
