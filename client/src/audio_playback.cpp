#include "audio_playback.h"

#include <gst/app/gstappsrc.h>

#include <stdexcept>
#include <string>

#include "log.h"

namespace veil::client {

AudioPlayback::AudioPlayback(Output output) {
  const std::string sink =
      output == Output::kDevice ? "autoaudiosink" : "fakesink sync=false async=false";
  const std::string description =
      std::string("appsrc name=in is-live=true format=time do-timestamp=true caps=") + kCaps +
      " ! queue max-size-time=200000000 leaky=downstream ! audioconvert ! audioresample ! " +
      kCaps + " ! webrtcechoprobe name=" + kEchoProbeName + " ! audioconvert ! audioresample ! " +
      sink;
  GError* raw_error = nullptr;
  GstElement* raw = gst_parse_launch(description.c_str(), &raw_error);
  const ErrorPtr error(raw_error);
  if (raw == nullptr) throw std::runtime_error("cannot build audio playback");
  pipeline_.reset(GST_ELEMENT(gst_object_ref_sink(raw)));
  source_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "in"));
  const BusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), &AudioPlayback::onBusMessage, this);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    logLine("no audio output: the clinician's audio is not played");
  }
}

AudioPlayback::~AudioPlayback() {
  if (bus_watch_ != 0) g_source_remove(bus_watch_);
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

void AudioPlayback::push(GstSample* sample) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  if (buffer == nullptr || !source_) return;
  GstBuffer* copy = gst_buffer_copy_region(buffer, GST_BUFFER_COPY_MEMORY, 0, -1);
  if (gst_app_src_push_buffer(GST_APP_SRC(source_.get()), copy) == GST_FLOW_OK) buffers_++;
}

gboolean AudioPlayback::onBusMessage(GstBus*, GstMessage* message, gpointer) {
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* raw_error = nullptr;
    gst_message_parse_error(message, &raw_error, nullptr);
    const ErrorPtr error(raw_error);
    logLine(std::string("audio playback: ") + (error ? error->message : "error"));
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veil::client
