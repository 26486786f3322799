// libFuzzer target: arbitrary bytes through the model reader and the network builder. Anything
// other than success or veil::ModelError (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model_error.h"
#include "tflite_net.h"
#include "tflite_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  try {
    const veil::tflite::Graph graph = veil::tflite::readGraph(bytes, "fuzz");
    veil::TfliteNet net(graph, "fuzz");
  } catch (const veil::ModelError&) {
  }
  return 0;
}
