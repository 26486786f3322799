#pragma once

#include <gst/gst.h>

#include <atomic>
#include <string>

#include "gst_ptr.h"

namespace veil::client {

// One on-screen window in its own pipeline (appsrc → videoconvert → title tag → autovideosink),
// fed decoded or redacted frames from another pipeline's appsink. A separate pipeline keeps a
// closed or broken window from ever stopping the send or receive path: its errors close only
// this window. Nothing it shows can reach the network.
class VideoWindow {
 public:
  // Throws std::runtime_error when no video sink can open the display.
  explicit VideoWindow(const std::string& title);
  ~VideoWindow();
  VideoWindow(const VideoWindow&) = delete;
  VideoWindow& operator=(const VideoWindow&) = delete;

  // From any thread. Shares the sample's memory (no copy); drops it once the window has failed.
  void push(GstSample* sample);
  bool failed() const { return failed_.load(); }

  // True when DISPLAY or WAYLAND_DISPLAY names a display to draw on.
  static bool displayConfigured();

 private:
  static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);

  std::string title_;
  ElementPtr pipeline_;
  ElementPtr source_;
  guint bus_watch_ = 0;
  std::atomic<bool> failed_{false};
};

}  // namespace veil::client
