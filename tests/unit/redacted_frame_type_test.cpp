// The invariant in the type system: nothing outside the Redactor can make a RedactedFrame, so a
// sender that accepts only RedactedFrame cannot be handed raw pixels. Checked at compile time.
#include <gtest/gtest.h>

#include <type_traits>

#include "veil/frame.h"
#include "veil/redacted_frame.h"

namespace veil {
namespace {

static_assert(!std::is_default_constructible_v<RedactedFrame>);
static_assert(!std::is_constructible_v<RedactedFrame, const cv::Mat&, RedactionInfo>);
static_assert(!std::is_constructible_v<RedactedFrame, cv::Mat>);
static_assert(!std::is_constructible_v<RedactedFrame, const Frame&>);
static_assert(!std::is_convertible_v<Frame, RedactedFrame>);
// Copies of a frame the Redactor made are fine (they share the same immutable buffer).
static_assert(std::is_copy_constructible_v<RedactedFrame>);

TEST(RedactedFrameType, OnlyTheRedactorConstructsIt) {
  SUCCEED() << "checked by static_assert";
}

}  // namespace
}  // namespace veil
