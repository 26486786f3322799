#include "capture_sources.h"

#include <gst/pbutils/pbutils.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "audio_playback.h"
#include "gst_ptr.h"

namespace veil::client {
namespace {

std::string lowercaseExtension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

std::string fileUri(const std::string& path) {
  GError* raw_error = nullptr;
  const GCharsPtr uri(gst_filename_to_uri(path.c_str(), &raw_error));
  const ErrorPtr error(raw_error);
  return uri ? std::string(uri.get()) : std::string();
}

// Sets property `name` on the element called `element` inside `pipeline`.
void setOnNamed(GstElement* pipeline, const char* element, const char* name,
                const std::string& value) {
  const ElementPtr found{gst_bin_get_by_name(GST_BIN(pipeline), element)};
  if (found) g_object_set(found.get(), name, value.c_str(), nullptr);
}

}  // namespace

std::string videoRawCaps(int width, int height, int fps, const char* format) {
  return "video/x-raw,format=" + std::string(format) + ",width=" + std::to_string(width) +
         ",height=" + std::to_string(height) + ",framerate=" + std::to_string(fps) +
         "/1,pixel-aspect-ratio=1/1";
}

bool isStillImage(const std::string& path) {
  const std::string extension = lowercaseExtension(path);
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

bool fileHasAudio(const std::string& path) {
  const std::string uri = fileUri(path);
  if (uri.empty()) return false;
  GError* raw_error = nullptr;
  GstDiscoverer* raw_discoverer = gst_discoverer_new(5 * GST_SECOND, &raw_error);
  const ErrorPtr error(raw_error);
  if (raw_discoverer == nullptr) return false;
  const GObjectPtr discoverer(G_OBJECT(raw_discoverer));
  raw_error = nullptr;
  GstDiscovererInfo* raw_info =
      gst_discoverer_discover_uri(GST_DISCOVERER(discoverer.get()), uri.c_str(), &raw_error);
  const ErrorPtr discover_error(raw_error);
  if (raw_info == nullptr) return false;
  const GObjectPtr info(G_OBJECT(raw_info));
  GList* streams = gst_discoverer_info_get_audio_streams(GST_DISCOVERER_INFO(info.get()));
  const bool has_audio = streams != nullptr;
  gst_discoverer_stream_info_list_free(streams);
  return has_audio;
}

CaptureDescription videoCaptureDescription(const PatientOptions& options) {
  // Letterbox to the requested size (pixel-aspect-ratio 1/1), then a single-slot appsink that
  // drops stale frames so the redactor always works on the newest one.
  const std::string to_bgr = " ! videoconvert ! videoscale ! videorate ! " +
                             videoRawCaps(options.width, options.height, options.fps, "BGR") +
                             " ! appsink name=sink max-buffers=1 drop=true ";
  switch (options.source) {
    case SourceKind::kCamera:
      return {"autovideosrc ! videoconvert" + to_bgr + "sync=false", {}};
    case SourceKind::kTest:
      return {"videotestsrc is-live=true pattern=smpte" + to_bgr + "sync=false", {}};
    case SourceKind::kFile:
      break;
  }
  const std::string path = options.source_file.string();
  if (isStillImage(path)) {
    return {"filesrc name=file ! decodebin ! videoconvert ! imagefreeze is-live=true" + to_bgr +
                "sync=false",
            [path](GstElement* pipeline) { setOnNamed(pipeline, "file", "location", path); }};
  }
  // The file plays at its own pace (sync=true) as a camera would.
  return {
      "uridecodebin name=file caps=video/x-raw" + to_bgr + "sync=true",
      [uri = fileUri(path)](GstElement* pipeline) { setOnNamed(pipeline, "file", "uri", uri); }};
}

CaptureDescription audioCaptureDescription(const PatientOptions& options, bool echo_cancel) {
  const std::string to_sink = std::string(" ! audioconvert ! audioresample ! ") + kAudioRawCaps +
                              " ! appsink name=sink max-buffers=8 drop=true ";
  const std::string tone = "audiotestsrc is-live=true wave=sine freq=440 volume=0.2";
  switch (options.source) {
    case SourceKind::kCamera:
      if (echo_cancel) {
        return {std::string("autoaudiosrc ! audioconvert ! audioresample ! ") +
                    AudioPlayback::kCaps + " ! webrtcdsp probe=" + AudioPlayback::kEchoProbeName +
                    to_sink + "sync=false",
                {}};
      }
      return {"autoaudiosrc" + to_sink + "sync=false", {}};
    case SourceKind::kTest:
      return {tone + to_sink + "sync=false", {}};
    case SourceKind::kFile:
      break;
  }
  const std::string path = options.source_file.string();
  if (isStillImage(path) || !fileHasAudio(path)) return {tone + to_sink + "sync=false", {}};
  return {
      "uridecodebin name=file caps=audio/x-raw" + to_sink + "sync=true",
      [uri = fileUri(path)](GstElement* pipeline) { setOnNamed(pipeline, "file", "uri", uri); }};
}

}  // namespace veil::client
