#pragma once

#include <span>

namespace veil::client {

// Overwrites, in place, the values of --token and --invite in the process's own argument vector.
// /proc/PID/cmdline reads that memory and any local user may read it, so a credential given on
// the command line stays visible only until this runs (the file forms never expose it). Returns
// how many values were hidden.
int hideCredentialArguments(std::span<char*> arguments);

}  // namespace veil::client
