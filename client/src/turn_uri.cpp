#include "turn_uri.h"

#include <cctype>

namespace veil::client {
namespace {

std::string percentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const unsigned char c : text) {
    // RFC 3986 unreserved characters stay; everything else (':', '@', '/', '+', '=') is encoded.
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0f];
    }
  }
  return encoded;
}

bool isHostPort(const std::string& text) {
  if (text.empty()) return false;
  for (const unsigned char c : text) {
    if (std::isalnum(c) == 0 && c != '.' && c != '-' && c != ':' && c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> webrtcbinTurnUri(const std::string& url, const std::string& username,
                                            const std::string& credential) {
  std::string scheme;
  std::string rest;
  for (const char* candidate : {"turns:", "turn:"}) {
    const std::string prefix(candidate);
    if (url.starts_with(prefix)) {
      scheme = prefix.substr(0, prefix.size() - 1);
      rest = url.substr(prefix.size());
      break;
    }
  }
  if (scheme.empty()) return std::nullopt;
  if (rest.starts_with("//")) rest = rest.substr(2);
  std::string query;
  if (const auto mark = rest.find('?'); mark != std::string::npos) {
    query = rest.substr(mark + 1);
    rest.resize(mark);
  }
  if (!isHostPort(rest)) return std::nullopt;
  std::string uri =
      scheme + "://" + percentEncode(username) + ":" + percentEncode(credential) + "@" + rest;
  // UDP is webrtcbin's default; TCP must be asked for.
  if (query == "transport=tcp") {
    uri += "?transport=tcp";
  } else if (!query.empty() && query != "transport=udp") {
    return std::nullopt;
  }
  return uri;
}

std::vector<std::string> webrtcbinTurnUris(const TurnCredentials& turn) {
  std::vector<std::string> uris;
  for (const std::string& url : turn.urls) {
    if (auto uri = webrtcbinTurnUri(url, turn.username, turn.credential)) {
      uris.push_back(std::move(*uri));
    }
  }
  return uris;
}

}  // namespace veil::client
