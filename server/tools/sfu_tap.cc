// veil-sfu-tap: TEST AND DIAGNOSTIC TOOL, not part of the served API.
// Starts a keyed rtp_forward of a consultation's publisher to local UDP ports, so a test can
// decode exactly what the SFU relays and assert it never carries an unredacted frame. It needs the
// server's master secret (room secret) and the Janus admin key (lock_rtp_forward), i.e. root on
// the SFU host; veil-server itself exposes no way to forward or record media.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_args.h"
#include "janus_client.h"
#include "secrets.h"
#include "sfu.h"

namespace {

using nlohmann::json;
using veil::server::CliArgs;

constexpr const char* kUsage =
    "usage:\n"
    "  veil-sfu-tap forward --janus URL --janus-admin-key-file FILE --secret-file FILE\n"
    "               --consultation ID --host 127.0.0.1 --video-port N [--audio-port N]\n"
    "               [--data-port N]\n"
    "      prints Janus's rtp_forward reply (JSON: forwarders with type, port, pt, stream_id)\n"
    "  veil-sfu-tap room-info --secret-file FILE --consultation ID\n"
    "      prints {\"room\":..,\"secret\":..,\"pin\":..} (tests use it to probe Janus directly)\n";

int Port(const CliArgs& cli, const std::string& name) {
  const std::string text = cli.Require(name);
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != text.npos) {
    throw std::invalid_argument("bad " + name);
  }
  const int port = std::stoi(text);
  if (port < 1 || port > 65535) throw std::invalid_argument("bad " + name);
  return port;
}

veil::server::RoomCredentials RoomOf(const CliArgs& cli) {
  const std::string master = veil::server::ReadSecretFile(cli.Require("--secret-file"), 32);
  return veil::server::DeriveRoomCredentials(veil::server::DeriveKeys(master).janus_rooms,
                                             cli.Require("--consultation"));
}

int RoomInfo(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--secret-file", "--consultation"});
  const veil::server::RoomCredentials room = RoomOf(cli);
  std::cout << json{{"room", room.room_id}, {"secret", room.secret}, {"pin", room.pin}}.dump()
            << "\n";
  return 0;
}

int Forward(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--janus", "--janus-admin-key-file", "--secret-file", "--consultation",
                           "--host", "--video-port", "--audio-port", "--data-port"});
  const veil::server::RoomCredentials room = RoomOf(cli);
  const std::string admin_key =
      veil::server::ReadSecretFile(cli.Require("--janus-admin-key-file"), 16);
  json request = {{"request", "rtp_forward"},   {"room", room.room_id},
                  {"secret", room.secret},      {"admin_key", admin_key},
                  {"host", cli.Require("--host")}, {"host_family", "ipv4"},
                  {"video_port", Port(cli, "--video-port")}};
  if (cli.Get("--audio-port")) request["audio_port"] = Port(cli, "--audio-port");
  if (cli.Get("--data-port")) request["data_port"] = Port(cli, "--data-port");

  veil::server::JanusClient janus(cli.Require("--janus"));
  const std::uint64_t handle = janus.Attach("janus.plugin.videoroom", [](const json&) {});
  const json participants =
      janus.Request(handle, {{"request", "listparticipants"}, {"room", room.room_id}});
  std::uint64_t publisher_id = 0;
  for (const json& participant : participants.value("participants", json::array())) {
    if (participant.value("publisher", false)) {
      publisher_id = participant.value("id", std::uint64_t{0});
      break;
    }
  }
  if (publisher_id == 0) {
    std::cerr << "veil-sfu-tap: nobody is publishing in that consultation\n";
    return 3;
  }
  request["publisher_id"] = publisher_id;
  // The forwarder belongs to the publisher and outlives this tool's session; it ends when the
  // publisher leaves.
  std::cout << janus.Request(handle, request).dump() << "\n";
  janus.Detach(handle);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "forward") return Forward({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "room-info") return RoomInfo({args.begin() + 1, args.end()});
    std::cerr << kUsage;
    return 2;
  } catch (const std::invalid_argument& error) {
    std::cerr << "veil-sfu-tap: " << error.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "veil-sfu-tap: " << error.what() << "\n";
    return 1;
  }
}
