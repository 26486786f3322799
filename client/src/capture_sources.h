#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>

#include "options.h"

namespace veil::client {

// gst_parse_launch descriptions of the capture side, plus a hook that fills in file locations
// (set as properties so paths never need quoting).
struct CaptureDescription {
  std::string launch;
  std::function<void(GstElement* pipeline)> configure;
};

// Video: camera, file (video or still image) or test pattern → BGR at the requested size and
// rate → appsink "sink". Never called in voice-only mode (the camera stays closed).
CaptureDescription videoCaptureDescription(const PatientOptions& options);

// Audio: microphone, the file's own audio track, or a test tone → 48 kHz S16 stereo → appsink.
// A file without audio (most sample clips) gets a quiet tone so the audio path still runs.
// `echo_cancel`: the microphone passes webrtcdsp, which cancels what AudioPlayback's echo probe
// plays (only for a real microphone; files and tones have no echo).
CaptureDescription audioCaptureDescription(const PatientOptions& options, bool echo_cancel = false);

// Raw caps the capture side delivers and the send side accepts.
std::string videoRawCaps(int width, int height, int fps, const char* format);
inline constexpr const char* kAudioRawCaps =
    "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2";

bool isStillImage(const std::string& path);
bool fileHasAudio(const std::string& path);

}  // namespace veil::client
