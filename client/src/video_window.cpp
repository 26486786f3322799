#include "video_window.h"

#include <gst/app/gstappsrc.h>

#include <cstdlib>
#include <stdexcept>

#include "log.h"

namespace veil::client {

bool VideoWindow::displayConfigured() {
  for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && value[0] != '\0') return true;
  }
  return false;
}

VideoWindow::VideoWindow(const std::string& title) : title_(title) {
  // Frames arrive already paced by their producer: show each at once (sync=false); a small
  // leaky queue drops frames rather than ever blocking the producer's appsink.
  GError* raw_error = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "appsrc name=frames is-live=true format=time do-timestamp=true block=false max-buffers=2 "
      "leaky-type=downstream ! queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 "
      "leaky=downstream ! videoconvert ! videoscale ! taginject name=title ! "
      "autovideosink name=window sync=false",
      &raw_error);
  const ErrorPtr error(raw_error);
  if (pipeline == nullptr) throw std::runtime_error("window pipeline: " + errorText(error.get()));
  pipeline_ = ElementPtr{GST_ELEMENT(gst_object_ref_sink(pipeline))};
  if (error) throw std::runtime_error("window pipeline: " + errorText(error.get()));
  source_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "frames"));
  const ElementPtr tagger(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "title"));
  // The X sinks name their window after the stream's title tag.
  const std::string tags = "title=\"" + title_ + "\"";
  g_object_set(tagger.get(), "tags", tags.c_str(), nullptr);
  const BusPtr bus{gst_element_get_bus(pipeline_.get())};
  bus_watch_ = gst_bus_add_watch(bus.get(), &VideoWindow::onBusMessage, this);
  // READY opens the display: failing here means no window, before any frame is pushed.
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_source_remove(bus_watch_);
    bus_watch_ = 0;
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    throw std::runtime_error("no video sink can open the display");
  }
}

VideoWindow::~VideoWindow() {
  failed_ = true;
  if (bus_watch_ != 0) g_source_remove(bus_watch_);
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

void VideoWindow::push(GstSample* sample) {
  if (failed_) return;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstCaps* caps = gst_sample_get_caps(sample);
  if (buffer == nullptr || caps == nullptr) return;
  const CapsPtr current(gst_app_src_get_caps(GST_APP_SRC(source_.get())));
  if (!current || !gst_caps_is_equal(current.get(), caps)) {
    gst_app_src_set_caps(GST_APP_SRC(source_.get()), caps);
  }
  // Same memory and video meta (strides), new timestamps: this pipeline has its own clock.
  GstBuffer* shared = gst_buffer_copy_region(
      buffer, static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_MEMORY | GST_BUFFER_COPY_META), 0,
      -1);
  GST_BUFFER_PTS(shared) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS(shared) = GST_CLOCK_TIME_NONE;
  // Takes ownership of `shared`.
  gst_app_src_push_buffer(GST_APP_SRC(source_.get()), shared);
}

gboolean VideoWindow::onBusMessage(GstBus*, GstMessage* message, gpointer self_ptr) {
  auto* self = static_cast<VideoWindow*>(self_ptr);
  if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) return G_SOURCE_CONTINUE;
  GError* raw_error = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(message, &raw_error, &raw_debug);
  const ErrorPtr error(raw_error);
  const GCharsPtr debug(raw_debug);
  if (!self->failed_.exchange(true)) {
    logLine("window '" + self->title_ + "' closed: " + errorText(error.get()));
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veil::client
