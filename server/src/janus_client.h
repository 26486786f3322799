// Minimal client for the Janus HTTP API on localhost: one Janus session owned by veil-server,
// kept alive with keepalives, events received by long polling, and plugin handles inside it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace httplib {
class Client;
}

namespace veil::server {

class JanusClient {
 public:
  // Called on the client's dispatch thread (never the polling thread) with every event Janus
  // sends for the handle outside a request/answer pair (webrtcup, hangup, media, detached, ...).
  // When the session is lost (Janus restarted or unreachable) every handler receives
  // {"janus":"detached","reason":"session-lost"}.
  using EventHandler = std::function<void(const nlohmann::json& event)>;

  struct Reply {
    nlohmann::json data;  // plugindata.data
    nlohmann::json jsep;  // null when the reply carries no SDP
  };

  // `api_url` like "http://127.0.0.1:8088/janus". Connects lazily.
  explicit JanusClient(std::string api_url);
  ~JanusClient();
  JanusClient(const JanusClient&) = delete;
  JanusClient& operator=(const JanusClient&) = delete;

  // Attaches a handle to `plugin` in the server session (creating the session if needed).
  std::uint64_t Attach(const std::string& plugin, EventHandler on_event);
  // Best effort; Janus frees the handle's PeerConnection and leaves any room it was in.
  void Detach(std::uint64_t handle) noexcept;

  // A request the plugin answers synchronously (create, exists, listparticipants, ...).
  nlohmann::json Request(std::uint64_t handle, const nlohmann::json& body);
  // A request the plugin answers with an event (join, publish, start, ...); waits for it.
  Reply RequestAsync(std::uint64_t handle, const nlohmann::json& body,
                     const nlohmann::json& jsep = nullptr);

  // Whether Janus answers an "info" request.
  bool Ping();

  // Called (on the dispatch thread) after the session was lost and all handlers were told.
  void SetSessionLostHandler(std::function<void()> handler);

 private:
  struct Pending;

  nlohmann::json Post(const std::string& path, nlohmann::json body, std::chrono::seconds timeout);
  std::uint64_t EnsureSession();
  void PollLoop();
  void KeepaliveLoop();
  void DispatchLoop();
  void HandleEvent(const nlohmann::json& event);
  void LoseSession(std::uint64_t session_id);

  std::string host_;       // scheme://host:port
  std::string base_path_;  // e.g. /janus

  std::mutex mutex_;  // guards everything below; never held during HTTP I/O
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t session_id_ = 0;
  std::map<std::uint64_t, EventHandler> handlers_;
  std::map<std::string, std::shared_ptr<Pending>> pending_;
  std::deque<std::function<void()>> dispatch_queue_;
  std::function<void()> on_session_lost_;
  httplib::Client* poll_client_ = nullptr;  // owned by the polling thread's stack

  std::mutex session_create_mutex_;  // serialises session creation (held during I/O)
  std::thread poll_thread_;
  std::thread keepalive_thread_;
  std::thread dispatch_thread_;
};

}  // namespace veil::server
