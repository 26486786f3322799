#include "password.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>

#include "crypto.h"

namespace veil::server {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

struct KdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

std::string Scrypt(std::string_view password, std::string_view salt, const ScryptParams& params) {
  const std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf) throw std::runtime_error("OpenSSL has no SCRYPT KDF");
  const std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) throw std::runtime_error("EVP_KDF_CTX_new failed");
  std::uint64_t n = std::uint64_t{1} << params.log2_n;
  std::uint32_t r = static_cast<std::uint32_t>(params.r);
  std::uint32_t p = static_cast<std::uint32_t>(params.p);
  std::string password_copy(password);  // OSSL_PARAM wants non-const buffers
  std::string salt_copy(salt);
  const std::array<OSSL_PARAM, 6> ossl_params = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, password_copy.data(),
                                        password_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_end(),
  };
  std::string out(kHashBytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     ossl_params.data()) != 1) {
    throw std::runtime_error("scrypt failed");
  }
  OPENSSL_cleanse(password_copy.data(), password_copy.size());
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 128) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(written);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with("=")) {
    size -= 1;
  }
  out.resize(size);
  return out;
}

struct Parsed {
  ScryptParams params;
  std::string salt;
  std::string hash;
};

// "$scrypt$ln=17,r=8,p=1$<salt>$<hash>"
std::optional<Parsed> Parse(std::string_view stored) {
  constexpr std::string_view kPrefix = "$scrypt$";
  if (!stored.starts_with(kPrefix)) return std::nullopt;
  stored.remove_prefix(kPrefix.size());
  const std::size_t params_end = stored.find('$');
  if (params_end == std::string_view::npos) return std::nullopt;
  const std::string params_text(stored.substr(0, params_end));
  Parsed parsed;
  char tail = 0;
  if (std::sscanf(params_text.c_str(), "ln=%d,r=%d,p=%d%c", &parsed.params.log2_n, &parsed.params.r,
                  &parsed.params.p, &tail) != 3) {
    return std::nullopt;
  }
  if (parsed.params.log2_n < 10 || parsed.params.log2_n > 20 || parsed.params.r < 1 ||
      parsed.params.r > 32 || parsed.params.p < 1 || parsed.params.p > 4) {
    return std::nullopt;
  }
  stored.remove_prefix(params_end + 1);
  const std::size_t salt_end = stored.find('$');
  if (salt_end == std::string_view::npos) return std::nullopt;
  const auto salt = Base64Decode(stored.substr(0, salt_end));
  const auto hash = Base64Decode(stored.substr(salt_end + 1));
  if (!salt || !hash || hash->size() != kHashBytes) return std::nullopt;
  parsed.salt = *salt;
  parsed.hash = *hash;
  return parsed;
}

}  // namespace

std::string HashPassword(std::string_view password, const ScryptParams& params) {
  const std::string salt = RandomBytes(kSaltBytes);
  return "$scrypt$ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) +
         ",p=" + std::to_string(params.p) + "$" + Base64Encode(salt) + "$" +
         Base64Encode(Scrypt(password, salt, params));
}

bool VerifyPassword(std::string_view password, std::string_view stored) {
  const std::optional<Parsed> parsed = Parse(stored);
  if (!parsed) return false;
  return ConstantTimeEquals(Scrypt(password, parsed->salt, parsed->params), parsed->hash);
}

bool NeedsRehash(std::string_view stored, const ScryptParams& params) {
  const std::optional<Parsed> parsed = Parse(stored);
  return !parsed || parsed->params.log2_n < params.log2_n || parsed->params.r < params.r ||
         parsed->params.p < params.p;
}

bool IsAcceptablePassword(std::string_view password, std::string_view username) {
  return password.size() >= 12 && password.size() <= 256 && password != username;
}

}  // namespace veil::server
