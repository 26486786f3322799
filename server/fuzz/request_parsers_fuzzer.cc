// libFuzzer target: every parser veil-server applies to request bodies and headers. The first
// byte picks the parser; the rest is the input. Parsers must never crash, hang or throw, and must
// accept only what they document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "request_parsing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace veil::server;
  switch (data[0] % 8) {
    case 0: {
      const auto parsed = ParseLoginRequest(input);
      if (parsed.value && parsed.value->username.empty()) __builtin_trap();
      break;
    }
    case 1: {
      const auto parsed = ParseRedeemRequest(input);
      if (parsed.value && !IsSecretToken(parsed.value->invite)) __builtin_trap();
      break;
    }
    case 2: {
      const auto parsed = ParseRefreshRequest(input);
      if (parsed.value && !IsSecretToken(parsed.value->refresh_token)) __builtin_trap();
      break;
    }
    case 3: {
      const auto parsed = ParseCreateConsultationRequest(input);
      if (parsed.value && !parsed.value->min_mode.empty() && !IsKnownMode(parsed.value->min_mode))
        __builtin_trap();
      break;
    }
    case 4: {
      const auto parsed = ParseModeChangeRequest(input);
      if (parsed.value && !IsKnownMode(parsed.value->mode)) __builtin_trap();
      break;
    }
    case 5:
      ParseDeviceEvent(input);
      break;
    case 6: {
      const auto cookie = SessionCookie(input);
      if (cookie && !IsSecretToken(*cookie)) __builtin_trap();
      break;
    }
    default:
      LooksLikeSdp(input);
      break;
  }
  return 0;
}
