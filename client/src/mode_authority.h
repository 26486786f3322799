#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "veil/mode.h"

namespace veil::client {

// Only the patient device changes the mode (design.md §5): a stricter mode applies at once, a
// looser one waits for an explicit confirmation on the device.
class ModeAuthority {
 public:
  enum class Outcome { kApplied, kNeedsConfirmation, kNothingPending, kUnchanged };

  explicit ModeAuthority(Mode initial) : current_(initial) {}

  Outcome request(Mode requested);
  Outcome confirm();
  void cancel() { pending_.reset(); }

  Mode current() const { return current_; }
  std::optional<Mode> pending() const { return pending_; }

 private:
  Mode current_;
  std::optional<Mode> pending_;
};

// One line typed on stdin (or the control channel).
struct ControlCommand {
  enum class Kind { kMode, kConfirm, kCancel, kQuit, kInvalid };
  Kind kind = Kind::kInvalid;
  Mode mode = Mode::kBackground;  // for kMode
  std::string error;              // for kInvalid
};

ControlCommand parseControlLine(std::string_view line);

}  // namespace veil::client
