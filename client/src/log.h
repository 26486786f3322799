#pragma once

#include <string>

namespace veil::client {

// One status line on stderr. Callers pass states and errors only: never tokens, SDP or media.
void logLine(const std::string& line);

}  // namespace veil::client
