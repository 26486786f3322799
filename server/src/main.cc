// veil-server: serves the viewer and relays signalling between patients, viewers and the SFU.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "api_server.h"
#include "cli_args.h"
#include "janus_video_room.h"
#include "secrets.h"
#include "token.h"

namespace {

using veil::server::CliArgs;

constexpr std::size_t kMinMasterSecretBytes = 32;
constexpr std::size_t kMinAdminKeyBytes = 16;

constexpr const char* kUsage =
    "usage:\n"
    "  veil-server --listen ADDR:PORT --janus URL --janus-admin-key-file FILE\n"
    "              --secret-file FILE --web-dir DIR [--demo-consultation ID]\n"
    "  veil-server mint-token --secret-file FILE --consultation ID --role patient|viewer\n"
    "              [--ttl SECONDS]\n";

int MintToken(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--secret-file", "--consultation", "--role", "--ttl"});
  const std::string master =
      veil::server::ReadSecretFile(cli.Require("--secret-file"), kMinMasterSecretBytes);
  const auto role = veil::server::ParseRole(cli.Require("--role"));
  if (!role) throw std::invalid_argument("--role must be patient or viewer");
  const std::string ttl_text = cli.Get("--ttl").value_or("900");
  if (ttl_text.empty() || ttl_text.size() > 6 ||
      ttl_text.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("--ttl must be a number of seconds");
  }
  const veil::server::TokenSigner signer(veil::server::DeriveKeys(master).token_signing);
  std::cout << signer.Mint(cli.Require("--consultation"), *role, std::stoll(ttl_text),
                           veil::server::UnixNow())
            << "\n";
  return 0;
}

// Janus may still be starting when the demo starts us: retry room creation for a while.
void CreateDemoRoom(veil::server::Sfu& sfu, const std::string& consultation_id) {
  for (int attempt = 1;; ++attempt) {
    try {
      sfu.EnsureRoom(consultation_id);
      return;
    } catch (const veil::server::SfuError& error) {
      if (attempt >= 30) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

int Serve(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--listen", "--janus", "--janus-admin-key-file", "--secret-file",
                           "--web-dir", "--demo-consultation"});
  const auto [host, port] = veil::server::ParseHostPort(cli.Require("--listen"));
  const std::string master =
      veil::server::ReadSecretFile(cli.Require("--secret-file"), kMinMasterSecretBytes);
  const std::string admin_key =
      veil::server::ReadSecretFile(cli.Require("--janus-admin-key-file"), kMinAdminKeyBytes);
  const std::string web_dir = cli.Require("--web-dir");
  const std::optional<std::string> demo = cli.Get("--demo-consultation");
  if (demo && !veil::server::IsValidConsultationId(*demo)) {
    throw std::invalid_argument("--demo-consultation must be 1-64 chars of [A-Za-z0-9_-]");
  }
  const veil::server::DerivedKeys keys = veil::server::DeriveKeys(master);
  const veil::server::TokenSigner signer(keys.token_signing);

  // Signals are handled by one thread with sigwait, so no handler runs inside library code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  veil::server::JanusVideoRoom sfu(cli.Require("--janus"), admin_key, keys.janus_rooms);
  veil::server::ApiServer api(sfu, signer, web_dir);
  if (!api.Bind(host, port)) {
    std::cerr << "veil-server: cannot listen on " << host << ":" << port << "\n";
    return 1;
  }
  if (demo) {
    CreateDemoRoom(sfu, *demo);
    const std::string shown_host = host == "0.0.0.0" ? "127.0.0.1" : host;
    const std::string token =
        signer.Mint(*demo, veil::server::Role::kViewer, veil::server::kMaxTokenTtlSeconds,
                    veil::server::UnixNow());
    std::cout << "viewer-url: http://" << shown_host << ":" << port << "/view/" << *demo
              << "#token=" << token << std::endl;
  }
  std::cerr << "veil-server: listening on " << host << ":" << port << "\n";

  std::thread signal_watcher([&api, stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    std::cerr << "veil-server: stopping\n";
    api.Stop();
  });
  api.Serve();
  // Serve() also returns if the listener fails; make sure the watcher can finish either way.
  pthread_kill(signal_watcher.native_handle(), SIGTERM);
  signal_watcher.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "mint-token") {
      return MintToken(std::vector<std::string>(args.begin() + 1, args.end()));
    }
    if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
      std::cout << kUsage;
      return 0;
    }
    return Serve(args);
  } catch (const std::invalid_argument& error) {
    std::cerr << "veil-server: " << error.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "veil-server: " << error.what() << "\n";
    return 1;
  }
}
