#include "veil/mode.h"

#include <array>
#include <utility>

namespace veil {
namespace {

constexpr std::array<std::pair<Mode, std::string_view>, 5> kModeNames = {{
    {Mode::kBackground, "background"},
    {Mode::kFace, "face"},
    {Mode::kBackgroundAndFace, "background+face"},
    {Mode::kPrivateRegions, "private-regions"},
    {Mode::kVoiceOnly, "voice-only"},
}};

// What each mode hides, as bits, so "stricter" means "a superset of what is hidden".
constexpr unsigned kHidesBackground = 1, kHidesFace = 2, kHidesPrivate = 4, kHidesAll = 15;

unsigned hiddenParts(Mode mode) {
  switch (mode) {
    case Mode::kBackground:
      return kHidesBackground;
    case Mode::kFace:
      return kHidesFace;
    case Mode::kBackgroundAndFace:
      return kHidesBackground | kHidesFace;
    case Mode::kPrivateRegions:
      return kHidesPrivate;
    case Mode::kVoiceOnly:
      return kHidesAll;
  }
  return kHidesAll;
}

}  // namespace

std::string_view toString(Mode mode) {
  for (const auto& [m, name] : kModeNames) {
    if (m == mode) return name;
  }
  return "unknown";
}

std::string_view toString(RedactionState state) {
  switch (state) {
    case RedactionState::kNormal:
      return "normal";
    case RedactionState::kDegraded:
      return "degraded";
    case RedactionState::kFull:
      return "full";
  }
  return "full";
}

std::optional<Mode> parseMode(std::string_view text) {
  for (const auto& [m, name] : kModeNames) {
    if (name == text) return m;
  }
  return std::nullopt;
}

bool isStricterOrEqual(Mode candidate, Mode current) {
  const unsigned c = hiddenParts(candidate);
  return (c & hiddenParts(current)) == hiddenParts(current);
}

}  // namespace veil
