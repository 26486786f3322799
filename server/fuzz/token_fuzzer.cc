// libFuzzer target for the token verifier. Half the inputs are verified as they are (structure,
// base64url, signature check); the other half are split at the first newline into header and
// payload JSON, signed with the verifier's own key and then verified, so the claim parser behind
// the signature check is fuzzed too (a forger cannot reach it, a key holder's bug could).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto.h"
#include "token.h"

namespace {

const veil::server::TokenSigner& Signer() {
  static const veil::server::TokenSigner signer({{"k1", std::string(32, 'k')}}, "k1");
  return signer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::int64_t kNow = 1'800'000'000;
  if (data[0] & 1) {
    Signer().Verify(input, kNow);
    return 0;
  }
  const std::size_t split = input.find('\n');
  const std::string_view header = input.substr(0, split);
  const std::string_view payload =
      split == input.npos ? std::string_view() : input.substr(split + 1);
  const std::string signing_input =
      veil::server::Base64UrlEncode(header) + "." + veil::server::Base64UrlEncode(payload);
  const std::string token =
      signing_input + "." +
      veil::server::Base64UrlEncode(veil::server::HmacSha256(std::string(32, 'k'), signing_input));
  const veil::server::TokenCheck check = Signer().Verify(token, kNow);
  if (check.claims) {
    // Whatever got through must satisfy the documented invariants.
    const auto& c = *check.claims;
    if (c.expires_at <= kNow || c.expires_at - c.issued_at > veil::server::kMaxTokenTtlSeconds ||
        !veil::server::IsValidConsultationId(c.consultation_id) ||
        !veil::server::IsValidConsultationId(c.subject) || c.token_id.size() != 32) {
      __builtin_trap();
    }
  }
  return 0;
}
