#include "latency_stamp.h"

#include <cstring>

namespace veil::client {

void drawLatencyStamp(std::uint8_t* bgr, int width, int height, int stride, std::uint32_t value) {
  if (width < kLatencyStampWidth || height < kLatencyStampCell) return;
  for (int cell = 0; cell < kLatencyStampBits + 2; ++cell) {
    bool white = cell == 0;
    if (cell >= 2) white = ((value >> (kLatencyStampBits - 1 - (cell - 2))) & 1u) != 0;
    const std::uint8_t level = white ? 255 : 0;
    for (int y = 0; y < kLatencyStampCell; ++y) {
      std::memset(bgr + y * stride + cell * kLatencyStampCell * 3, level, kLatencyStampCell * 3);
    }
  }
}

}  // namespace veil::client
