#pragma once

#include <cstdint>

namespace veil::client {

// Test-only measurement aid: draws a value (capture time in ms, low 24 bits) as a row of
// black/white cells into the top-left corner of an outgoing frame so a browser can read it back
// off a canvas. Layout: one white and one black reference cell, then 24 data cells, most
// significant bit first; each cell is kLatencyStampCell pixels square.
inline constexpr int kLatencyStampCell = 16;
inline constexpr int kLatencyStampBits = 24;
inline constexpr int kLatencyStampWidth = (kLatencyStampBits + 2) * kLatencyStampCell;

void drawLatencyStamp(std::uint8_t* bgr, int width, int height, int stride, std::uint32_t value);

}  // namespace veil::client
