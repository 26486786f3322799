#include "options.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace veil::client {
namespace {

std::optional<int> parsePositive(const std::string& text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::optional<std::string> readTokenFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;
}

}  // namespace

std::string usage() {
  return "usage: veil-patient (--invite URL | --invite-file F | --server URL --consultation ID\n"
         "                    (--token T | --token-file F)) [--ca-file PEM] [--display-name N]\n"
         "                    [--audio-out device|discard|none] (the clinician's audio)\n"
         "                    [--display auto|none] [--ice-policy all|relay]\n"
         "                    --ice-address A [--source camera|file:PATH|test]\n"
         "                    [--mode background|face|background+face|private-regions|voice-only]\n"
         "                    [--codec vp8|h264|vp9] [--width W] [--height H] [--fps N]\n"
         "                    [--models DIR] [--no-audio]"
#ifdef VEIL_LATENCY_STAMP
         " [--latency-stamp]"
#endif
         "\n"
         "--display auto (default): with DISPLAY or WAYLAND_DISPLAY set, one window shows the\n"
         "  clinician and one shows exactly the redacted video that is sent; none: no windows\n"
         "  (the clinician's video is still decoded, then dropped).\n"
         "--ice-policy relay: media only through the TURN server veil-server names with the\n"
         "  session (needs --invite and a server run with --turn-secret-file/--turn-url).\n"
         "stdin commands: 'mode NAME' (stricter modes apply at once, looser ones wait for\n"
         "'confirm'), 'cancel', 'quit'.\n"
         "exit status: 0 quit, signal or the consultation ended (by the clinician or, after\n"
         "  idle/maximum time, by the server: it reports both alike); 1 error; 2 bad command "
         "line;\n"
         "  3 the server refused the device for good (removed, rejected, session revoked,\n"
         "  refresh token replayed); 4 the session expired before a refresh got through.\n"
         "  With 3 and 4 the device stops sending at once.\n";
}

ParseResult parseOptions(const std::vector<std::string>& args) {
  PatientOptions options;
  bool has_token = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--help" || flag == "-h") return {std::nullopt, "help"};
    if (flag == "--no-audio") {
      options.audio = false;
      continue;
    }
#ifdef VEIL_LATENCY_STAMP
    if (flag == "--latency-stamp") {
      options.latency_stamp = true;
      continue;
    }
#endif
    if (i + 1 >= args.size()) return {std::nullopt, "missing value for " + flag};
    const std::string& value = args[++i];
    if (flag == "--server") {
      options.server_url = value;
    } else if (flag == "--consultation") {
      options.consultation_id = value;
    } else if (flag == "--token") {
      options.token = value;
      has_token = true;
    } else if (flag == "--token-file") {
      const auto token = readTokenFile(value);
      if (!token) return {std::nullopt, "cannot read token file " + value};
      options.token = *token;
      has_token = true;
    } else if (flag == "--invite") {
      options.invite_url = value;
    } else if (flag == "--invite-file") {
      const auto invite = readTokenFile(value);
      if (!invite) return {std::nullopt, "cannot read invite file " + value};
      options.invite_url = *invite;
    } else if (flag == "--display-name") {
      options.display_name = value;
    } else if (flag == "--audio-out") {
      if (value == "device") {
        options.audio_out = PatientOptions::AudioOut::kDevice;
      } else if (value == "discard") {
        options.audio_out = PatientOptions::AudioOut::kDiscard;
      } else if (value == "none") {
        options.audio_out = PatientOptions::AudioOut::kNone;
      } else {
        return {std::nullopt, "bad --audio-out " + value};
      }
    } else if (flag == "--display") {
      if (value == "auto") {
        options.display = PatientOptions::Display::kAuto;
      } else if (value == "none") {
        options.display = PatientOptions::Display::kNone;
      } else {
        return {std::nullopt, "bad --display " + value};
      }
    } else if (flag == "--ice-policy") {
      if (value == "all") {
        options.ice_policy = PatientOptions::IcePolicy::kAll;
      } else if (value == "relay") {
        options.ice_policy = PatientOptions::IcePolicy::kRelay;
      } else {
        return {std::nullopt, "bad --ice-policy " + value};
      }
    } else if (flag == "--ca-file") {
      options.ca_file = value;
    } else if (flag == "--source") {
      if (value == "camera") {
        options.source = SourceKind::kCamera;
      } else if (value == "test") {
        options.source = SourceKind::kTest;
      } else if (value.starts_with("file:") && value.size() > 5) {
        options.source = SourceKind::kFile;
        options.source_file = value.substr(5);
      } else {
        return {std::nullopt, "bad --source " + value};
      }
    } else if (flag == "--mode") {
      const auto mode = parseMode(value);
      if (!mode) return {std::nullopt, "unknown mode " + value};
      options.mode = *mode;
    } else if (flag == "--codec") {
      if (value == "vp8") {
        options.codec = Codec::kVp8;
      } else if (value == "h264") {
        options.codec = Codec::kH264;
      } else if (value == "vp9") {
        options.codec = Codec::kVp9;
      } else {
        return {std::nullopt, "unknown codec " + value};
      }
    } else if (flag == "--ice-address") {
      options.ice_address = value;
    } else if (flag == "--width" || flag == "--height" || flag == "--fps") {
      const auto number = parsePositive(value);
      if (!number) return {std::nullopt, "bad " + flag + " " + value};
      (flag == "--width"    ? options.width
       : flag == "--height" ? options.height
                            : options.fps) = *number;
    } else if (flag == "--models") {
      options.models_dir = value;
    } else {
      return {std::nullopt, "unknown option " + flag};
    }
  }
  if (!options.invite_url.empty()) {
    if (!options.server_url.empty() || !options.consultation_id.empty() || has_token) {
      return {std::nullopt, "--invite replaces --server, --consultation and the token"};
    }
  } else {
    if (options.ice_policy == PatientOptions::IcePolicy::kRelay) {
      return {std::nullopt, "--ice-policy relay needs --invite (TURN credentials come with it)"};
    }
    if (options.server_url.empty()) return {std::nullopt, "--server is required"};
    if (options.consultation_id.empty()) return {std::nullopt, "--consultation is required"};
    if (!has_token || options.token.empty()) return {std::nullopt, "a token is required"};
  }
  if (options.ice_address.empty()) return {std::nullopt, "--ice-address is required"};
  if (options.width % 2 != 0 || options.height % 2 != 0) {
    return {std::nullopt, "--width and --height must be even"};
  }
  return {std::move(options), {}};
}

}  // namespace veil::client
