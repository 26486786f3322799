#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>

#include "gst_ptr.h"

namespace veil::client {

// A capture GstPipeline ending in an appsink named "sink". Raw media stays in this pipeline and
// the callback; nothing in here can reach the network. A file source loops at end of stream.
class CapturePipeline {
 public:
  using SampleCallback = std::function<void(GstSample*)>;
  using ErrorCallback = std::function<void(const std::string&)>;

  // `description` is gst_parse_launch syntax; `configure` may set properties on named elements
  // (e.g. a file URI, so paths never need quoting) before the pipeline starts.
  CapturePipeline(std::string name, const std::string& description,
                  const std::function<void(GstElement* pipeline)>& configure,
                  SampleCallback on_sample, ErrorCallback on_error);
  ~CapturePipeline();
  CapturePipeline(const CapturePipeline&) = delete;
  CapturePipeline& operator=(const CapturePipeline&) = delete;

  bool start();
  // Blocks until streaming has stopped: no callback runs after this returns. A camera is closed.
  void stop();

 private:
  static gboolean onBusMessage(GstBus* bus, GstMessage* message, gpointer self);
  static GstFlowReturn onNewSample(GstElement* sink, gpointer self);

  std::string name_;
  ElementPtr pipeline_;
  guint bus_watch_ = 0;
  SampleCallback on_sample_;
  ErrorCallback on_error_;
};

}  // namespace veil::client
