#include "janus_client.h"

#include <httplib.h>

#include <future>
#include <iostream>

#include "crypto.h"
#include "sfu.h"

namespace veil::server {
namespace {

using nlohmann::json;
using Kind = SfuError::Kind;

constexpr auto kConnectTimeout = std::chrono::seconds(2);
constexpr auto kRequestTimeout = std::chrono::seconds(10);
// Janus answers a long poll after at most 30 s (with a keepalive event when idle).
constexpr auto kLongPollTimeout = std::chrono::seconds(45);
// Comfortably under the shipped config's session_timeout (60 s).
constexpr auto kKeepaliveInterval = std::chrono::seconds(20);
// Generous: a publish makes Janus parse the offer and gather its candidates.
constexpr auto kAsyncReplyTimeout = std::chrono::seconds(20);
constexpr int kJanusErrorSessionNotFound = 458;

std::string NewTransaction() {
  return RandomHex(12);
}

std::string JanusErrorText(const json& reply) {
  const json& error = reply.value("error", json::object());
  return "Janus error " + std::to_string(error.value("code", 0)) + ": " +
         error.value("reason", std::string("unknown"));
}

// Plugin-level failures arrive as data {"error_code": N, "error": "..."}.
void ThrowIfPluginError(const json& data) {
  if (data.contains("error_code")) {
    throw SfuError(Kind::kRefused, "VideoRoom error " +
                                       std::to_string(data.value("error_code", 0)) + ": " +
                                       data.value("error", std::string("unknown")));
  }
}

}  // namespace

struct JanusClient::Pending {
  std::promise<json> reply;
};

JanusClient::JanusClient(std::string api_url) {
  // Split "http://127.0.0.1:8088/janus" into the part httplib connects to and the base path.
  const std::size_t scheme_end = api_url.find("://");
  const std::size_t path_start =
      api_url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  host_ = api_url.substr(0, path_start);
  base_path_ = path_start == std::string::npos ? "" : api_url.substr(path_start);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  poll_thread_ = std::thread([this] { PollLoop(); });
  keepalive_thread_ = std::thread([this] { KeepaliveLoop(); });
  dispatch_thread_ = std::thread([this] { DispatchLoop(); });
}

JanusClient::~JanusClient() {
  std::uint64_t session_id = 0;
  {
    std::lock_guard lock(mutex_);
    session_id = session_id_;
  }
  if (session_id != 0) {
    try {
      Post(base_path_ + "/" + std::to_string(session_id), {{"janus", "destroy"}}, kConnectTimeout);
    } catch (const std::exception&) {
      // Janus frees the session itself once keepalives stop.
    }
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    session_id_ = 0;
    if (poll_client_ != nullptr) poll_client_->stop();
  }
  wake_.notify_all();
  poll_thread_.join();
  keepalive_thread_.join();
  dispatch_thread_.join();
}

void JanusClient::SetSessionLostHandler(std::function<void()> handler) {
  std::lock_guard lock(mutex_);
  on_session_lost_ = std::move(handler);
}

json JanusClient::Post(const std::string& path, json body, std::chrono::seconds timeout) {
  if (!body.contains("transaction")) body["transaction"] = NewTransaction();
  httplib::Client client(host_);
  client.set_connection_timeout(kConnectTimeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(kConnectTimeout);
  const httplib::Result result = client.Post(path, body.dump(), "application/json");
  if (!result) {
    throw SfuError(Kind::kUnavailable, "Janus unreachable: " + httplib::to_string(result.error()));
  }
  if (result->status != 200) {
    throw SfuError(Kind::kUnavailable, "Janus HTTP status " + std::to_string(result->status));
  }
  json reply = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    throw SfuError(Kind::kUnavailable, "Janus sent invalid JSON");
  }
  return reply;
}

std::uint64_t JanusClient::EnsureSession() {
  std::lock_guard create_lock(session_create_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw SfuError(Kind::kUnavailable, "shutting down");
    if (session_id_ != 0) return session_id_;
  }
  const json reply = Post(base_path_, {{"janus", "create"}}, kRequestTimeout);
  if (reply.value("janus", "") != "success")
    throw SfuError(Kind::kUnavailable, JanusErrorText(reply));
  const std::uint64_t session_id = reply.at("data").at("id").get<std::uint64_t>();
  {
    std::lock_guard lock(mutex_);
    session_id_ = session_id;
  }
  wake_.notify_all();
  return session_id;
}

std::uint64_t JanusClient::Attach(const std::string& plugin, EventHandler on_event) {
  const std::uint64_t session_id = EnsureSession();
  const json reply = Post(base_path_ + "/" + std::to_string(session_id),
                          {{"janus", "attach"}, {"plugin", plugin}}, kRequestTimeout);
  if (reply.value("janus", "") != "success") {
    if (reply.value("error", json::object()).value("code", 0) == kJanusErrorSessionNotFound) {
      LoseSession(session_id);
    }
    throw SfuError(Kind::kUnavailable, JanusErrorText(reply));
  }
  const std::uint64_t handle = reply.at("data").at("id").get<std::uint64_t>();
  std::lock_guard lock(mutex_);
  handlers_[handle] = std::move(on_event);
  return handle;
}

void JanusClient::Detach(std::uint64_t handle) noexcept {
  std::uint64_t session_id = 0;
  {
    std::lock_guard lock(mutex_);
    handlers_.erase(handle);
    session_id = session_id_;
  }
  if (session_id == 0) return;
  try {
    Post(base_path_ + "/" + std::to_string(session_id) + "/" + std::to_string(handle),
         {{"janus", "detach"}}, kRequestTimeout);
  } catch (const std::exception&) {
    // The handle dies with the session anyway.
  }
}

json JanusClient::Request(std::uint64_t handle, const json& body) {
  std::uint64_t session_id = 0;
  {
    std::lock_guard lock(mutex_);
    session_id = session_id_;
  }
  if (session_id == 0) throw SfuError(Kind::kUnavailable, "no Janus session");
  const json reply =
      Post(base_path_ + "/" + std::to_string(session_id) + "/" + std::to_string(handle),
           {{"janus", "message"}, {"body", body}}, kRequestTimeout);
  if (reply.value("janus", "") != "success") {
    if (reply.value("error", json::object()).value("code", 0) == kJanusErrorSessionNotFound) {
      LoseSession(session_id);
    }
    throw SfuError(Kind::kRefused, JanusErrorText(reply));
  }
  const json data = reply.value("plugindata", json::object()).value("data", json::object());
  ThrowIfPluginError(data);
  return data;
}

JanusClient::Reply JanusClient::RequestAsync(std::uint64_t handle, const json& body,
                                             const json& jsep) {
  std::uint64_t session_id = 0;
  const std::string transaction = NewTransaction();
  const auto pending = std::make_shared<Pending>();
  std::future<json> answered = pending->reply.get_future();
  {
    std::lock_guard lock(mutex_);
    session_id = session_id_;
    if (session_id == 0) throw SfuError(Kind::kUnavailable, "no Janus session");
    // Registered before sending: the answer may reach the polling thread before the POST returns.
    pending_[transaction] = pending;
  }
  const auto forget = [&] {
    std::lock_guard lock(mutex_);
    pending_.erase(transaction);
  };
  json message = {{"janus", "message"}, {"body", body}, {"transaction", transaction}};
  if (!jsep.is_null()) message["jsep"] = jsep;
  json reply;
  try {
    reply = Post(base_path_ + "/" + std::to_string(session_id) + "/" + std::to_string(handle),
                 message, kRequestTimeout);
  } catch (...) {
    forget();
    throw;
  }
  const std::string kind = reply.value("janus", "");
  if (kind == "error") {
    forget();
    if (reply.value("error", json::object()).value("code", 0) == kJanusErrorSessionNotFound) {
      LoseSession(session_id);
    }
    throw SfuError(Kind::kRefused, JanusErrorText(reply));
  }
  if (kind != "ack") {  // the plugin answered at once
    forget();
  } else {
    if (answered.wait_for(kAsyncReplyTimeout) != std::future_status::ready) {
      forget();
      throw SfuError(Kind::kUnavailable, "Janus did not answer in time");
    }
    reply = answered.get();  // rethrows if the session was lost meanwhile
  }
  const json data = reply.value("plugindata", json::object()).value("data", json::object());
  ThrowIfPluginError(data);
  return Reply{data, reply.value("jsep", json())};
}

bool JanusClient::Ping() {
  try {
    return Post(base_path_, {{"janus", "info"}}, kConnectTimeout).value("janus", "") ==
           "server_info";
  } catch (const std::exception&) {
    return false;
  }
}

void JanusClient::PollLoop() {
  int consecutive_failures = 0;
  while (true) {
    std::uint64_t session_id = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || session_id_ != 0; });
      if (stopping_) return;
      session_id = session_id_;
    }
    httplib::Client client(host_);
    client.set_connection_timeout(kConnectTimeout);
    client.set_read_timeout(kLongPollTimeout);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      poll_client_ = &client;
    }
    const httplib::Result result =
        client.Get(base_path_ + "/" + std::to_string(session_id) + "?maxev=10");
    {
      std::lock_guard lock(mutex_);
      poll_client_ = nullptr;
      if (stopping_) return;
    }
    if (!result || result->status != 200) {
      // Janus gone or restarting: after two failures in a row the session is as good as lost.
      if (++consecutive_failures >= 2) {
        LoseSession(session_id);
        consecutive_failures = 0;
      }
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
      continue;
    }
    consecutive_failures = 0;
    const json events = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
    if (events.is_array()) {
      for (const json& event : events) HandleEvent(event);
    } else if (events.is_object()) {
      if (events.value("janus", "") == "error" &&
          events.value("error", json::object()).value("code", 0) == kJanusErrorSessionNotFound) {
        LoseSession(session_id);
      } else {
        HandleEvent(events);
      }
    }
  }
}

void JanusClient::HandleEvent(const json& event) {
  if (!event.is_object()) return;
  const std::string kind = event.value("janus", "");
  if (kind == "keepalive" || kind == "ack") return;
  std::unique_lock lock(mutex_);
  if (const auto transaction = event.find("transaction");
      transaction != event.end() && transaction->is_string()) {
    if (const auto it = pending_.find(transaction->get<std::string>()); it != pending_.end()) {
      const std::shared_ptr<Pending> pending = it->second;
      pending_.erase(it);
      lock.unlock();
      pending->reply.set_value(event);
      return;
    }
  }
  const auto sender = event.find("sender");
  if (sender == event.end() || !sender->is_number_unsigned()) return;
  const auto handler = handlers_.find(sender->get<std::uint64_t>());
  if (handler == handlers_.end()) return;
  dispatch_queue_.push_back([on_event = handler->second, event] { on_event(event); });
  lock.unlock();
  wake_.notify_all();
}

void JanusClient::KeepaliveLoop() {
  while (true) {
    std::uint64_t session_id = 0;
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, kKeepaliveInterval, [this] { return stopping_; })) return;
      session_id = session_id_;
    }
    if (session_id == 0) continue;
    try {
      const json reply = Post(base_path_ + "/" + std::to_string(session_id),
                              {{"janus", "keepalive"}}, kRequestTimeout);
      if (reply.value("janus", "") == "error") LoseSession(session_id);
    } catch (const SfuError&) {
      // The polling thread decides whether the session is lost.
    }
  }
}

void JanusClient::LoseSession(std::uint64_t session_id) {
  std::map<std::uint64_t, EventHandler> handlers;
  std::map<std::string, std::shared_ptr<Pending>> pending;
  {
    std::lock_guard lock(mutex_);
    if (session_id_ != session_id || session_id == 0) return;
    session_id_ = 0;
    handlers.swap(handlers_);
    pending.swap(pending_);
    if (poll_client_ != nullptr) poll_client_->stop();
    for (auto& [handle, on_event] : handlers) {
      dispatch_queue_.push_back([on_event, handle = handle] {
        on_event({{"janus", "detached"}, {"sender", handle}, {"reason", "session-lost"}});
      });
    }
    if (on_session_lost_) dispatch_queue_.push_back(on_session_lost_);
  }
  std::cerr << "veil-server: Janus session lost; a new one is created on the next request\n";
  for (auto& [transaction, waiting] : pending) {
    waiting->reply.set_exception(
        std::make_exception_ptr(SfuError(Kind::kUnavailable, "Janus session lost")));
  }
  wake_.notify_all();
}

void JanusClient::DispatchLoop() {
  while (true) {
    std::function<void()> work;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !dispatch_queue_.empty(); });
      if (stopping_) return;  // pending events are moot: every handle dies with the session
      work = std::move(dispatch_queue_.front());
      dispatch_queue_.pop_front();
    }
    try {
      work();
    } catch (const std::exception& error) {
      std::cerr << "veil-server: Janus event handler failed: " << error.what() << "\n";
    }
  }
}

}  // namespace veil::server
