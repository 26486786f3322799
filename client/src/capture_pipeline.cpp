#include "capture_pipeline.h"

#include <stdexcept>

namespace veil::client {

CapturePipeline::CapturePipeline(std::string name, const std::string& description,
                                 const std::function<void(GstElement*)>& configure,
                                 SampleCallback on_sample, ErrorCallback on_error)
    : name_(std::move(name)), on_sample_(std::move(on_sample)), on_error_(std::move(on_error)) {
  GError* raw_error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &raw_error);
  const ErrorPtr error(raw_error);
  if (pipeline == nullptr) {
    throw std::runtime_error(name_ + " pipeline: " + errorText(error.get()));
  }
  pipeline_ = ElementPtr{GST_ELEMENT(gst_object_ref_sink(pipeline))};
  if (error) throw std::runtime_error(name_ + " pipeline: " + errorText(error.get()));
  if (configure) configure(pipeline_.get());

  const ElementPtr sink{gst_bin_get_by_name(GST_BIN(pipeline_.get()), "sink")};
  if (!sink) throw std::runtime_error(name_ + " pipeline has no appsink named sink");
  g_object_set(sink.get(), "emit-signals", TRUE, nullptr);
  g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&CapturePipeline::onNewSample), this);

  const BusPtr bus{gst_element_get_bus(pipeline_.get())};
  bus_watch_ = gst_bus_add_watch(bus.get(), &CapturePipeline::onBusMessage, this);
}

CapturePipeline::~CapturePipeline() {
  stop();
  if (bus_watch_ != 0) g_source_remove(bus_watch_);
}

bool CapturePipeline::start() {
  return gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
}

void CapturePipeline::stop() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

GstFlowReturn CapturePipeline::onNewSample(GstElement* sink, gpointer self) {
  GstSample* raw = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &raw);
  const SamplePtr sample(raw);
  if (!sample) return GST_FLOW_EOS;
  static_cast<CapturePipeline*>(self)->on_sample_(sample.get());
  return GST_FLOW_OK;
}

gboolean CapturePipeline::onBusMessage(GstBus*, GstMessage* message, gpointer self_ptr) {
  auto* self = static_cast<CapturePipeline*>(self_ptr);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      // Demo and test files loop; a live source never ends.
      if (!gst_element_seek_simple(
              self->pipeline_.get(), GST_FORMAT_TIME,
              static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT), 0)) {
        self->on_error_(self->name_ + ": end of stream and the source cannot loop");
      }
      break;
    case GST_MESSAGE_ERROR: {
      GError* raw_error = nullptr;
      gchar* raw_debug = nullptr;
      gst_message_parse_error(message, &raw_error, &raw_debug);
      const ErrorPtr error(raw_error);
      const GCharsPtr debug(raw_debug);
      self->on_error_(self->name_ + ": " + errorText(error.get()));
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veil::client
