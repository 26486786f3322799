#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace veil {

// FIPS 180-4 SHA-256 of `data` as 64 lowercase hex digits. Kept in the engine (instead of
// OpenSSL) so the engine stays dependency-free for mobile ports.
std::string sha256Hex(std::span<const std::uint8_t> data);

}  // namespace veil
