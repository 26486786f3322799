// The server's master secret and the independent keys derived from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace veil::server {

// Reads a secret file, dropping trailing whitespace/newlines. Throws std::runtime_error if the
// file cannot be read or the secret is shorter than `min_bytes` (too weak to sign with).
std::string ReadSecretFile(const std::string& path, std::size_t min_bytes);

// Keys for distinct purposes from one master secret (HMAC-SHA256 with a purpose label), so a key
// leaked from one use says nothing about another.
struct DerivedKeys {
  std::string token_signing;  // HS256 key for veil tokens
  std::string janus_rooms;    // source of per-room Janus ids, secrets and PINs
};
DerivedKeys DeriveKeys(std::string_view master_secret);

// A consultation's Janus room, derived rather than stored so a restarted server finds the rooms it
// created before. Never leaves veil-server (except through the test-only veil-sfu-tap).
struct RoomCredentials {
  std::uint64_t room_id = 0;  // 1 .. 2^48, exact in JSON doubles
  std::string secret;         // needed to destroy/edit the room, rtp_forward, recording
  std::string pin;            // needed to join the room at all
};
RoomCredentials DeriveRoomCredentials(std::string_view rooms_key, std::string_view consultation_id);

}  // namespace veil::server
