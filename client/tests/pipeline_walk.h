#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace veil::client::testing {

// Every way video could enter a pipeline other than the one allowed appsrc: extra source
// elements, and video decoders (which could turn received or file data into raw frames).
// Returns one line per offending element; empty means the pipeline is clean.
std::vector<std::string> unexpectedVideoEntries(GstElement* pipeline,
                                                const std::string& allowed_video_appsrc,
                                                const std::string& allowed_audio_appsrc);

}  // namespace veil::client::testing
