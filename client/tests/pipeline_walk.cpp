#include "pipeline_walk.h"

#include "gst_ptr.h"

namespace veil::client::testing {
namespace {

std::string klassOf(GstElement* element) {
  GstElementFactory* factory = gst_element_get_factory(element);  // not a new ref
  if (factory == nullptr) return {};
  const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
  return klass != nullptr ? klass : "";
}

std::string factoryName(GstElement* element) {
  GstElementFactory* factory = gst_element_get_factory(element);
  return factory != nullptr ? GST_OBJECT_NAME(factory) : "";
}

bool insideWebrtcbin(GstElement* element) {
  for (GstObject* parent = GST_OBJECT_PARENT(element); parent != nullptr;
       parent = GST_OBJECT_PARENT(parent)) {
    if (GST_IS_ELEMENT(parent) && factoryName(GST_ELEMENT(parent)) == "webrtcbin") return true;
  }
  return false;
}

// The sending side's sources: our two appsrcs, and inside webrtcbin the network receivers
// (nicesrc: a send-only transceiver has no decoder behind them, checked separately) and the data
// channel's appsrc, which feeds SCTP and nothing else.
bool allowedSource(GstElement* element, const std::string& factory, const std::string& name,
                   const std::string& allowed_video_appsrc,
                   const std::string& allowed_audio_appsrc) {
  if (factory == "appsrc" && (name == allowed_video_appsrc || name == allowed_audio_appsrc)) {
    return GST_OBJECT_PARENT(element) != nullptr && !insideWebrtcbin(element);
  }
  if (!insideWebrtcbin(element)) return false;
  if (factory == "nicesrc") return true;
  if (factory == "appsrc") {
    // The data channel's appsrc sits in webrtcbin's error-ignoring bin and, once SCTP exists,
    // feeds sctpenc. It must not declare media caps.
    GstObject* parent = GST_OBJECT_PARENT(element);
    if (parent == nullptr || std::string(G_OBJECT_TYPE_NAME(parent)) != "WebRTCErrorIgnoreBin") {
      return false;
    }
    GstCaps* raw_caps = nullptr;
    g_object_get(element, "caps", &raw_caps, nullptr);
    const CapsPtr caps(raw_caps);
    if (!caps) return true;
    const GCharsPtr text(gst_caps_to_string(caps.get()));
    const std::string described = text.get();
    return described.find("video") == std::string::npos &&
           described.find("audio") == std::string::npos;
  }
  return false;
}

}  // namespace

std::vector<std::string> unexpectedVideoEntries(GstElement* pipeline,
                                                const std::string& allowed_video_appsrc,
                                                const std::string& allowed_audio_appsrc) {
  std::vector<std::string> findings;
  const IteratorPtr iterator(gst_bin_iterate_recurse(GST_BIN(pipeline)));
  GValue item = G_VALUE_INIT;
  bool done = false;
  while (!done) {
    switch (gst_iterator_next(iterator.get(), &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        const std::string name = GST_OBJECT_NAME(element);
        const std::string factory = factoryName(element);
        const std::string klass = klassOf(element);
        const bool is_source = GST_OBJECT_FLAG_IS_SET(element, GST_ELEMENT_FLAG_SOURCE);
        if (klass.find("Decoder") != std::string::npos &&
            klass.find("Video") != std::string::npos) {
          findings.push_back("video decoder " + factory + " (" + name + ")");
        }
        if (klass.find("Source") != std::string::npos && klass.find("Video") != std::string::npos &&
            name != allowed_video_appsrc) {
          findings.push_back("video source " + factory + " (" + name + ")");
        }
        // A bin is flagged a source when it holds one; its children are walked one by one.
        if (is_source && !GST_IS_BIN(element) &&
            !allowedSource(element, factory, name, allowed_video_appsrc, allowed_audio_appsrc)) {
          const GCharsPtr path(gst_object_get_path_string(GST_OBJECT(element)));
          findings.push_back("source " + factory + " (" + path.get() + ")");
        }
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(iterator.get());
        findings.clear();
        break;
      case GST_ITERATOR_ERROR:
        findings.push_back("iteration error");
        done = true;
        break;
      case GST_ITERATOR_DONE:
        done = true;
        break;
    }
  }
  g_value_unset(&item);
  return findings;
}

}  // namespace veil::client::testing
