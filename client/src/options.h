#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "veil/mode.h"

namespace veil::client {

enum class SourceKind { kCamera, kFile, kTest };
enum class Codec { kVp8, kH264, kVp9 };

struct PatientOptions {
  std::string server_url;       // e.g. http://10.77.0.1:8080
  std::string consultation_id;  // the {cid} of the publish endpoint
  std::string token;            // Bearer token; never logged
  std::string invite_url;       // https://host/join#invite=...; replaces server/consultation/token
  std::string display_name;     // shown to the clinician in the waiting room (optional)
  std::string ca_file;          // trust only this CA for https (the demo's self-signed cert)
  SourceKind source = SourceKind::kCamera;
  std::filesystem::path source_file;  // for SourceKind::kFile (video or still image)
  Mode mode = Mode::kBackground;
  Codec codec = Codec::kVp8;
  std::string ice_address;  // the local address the SFU can reach
  int width = 640;
  int height = 480;
  int fps = 30;
  std::filesystem::path models_dir;  // empty: the engine's default
  bool audio = true;
  enum class AudioOut { kDevice, kDiscard, kNone } audio_out = AudioOut::kDevice;  // clinician's
  bool latency_stamp = false;  // test-only builds: stamp capture time into each sent frame
  // kAuto: windows (the clinician, and a preview of exactly what is sent) when DISPLAY or
  // WAYLAND_DISPLAY is set; kNone: the clinician's video is decoded and dropped, no preview.
  enum class Display { kAuto, kNone } display = Display::kAuto;
  // kRelay: both webrtcbins gather TURN relay candidates only, through the TURN server whose
  // credentials veil-server returns with the session token (invite flow only).
  enum class IcePolicy { kAll, kRelay } ice_policy = IcePolicy::kAll;
};

struct ParseResult {
  std::optional<PatientOptions> options;
  std::string error;  // set when options is empty; "help" when --help was asked for
};

ParseResult parseOptions(const std::vector<std::string>& args);
std::string usage();

}  // namespace veil::client
