#pragma once

// Owning handles for GLib/GStreamer references. Every ref the client takes is held by one of
// these, so an early return or an exception can never leak a pipeline, caps or sample.

#include <gst/gst.h>

#include <memory>
#include <string>

namespace veil::client {

template <typename T, void (*Release)(T*)>
struct Releaser {
  void operator()(T* handle) const {
    if (handle != nullptr) Release(handle);
  }
};

inline void unrefGstObject(GstElement* element) {
  gst_object_unref(element);
}
inline void unrefGstPad(GstPad* pad) {
  gst_object_unref(pad);
}
inline void unrefGstBus(GstBus* bus) {
  gst_object_unref(bus);
}
inline void unrefGstClock(GstClock* clock) {
  gst_object_unref(clock);
}
inline void unrefGstCaps(GstCaps* caps) {
  gst_caps_unref(caps);
}
inline void unrefGstSample(GstSample* sample) {
  gst_sample_unref(sample);
}
inline void unrefGstBuffer(GstBuffer* buffer) {
  gst_buffer_unref(buffer);
}
inline void unrefGstMessage(GstMessage* message) {
  gst_message_unref(message);
}
inline void freeGstStructure(GstStructure* structure) {
  gst_structure_free(structure);
}
inline void unrefGstPromise(GstPromise* promise) {
  gst_promise_unref(promise);
}
inline void freeGError(GError* error) {
  g_error_free(error);
}
inline void freeGChars(gchar* text) {
  g_free(text);
}
inline void unrefGObject(GObject* object) {
  g_object_unref(object);
}
inline void unrefGstIterator(GstIterator* iterator) {
  gst_iterator_free(iterator);
}

using ElementPtr = std::unique_ptr<GstElement, Releaser<GstElement, unrefGstObject>>;
using PadPtr = std::unique_ptr<GstPad, Releaser<GstPad, unrefGstPad>>;
using BusPtr = std::unique_ptr<GstBus, Releaser<GstBus, unrefGstBus>>;
using ClockPtr = std::unique_ptr<GstClock, Releaser<GstClock, unrefGstClock>>;
using CapsPtr = std::unique_ptr<GstCaps, Releaser<GstCaps, unrefGstCaps>>;
using SamplePtr = std::unique_ptr<GstSample, Releaser<GstSample, unrefGstSample>>;
using BufferPtr = std::unique_ptr<GstBuffer, Releaser<GstBuffer, unrefGstBuffer>>;
using MessagePtr = std::unique_ptr<GstMessage, Releaser<GstMessage, unrefGstMessage>>;
using StructurePtr = std::unique_ptr<GstStructure, Releaser<GstStructure, freeGstStructure>>;
using PromisePtr = std::unique_ptr<GstPromise, Releaser<GstPromise, unrefGstPromise>>;
using ErrorPtr = std::unique_ptr<GError, Releaser<GError, freeGError>>;
using GCharsPtr = std::unique_ptr<gchar, Releaser<gchar, freeGChars>>;
using GObjectPtr = std::unique_ptr<GObject, Releaser<GObject, unrefGObject>>;
using IteratorPtr = std::unique_ptr<GstIterator, Releaser<GstIterator, unrefGstIterator>>;

// gst_element_factory_make returns a floating ref; sinking it makes the handle the owner even
// after the element is added to a bin (the bin takes its own ref).
inline ElementPtr makeElement(const char* factory, const char* name = nullptr) {
  GstElement* element = gst_element_factory_make(factory, name);
  if (element == nullptr) return ElementPtr{};
  return ElementPtr{GST_ELEMENT(gst_object_ref_sink(element))};
}

inline std::string errorText(const GError* error) {
  return error != nullptr && error->message != nullptr ? error->message : "unknown error";
}

// A GstMapInfo that unmaps itself.
class MappedBuffer {
 public:
  MappedBuffer(GstBuffer* buffer, GstMapFlags flags) : buffer_(buffer) {
    mapped_ = gst_buffer_map(buffer_, &info_, flags);
  }
  ~MappedBuffer() {
    if (mapped_) gst_buffer_unmap(buffer_, &info_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  bool ok() const { return mapped_; }
  const guint8* data() const { return info_.data; }
  guint8* mutableData() { return info_.data; }
  gsize size() const { return info_.size; }

 private:
  GstBuffer* buffer_;
  GstMapInfo info_{};
  bool mapped_ = false;
};

}  // namespace veil::client
