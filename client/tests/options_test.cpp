#include "options.h"

#include <gtest/gtest.h>

#include "consultation_session.h"
#include "whip_client.h"

namespace veil::client {
namespace {

const std::vector<std::string> kRequired = {
    "--server", "http://10.0.0.1:8080", "--consultation", "c1", "--token",
    "t",        "--ice-address",        "10.0.0.2"};

std::vector<std::string> with(std::vector<std::string> extra) {
  std::vector<std::string> args = kRequired;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(Options, Defaults) {
  const ParseResult parsed = parseOptions(kRequired);
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->source, SourceKind::kCamera);
  EXPECT_EQ(parsed.options->codec, Codec::kVp8);
  EXPECT_EQ(parsed.options->mode, Mode::kBackground);
}

TEST(Options, SourcesModesAndCodecs) {
  const ParseResult parsed =
      parseOptions(with({"--source", "file:/tmp/a b.mp4", "--mode", "voice-only", "--codec", "h264",
                         "--width", "1280", "--height", "720", "--fps", "15"}));
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->source, SourceKind::kFile);
  EXPECT_EQ(parsed.options->source_file, "/tmp/a b.mp4");
  EXPECT_EQ(parsed.options->mode, Mode::kVoiceOnly);
  EXPECT_EQ(parsed.options->codec, Codec::kH264);
  EXPECT_EQ(parsed.options->width, 1280);
  EXPECT_EQ(parsed.options->fps, 15);
}

TEST(Options, Refusals) {
  EXPECT_FALSE(parseOptions({}).options);
  EXPECT_FALSE(parseOptions(with({"--mode", "none"})).options);
  EXPECT_FALSE(parseOptions(with({"--codec", "av1"})).options);
  EXPECT_FALSE(parseOptions(with({"--width", "-4"})).options);
  EXPECT_FALSE(parseOptions(with({"--width", "641"})).options);
  EXPECT_FALSE(parseOptions(with({"--source", "screen"})).options);
  EXPECT_FALSE(parseOptions(with({"--fps"})).options);
}

TEST(Options, DisplayAndIcePolicy) {
  const ParseResult defaults = parseOptions(kRequired);
  ASSERT_TRUE(defaults.options) << defaults.error;
  EXPECT_EQ(defaults.options->display, PatientOptions::Display::kAuto);
  EXPECT_EQ(defaults.options->ice_policy, PatientOptions::IcePolicy::kAll);

  const ParseResult none = parseOptions(with({"--display", "none", "--ice-policy", "all"}));
  ASSERT_TRUE(none.options) << none.error;
  EXPECT_EQ(none.options->display, PatientOptions::Display::kNone);

  const ParseResult relay =
      parseOptions({"--invite", "https://veil.example/join#invite=" + std::string(43, 'a'),
                    "--ice-address", "10.0.0.2", "--ice-policy", "relay", "--display", "auto"});
  ASSERT_TRUE(relay.options) << relay.error;
  EXPECT_EQ(relay.options->ice_policy, PatientOptions::IcePolicy::kRelay);
  EXPECT_EQ(relay.options->display, PatientOptions::Display::kAuto);

  EXPECT_FALSE(parseOptions(with({"--display", "x11"})).options);
  EXPECT_FALSE(parseOptions(with({"--display"})).options);
  EXPECT_FALSE(parseOptions(with({"--ice-policy", "host"})).options);
  // TURN credentials come only with an invite's session: relay-only with a bare token refuses.
  const ParseResult bare = parseOptions(with({"--ice-policy", "relay"}));
  EXPECT_FALSE(bare.options);
  EXPECT_NE(bare.error.find("--invite"), std::string::npos);
  EXPECT_NE(usage().find("--display auto|none"), std::string::npos);
  EXPECT_NE(usage().find("--ice-policy all|relay"), std::string::npos);
}

TEST(Options, UsageListsTheExitStatuses) {
  // Supervisors and scripts tell a revoked device (3) from an expired session (4) by these.
  for (const char* status : {"0 quit", "1 error", "2 bad command line", "3 the server refused",
                             "4 the session expired"}) {
    EXPECT_NE(usage().find(status), std::string::npos) << status;
  }
}

TEST(ServerUrl, Parses) {
  const auto plain = parseServerUrl("http://10.0.0.1:8080");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->scheme_host_port, "http://10.0.0.1:8080");
  EXPECT_EQ(plain->base_path, "");
  const auto prefixed = parseServerUrl("https://veil.example/clinic/");
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->scheme_host_port, "https://veil.example");
  EXPECT_EQ(prefixed->base_path, "/clinic");
  EXPECT_FALSE(parseServerUrl("ftp://x"));
  EXPECT_FALSE(parseServerUrl("10.0.0.1:8080"));
}

const std::string kCode = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";  // 43 characters

TEST(Options, InviteReplacesServerConsultationAndToken) {
  const ParseResult parsed =
      parseOptions({"--invite", "https://h:8443/join#invite=" + kCode, "--ca-file", "/tmp/ca.pem",
                    "--ice-address", "10.0.0.2"});
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->ca_file, "/tmp/ca.pem");
  EXPECT_TRUE(parsed.options->token.empty());
  EXPECT_FALSE(parseOptions(with({"--invite", "https://h/join#invite=" + kCode})).options);
}

TEST(InviteLink, Parses) {
  const auto link = parseInviteLink("https://veil.example:8443/clinic/join#invite=" + kCode);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->server.scheme_host_port, "https://veil.example:8443");
  EXPECT_EQ(link->server.base_path, "/clinic");
  EXPECT_EQ(link->code, kCode);
  EXPECT_FALSE(parseInviteLink("https://veil.example/join#invite=short"));
  EXPECT_FALSE(parseInviteLink("https://veil.example/join#invite=" + kCode + "x"));
  EXPECT_FALSE(parseInviteLink("https://veil.example/other#invite=" + kCode));
  EXPECT_FALSE(parseInviteLink("https://veil.example/join?invite=" + kCode));
  EXPECT_FALSE(parseInviteLink("ftp://veil.example/join#invite=" + kCode));
}

}  // namespace
}  // namespace veil::client
