// veil-sfu-tap: TEST AND DIAGNOSTIC TOOL, not part of the served API.
// Starts a keyed rtp_forward of a consultation's publisher to local UDP ports, so a test can
// decode exactly what the SFU relays and assert it never carries an unredacted frame. It needs the
// server's master secret (room secret) and the Janus admin key (lock_rtp_forward), i.e. root on
// the SFU host; veil-server itself exposes no way to forward or record media.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
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
    "      forwards the publisher's video (RTP PT 96; RTCP feedback port N+1, used to request a\n"
    "      keyframe at once), audio (PT 111) and data-channel messages\n"
    "      (one UDP datagram each); prints {\"publisher_id\":..,\"forwarders\":[{type, codec,\n"
    "      port, pt, stream_id, ...}]}\n"
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

// Payload types the forwarded RTP carries whatever the publisher negotiated, so a receiver's caps
// are fixed: video 96, audio 111.
constexpr int kForwardedVideoPt = 96;
constexpr int kForwardedAudioPt = 111;

// Owns a UDP socket bound to 127.0.0.1:port; Janus's forwarder accepts RTCP feedback only from
// the rtcp_port it was given, so the keyframe request must come from there.
class LoopbackUdpSocket {
 public:
  explicit LoopbackUdpSocket(int port) : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("cannot create a UDP socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      close(fd_);
      throw std::runtime_error("cannot bind UDP port " + std::to_string(port));
    }
  }
  ~LoopbackUdpSocket() { close(fd_); }
  LoopbackUdpSocket(const LoopbackUdpSocket&) = delete;
  LoopbackUdpSocket& operator=(const LoopbackUdpSocket&) = delete;

  void SendTo(int port, const std::array<unsigned char, 12>& packet) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&address),
           sizeof(address));
  }

 private:
  const int fd_;
};

// RTCP Picture Loss Indication (RFC 4585 §6.3.1): the publisher answers with a keyframe, so a
// decoder of the tap can start at once instead of waiting for the next natural keyframe.
std::array<unsigned char, 12> PictureLossIndication(std::uint32_t media_ssrc) {
  constexpr std::uint32_t kSenderSsrc = 0x7665696c;  // "veil"
  std::array<unsigned char, 12> packet{0x81, 206, 0, 2};
  for (int i = 0; i < 4; ++i) {
    packet[4 + i] = static_cast<unsigned char>(kSenderSsrc >> (24 - 8 * i));
    packet[8 + i] = static_cast<unsigned char>(media_ssrc >> (24 - 8 * i));
  }
  return packet;
}

int Forward(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--janus", "--janus-admin-key-file", "--secret-file", "--consultation",
                           "--host", "--video-port", "--audio-port", "--data-port"});
  const veil::server::RoomCredentials room = RoomOf(cli);
  const std::string admin_key =
      veil::server::ReadSecretFile(cli.Require("--janus-admin-key-file"), 16);
  const std::string host = cli.Require("--host");
  const int video_port = Port(cli, "--video-port");
  // 0: that kind is not forwarded.
  const int audio_port = cli.Get("--audio-port") ? Port(cli, "--audio-port") : 0;
  const int data_port = cli.Get("--data-port") ? Port(cli, "--data-port") : 0;

  if (video_port >= 65535) throw std::invalid_argument("--video-port must leave room for RTCP");
  const LoopbackUdpSocket feedback(video_port + 1);

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

  // Learn the publisher's streams (mid, kind, codec): a participant joining the room is told about
  // every publisher and its streams. Leave right after.
  const std::uint64_t looker = janus.Attach("janus.plugin.videoroom", [](const json&) {});
  const veil::server::JanusClient::Reply joined =
      janus.RequestAsync(looker, {{"request", "join"},
                                  {"ptype", "publisher"},
                                  {"room", room.room_id},
                                  {"pin", room.pin},
                                  {"display", "veil-sfu-tap"}});
  janus.Detach(looker);
  json publisher_streams = json::array();
  for (const json& publisher : joined.data.value("publishers", json::array())) {
    if (publisher.value("id", std::uint64_t{0}) == publisher_id) {
      publisher_streams = publisher.value("streams", json::array());
    }
  }

  json streams = json::array();
  json described = json::array();
  for (const json& stream : publisher_streams) {
    const std::string type = stream.value("type", "");
    const std::string mid = stream.value("mid", "");
    json forward = {{"mid", mid}};
    if (type == "video") {
      forward["port"] = video_port;
      forward["pt"] = kForwardedVideoPt;
      forward["rtcp_port"] = video_port + 1;
    } else if (type == "audio" && audio_port != 0) {
      forward["port"] = audio_port;
      forward["pt"] = kForwardedAudioPt;
    } else if (type == "data" && data_port != 0) {
      forward["port"] = data_port;
    } else {
      continue;
    }
    streams.push_back(forward);
    described.push_back({{"mid", mid}, {"type", type}, {"codec", stream.value("codec", "")}});
  }
  // The forwarder belongs to the publisher and outlives this tool's session; it ends when the
  // publisher leaves.
  const json reply = janus.Request(handle, {{"request", "rtp_forward"},
                                            {"room", room.room_id},
                                            {"publisher_id", publisher_id},
                                            {"secret", room.secret},
                                            {"admin_key", admin_key},
                                            {"host", host},
                                            {"host_family", "ipv4"},
                                            {"streams", streams}});
  janus.Detach(handle);
  json forwarders = json::array();
  for (const json& forwarder : reply.value("forwarders", json::array())) {
    json entry = forwarder;
    for (const json& stream : described) {
      if (stream["type"] == forwarder.value("type", "")) entry["codec"] = stream["codec"];
    }
    forwarders.push_back(entry);
  }
  // Ask for a keyframe a few times (UDP may drop one), spread over about a second.
  for (const json& forwarder : forwarders) {
    if (forwarder.value("type", "") != "video" || !forwarder.contains("local_rtcp_port")) continue;
    const auto packet = PictureLossIndication(forwarder.value("ssrc", std::uint32_t{0}));
    for (int attempt = 0; attempt < 5; ++attempt) {
      feedback.SendTo(forwarder.value("local_rtcp_port", 0), packet);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::cout << json{{"publisher_id", publisher_id}, {"forwarders", forwarders}}.dump() << "\n";
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
