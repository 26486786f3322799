#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "negotiation.h"

namespace veil::client {

// Runs one blocking call (an HTTP request) on its own thread, so the GLib main loop never waits
// for the network, and hands the result to `on_result` on the main loop. `work` must only use
// what it owns (capture copies): nothing it touches is shared with the main loop. A result that
// arrives after this object is gone is dropped, so `on_result` may capture its owner. The
// destructor waits for a call still running (at most the HTTP timeouts).
template <typename Result>
class BackgroundCall {
 public:
  BackgroundCall() = default;
  BackgroundCall(const BackgroundCall&) = delete;
  BackgroundCall& operator=(const BackgroundCall&) = delete;

  // Main loop only; one call at a time: start the next one from (or after) the previous result.
  void start(std::function<Result()> work, std::function<void(Result)> on_result) {
    if (thread_.joinable()) thread_.join();  // finished: its result has been posted
    thread_ = std::jthread([work = std::move(work), on_result = std::move(on_result),
                            alive = std::weak_ptr<int>(alive_)]() mutable {
      auto result = std::make_shared<Result>(work());
      onMainLoop([on_result = std::move(on_result), alive = std::move(alive), result] {
        // Checked on the main loop, where the owner is destroyed too: no race.
        if (alive.lock()) on_result(std::move(*result));
      });
    });
  }

 private:
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::jthread thread_;  // last: joined first when destroyed
};

}  // namespace veil::client
