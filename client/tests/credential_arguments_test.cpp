#include "credential_arguments.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace veil::client {
namespace {

// Mutable copies laid out like argv (the real one is writable process memory too).
struct Arguments {
  explicit Arguments(std::vector<std::string> values) : storage(std::move(values)) {
    for (std::string& value : storage) pointers.push_back(value.data());
  }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
};

TEST(CredentialArguments, TokenAndInviteValuesAreOverwrittenInPlaceWithTheirLength) {
  Arguments args({"veil-patient", "--token", "eyJhbGciOi.x.y", "--ice-address", "10.0.0.2",
                  "--invite", "https://clinic.example/join#invite=abc123"});
  EXPECT_EQ(hideCredentialArguments(args.pointers), 2);
  EXPECT_EQ(args.storage[2], std::string(14, '*'));
  EXPECT_EQ(args.storage[6], std::string(41, '*'));
  EXPECT_EQ(args.storage[4], "10.0.0.2");  // other values untouched
  EXPECT_EQ(args.storage[1], "--token");
}

TEST(CredentialArguments, FileFormsAndAFlagWithoutValueAreLeftAlone) {
  Arguments args(
      {"veil-patient", "--invite-file", "/run/invite", "--token-file", "/run/token", "--token"});
  EXPECT_EQ(hideCredentialArguments(args.pointers), 0);
  EXPECT_EQ(args.storage[2], "/run/invite");
  EXPECT_EQ(args.storage[4], "/run/token");
}

TEST(CredentialArguments, AFlagUsedAsTheValueOfAnotherIsNotTakenAsAFlag) {
  // `--display-name --token` names the patient "--token": the next argument is not a credential.
  Arguments args({"veil-patient", "--token", "--invite", "--display-name", "x"});
  EXPECT_EQ(hideCredentialArguments(args.pointers), 1);
  EXPECT_EQ(args.storage[2], std::string(8, '*'));
  EXPECT_EQ(args.storage[3], "--display-name");
}

}  // namespace
}  // namespace veil::client
