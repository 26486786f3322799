#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tflite_graph.h"

namespace veil::tflite {

// Largest model file the reader accepts (the biggest MediaPipe pose model is ~27 MB).
inline constexpr std::size_t kMaxModelBytes = 64u * 1024u * 1024u;

// Verifies the flatbuffer (bounds, alignment, nesting) before following any offset, then maps the
// single subgraph into a Graph. `bytes` must outlive the returned Graph. `label` names the model
// in error messages. Throws veil::ModelError on anything it does not understand.
Graph readGraph(const std::vector<std::uint8_t>& bytes, const std::string& label);

}  // namespace veil::tflite
