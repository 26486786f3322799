#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace veil {

// What the patient chose to hide. Ordered from least to most redaction only where noted by
// `isStricterOrEqual`; the ordering matters for mode authority (a stricter mode applies at once).
enum class Mode {
  kBackground,
  kFace,
  kBackgroundAndFace,
  kPrivateRegions,
  kVoiceOnly,
};

// How trustworthy the redaction of one frame is. Carried by every RedactedFrame.
enum class RedactionState {
  kNormal,    // fresh mask for this very frame
  kDegraded,  // fallback ladder: last good mask grown by a motion bound, or the cheaper model
  kFull,      // whole frame hidden (fail closed) or avatar
};

std::string_view toString(Mode mode);
std::string_view toString(RedactionState state);
std::optional<Mode> parseMode(std::string_view text);

// True when `candidate` hides at least everything `current` hides.
bool isStricterOrEqual(Mode candidate, Mode current);

}  // namespace veil
