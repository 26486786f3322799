#include "credential_arguments.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace veil::client {
namespace {

constexpr std::array<std::string_view, 2> kCredentialFlags = {"--token", "--invite"};

bool isCredentialFlag(const char* argument) {
  return argument != nullptr &&
         std::ranges::find(kCredentialFlags, std::string_view(argument)) != kCredentialFlags.end();
}

}  // namespace

int hideCredentialArguments(std::span<char*> arguments) {
  int hidden = 0;
  for (std::size_t i = 0; i + 1 < arguments.size(); ++i) {
    if (!isCredentialFlag(arguments[i]) || arguments[i + 1] == nullptr) continue;
    char* value = arguments[i + 1];
    // Same length, so the kernel's view of the argument area stays one string per argument.
    std::fill(value, value + std::strlen(value), '*');
    ++hidden;
    ++i;
  }
  return hidden;
}

}  // namespace veil::client
