#include "request_parsing.h"

#include <array>
#include <nlohmann/json.hpp>

namespace veil::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxJsonBody = 8 * 1024;
constexpr std::size_t kMaxUsername = 128;
constexpr std::size_t kMaxPassword = 256;
constexpr std::int64_t kMaxInviteTtlSeconds = 24 * 3600;

// Parses a JSON object whose keys are all in `allowed` (deny by default: unknown fields → error).
std::optional<json> ParseObject(std::string_view body,
                                std::initializer_list<std::string_view> allowed,
                                std::string& error) {
  if (body.size() > kMaxJsonBody) {
    error = "body too large";
    return std::nullopt;
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    error = "malformed JSON";
    return std::nullopt;
  }
  if (!parsed.is_object()) {
    error = "expected a JSON object";
    return std::nullopt;
  }
  for (const auto& item : parsed.items()) {
    bool known = false;
    for (const std::string_view name : allowed) known = known || item.key() == name;
    if (!known) {
      error = "unknown field";
      return std::nullopt;
    }
  }
  return parsed;
}

// A string field; `required` decides whether absence is an error.
std::optional<std::string> StringField(const json& object, const char* name, bool required,
                                       std::size_t max_size, std::string& error) {
  const auto it = object.find(name);
  if (it == object.end()) {
    if (required) error = std::string("missing field ") + name;
    return required ? std::nullopt : std::optional<std::string>("");
  }
  if (!it->is_string()) {
    error = std::string("field ") + name + " must be a string";
    return std::nullopt;
  }
  std::string value = it->get<std::string>();
  if (value.size() > max_size) {
    error = std::string("field ") + name + " is too long";
    return std::nullopt;
  }
  return value;
}

bool HasControlCharacters(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

std::size_t Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return count;
}

bool IsAuditCode(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  for (const char c : text) {
    if (!((c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '_')) return false;
  }
  return true;
}

}  // namespace

bool IsSecretToken(std::string_view text) {
  if (text.size() != 43) return false;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsKnownMode(std::string_view mode) {
  constexpr std::array<std::string_view, 5> kModes = {"background", "face", "background+face",
                                                      "voice-only", "private-regions"};
  for (const std::string_view known : kModes) {
    if (mode == known) return true;
  }
  return false;
}

Parsed<LoginRequest> ParseLoginRequest(std::string_view body) {
  Parsed<LoginRequest> out;
  const auto object = ParseObject(body, {"username", "password"}, out.error);
  if (!object) return out;
  auto username = StringField(*object, "username", true, kMaxUsername, out.error);
  auto password = StringField(*object, "password", true, kMaxPassword, out.error);
  if (!username || !password) return out;
  if (username->empty() || HasControlCharacters(*username)) {
    out.error = "bad username";
    return out;
  }
  out.value = LoginRequest{std::move(*username), std::move(*password)};
  return out;
}

Parsed<RedeemRequest> ParseRedeemRequest(std::string_view body) {
  Parsed<RedeemRequest> out;
  const auto object = ParseObject(body, {"invite", "display_name"}, out.error);
  if (!object) return out;
  auto invite = StringField(*object, "invite", true, 64, out.error);
  auto name = StringField(*object, "display_name", false, kMaxDisplayNameChars * 4, out.error);
  if (!invite || !name) return out;
  if (!IsSecretToken(*invite)) {
    out.error = "malformed invite";
    return out;
  }
  if (HasControlCharacters(*name) || Utf8Length(*name) > kMaxDisplayNameChars) {
    out.error = "display_name must be at most 64 printable characters";
    return out;
  }
  out.value = RedeemRequest{std::move(*invite), std::move(*name)};
  return out;
}

Parsed<RefreshRequest> ParseRefreshRequest(std::string_view body) {
  Parsed<RefreshRequest> out;
  const auto object = ParseObject(body, {"refresh_token"}, out.error);
  if (!object) return out;
  auto token = StringField(*object, "refresh_token", true, 64, out.error);
  if (!token) return out;
  if (!IsSecretToken(*token)) {
    out.error = "malformed refresh_token";
    return out;
  }
  out.value = RefreshRequest{std::move(*token)};
  return out;
}

Parsed<CreateConsultationRequest> ParseCreateConsultationRequest(std::string_view body) {
  Parsed<CreateConsultationRequest> out;
  const std::string_view effective = body.empty() ? std::string_view("{}") : body;
  const auto object = ParseObject(effective, {"min_mode", "invite_ttl_seconds"}, out.error);
  if (!object) return out;
  auto mode = StringField(*object, "min_mode", false, 32, out.error);
  if (!mode) return out;
  if (!mode->empty() && !IsKnownMode(*mode)) {
    out.error = "unknown min_mode";
    return out;
  }
  CreateConsultationRequest request{std::move(*mode), 0};
  if (const auto ttl = object->find("invite_ttl_seconds"); ttl != object->end()) {
    if (!ttl->is_number_integer() || ttl->get<std::int64_t>() < 60 ||
        ttl->get<std::int64_t>() > kMaxInviteTtlSeconds) {
      out.error = "invite_ttl_seconds must be an integer in 60..86400";
      return out;
    }
    request.invite_ttl_seconds = ttl->get<std::int64_t>();
  }
  out.value = std::move(request);
  return out;
}

Parsed<ModeChangeRequest> ParseModeChangeRequest(std::string_view body) {
  Parsed<ModeChangeRequest> out;
  const auto object = ParseObject(body, {"mode"}, out.error);
  if (!object) return out;
  auto mode = StringField(*object, "mode", true, 32, out.error);
  if (!mode) return out;
  if (!IsKnownMode(*mode)) {
    out.error = "unknown mode";
    return out;
  }
  out.value = ModeChangeRequest{std::move(*mode)};
  return out;
}

Parsed<DeviceEvent> ParseDeviceEvent(std::string_view body) {
  Parsed<DeviceEvent> out;
  const auto object =
      ParseObject(body, {"type", "from", "to", "trigger", "duration_seconds"}, out.error);
  if (!object) return out;
  auto type = StringField(*object, "type", true, 32, out.error);
  auto from = StringField(*object, "from", false, 32, out.error);
  auto to = StringField(*object, "to", false, 32, out.error);
  auto trigger = StringField(*object, "trigger", false, 32, out.error);
  if (!type || !from || !to || !trigger) return out;
  DeviceEvent event{*type, *from, *to, *trigger, 0};
  if (const auto duration = object->find("duration_seconds"); duration != object->end()) {
    if (!duration->is_number_integer() || duration->get<std::int64_t>() < 0 ||
        duration->get<std::int64_t>() > 4 * 3600) {
      out.error = "duration_seconds must be an integer in 0..14400";
      return out;
    }
    event.duration_seconds = duration->get<std::int64_t>();
  }
  if (event.type == "mode.reported") {
    if (!IsKnownMode(event.from) || !IsKnownMode(event.to) ||
        !(event.trigger == "patient" || event.trigger == "request" || event.trigger == "minimum")) {
      out.error = "mode.reported needs known from/to modes and a trigger";
      return out;
    }
  } else if (event.type == "keep_visible.start" || event.type == "keep_visible.end" ||
             event.type == "redaction.fallback") {
    if (!event.from.empty() && !IsAuditCode(event.from)) event.from.clear();
    if (!event.to.empty() && !IsAuditCode(event.to)) {
      out.error = "bad state code";
      return out;
    }
  } else {
    out.error = "unknown event type";
    return out;
  }
  out.value = std::move(event);
  return out;
}

std::optional<std::string> SessionCookie(std::string_view header) {
  constexpr std::string_view kName = "__Host-veil_session=";
  if (header.size() > 8192) return std::nullopt;
  std::size_t position = 0;
  while (position < header.size()) {
    std::size_t end = header.find(';', position);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(position, end - position);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with(kName)) {
      const std::string_view value = pair.substr(kName.size());
      if (IsSecretToken(value)) return std::string(value);
      return std::nullopt;
    }
    position = end + 1;
  }
  return std::nullopt;
}

bool LooksLikeSdp(std::string_view body) {
  return body.starts_with("v=0\r\n") && body.find("\r\nm=") != std::string_view::npos &&
         body.find('\0') == std::string_view::npos;
}

}  // namespace veil::server
