#include "secrets.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "crypto.h"

namespace veil::server {

std::string ReadSecretFile(const std::string& path, std::size_t min_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read secret file " + path);
  std::ostringstream contents;
  contents << file.rdbuf();
  std::string secret = contents.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.size() < min_bytes) {
    throw std::runtime_error("secret in " + path + " is shorter than " + std::to_string(min_bytes) +
                             " bytes");
  }
  return secret;
}

DerivedKeys DeriveKeys(std::string_view master_secret) {
  return DerivedKeys{
      .token_signing = HmacSha256(master_secret, "veil/token-signing/v1"),
      .janus_rooms = HmacSha256(master_secret, "veil/janus-rooms/v1"),
  };
}

RoomCredentials DeriveRoomCredentials(std::string_view rooms_key,
                                      std::string_view consultation_id) {
  const std::string cid(consultation_id);
  const std::string id_bytes = HmacSha256(rooms_key, "room-id:" + cid);
  std::uint64_t id = 0;
  for (int i = 0; i < 6; ++i) id = (id << 8) | static_cast<unsigned char>(id_bytes[i]);
  return RoomCredentials{
      .room_id = id + 1,  // never 0: Janus treats 0 as "pick one for me"
      .secret = HexEncode(HmacSha256(rooms_key, "room-secret:" + cid)),
      .pin = HexEncode(HmacSha256(rooms_key, "room-pin:" + cid)).substr(0, 32),
  };
}

}  // namespace veil::server
