#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace veil::server {
namespace {

constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  const unsigned char* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), digest.data(), &digest_length);
  if (result == nullptr) throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(digest.data()), digest_length);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(std::string_view bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

std::string RandomBytes(std::size_t byte_count) {
  std::string bytes(byte_count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(byte_count)) !=
      1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return bytes;
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &digest_length, EVP_sha256(), nullptr) !=
      1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest_length));
}

std::string HmacSha1(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  const unsigned char* result = HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), digest.data(), &digest_length);
  if (result == nullptr) throw std::runtime_error("HMAC-SHA1 failed");
  return std::string(reinterpret_cast<const char*>(digest.data()), digest_length);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string RandomHex(std::size_t byte_count) {
  std::string bytes(byte_count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(byte_count)) !=
      1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return HexEncode(bytes);
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned triple = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64UrlAlphabet[(triple >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(triple >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(triple >> 6) & 63]);
    out.push_back(kBase64UrlAlphabet[triple & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned value = static_cast<unsigned char>(bytes[i]) << 16;
    out.push_back(kBase64UrlAlphabet[(value >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(value >> 12) & 63]);
  } else if (rest == 2) {
    const unsigned value = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out.push_back(kBase64UrlAlphabet[(value >> 18) & 63]);
    out.push_back(kBase64UrlAlphabet[(value >> 12) & 63]);
    out.push_back(kBase64UrlAlphabet[(value >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no valid encoding has this length
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = Base64UrlValue(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, otherwise two different strings would decode to the same bytes.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace veil::server
