#include "mode_authority.h"

namespace veil::client {

ModeAuthority::Outcome ModeAuthority::request(Mode requested) {
  if (requested == current_) {
    pending_.reset();
    return Outcome::kUnchanged;
  }
  if (isStricterOrEqual(requested, current_)) {
    current_ = requested;
    pending_.reset();
    return Outcome::kApplied;
  }
  pending_ = requested;
  return Outcome::kNeedsConfirmation;
}

ModeAuthority::Outcome ModeAuthority::confirm() {
  if (!pending_) return Outcome::kNothingPending;
  current_ = *pending_;
  pending_.reset();
  return Outcome::kApplied;
}

namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

ControlCommand parseControlLine(std::string_view line) {
  const std::string_view text = trim(line);
  ControlCommand command;
  if (text == "confirm") {
    command.kind = ControlCommand::Kind::kConfirm;
  } else if (text == "cancel") {
    command.kind = ControlCommand::Kind::kCancel;
  } else if (text == "quit") {
    command.kind = ControlCommand::Kind::kQuit;
  } else if (text.starts_with("mode ")) {
    const auto mode = parseMode(trim(text.substr(5)));
    if (mode) {
      command.kind = ControlCommand::Kind::kMode;
      command.mode = *mode;
    } else {
      command.error = "unknown mode";
    }
  } else {
    command.error = "unknown command (try: mode NAME, confirm, cancel, quit)";
  }
  return command;
}

}  // namespace veil::client
