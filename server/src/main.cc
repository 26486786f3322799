// veil-server: clinician app, consultations, invites and the signalling relay to the SFU.
#include <pthread.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_server.h"
#include "auth_service.h"
#include "cli_args.h"
#include "consultation_service.h"
#include "janus_video_room.h"
#include "metrics.h"
#include "secrets.h"
#include "store.h"
#include "tls.h"
#include "token.h"

namespace {

using veil::server::CliArgs;

constexpr std::size_t kMinMasterSecretBytes = 32;
constexpr std::size_t kMinAdminKeyBytes = 16;
constexpr const char* kDerivedKid = "m1";

constexpr const char* kUsage =
    "usage:\n"
    "  veil-server [--listen ADDR:PORT] [--listen-tls ADDR:PORT (--tls-cert F --tls-key F |\n"
    "              --tls-self-signed-dir DIR)] --janus URL --janus-admin-key-file FILE\n"
    "              --secret-file FILE --web-dir DIR [--db FILE] [--public-origin URL]\n"
    "              [--token-key-dir DIR] [--auth local|proxy --proxy-listen ADDR:PORT]\n"
    "              [--turn-secret-file FILE --turn-url URL[,URL]] [--retention-days N]\n"
    "              [--demo-consultation ID[,ID]]\n"
    "              test hooks: [--refresh-retry-grace-seconds N] [--token-ttl-seconds 10..900]\n"
    "              [--idle-end-seconds 5..1800] [--max-duration-seconds 30..14400]\n"
    "  veil-server add-clinician --db FILE --username NAME [--admin]   (password on stdin)\n"
    "  veil-server audit-export --db FILE\n"
    "  veil-server mint-token --secret-file FILE --consultation ID --role patient|clinician\n"
    "              [--ttl SECONDS] [--token-key-dir DIR]   (demo consultation only)\n";

// Token signing keys: `<kid>.key` files in --token-key-dir (the greatest kid signs, every one
// verifies), or one key derived from the master secret.
veil::server::TokenSigner LoadSigner(const CliArgs& cli, const std::string& master) {
  std::map<std::string, std::string> keys;
  if (const auto dir = cli.Get("--token-key-dir")) {
    for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
      if (entry.path().extension() != ".key") continue;
      keys[entry.path().stem().string()] =
          veil::server::ReadSecretFile(entry.path().string(), kMinMasterSecretBytes);
    }
    if (keys.empty()) throw std::runtime_error("no <kid>.key files in " + *dir);
  } else {
    keys[kDerivedKid] = veil::server::DeriveKeys(master).token_signing;
  }
  const std::string signing_kid = keys.rbegin()->first;
  return veil::server::TokenSigner(std::move(keys), signing_kid);
}

int MintToken(const std::vector<std::string>& args) {
  const CliArgs cli(args,
                    {"--secret-file", "--consultation", "--role", "--ttl", "--token-key-dir"});
  const std::string master =
      veil::server::ReadSecretFile(cli.Require("--secret-file"), kMinMasterSecretBytes);
  const std::string role_name = cli.Require("--role");
  // "viewer" is the issue-4 name of the clinician's role.
  const auto role = veil::server::ParseRole(role_name == "viewer" ? "clinician" : role_name);
  if (!role) throw std::invalid_argument("--role must be patient or clinician");
  const std::string ttl_text = cli.Get("--ttl").value_or("900");
  if (ttl_text.empty() || ttl_text.size() > 6 ||
      ttl_text.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("--ttl must be a number of seconds");
  }
  const veil::server::TokenSigner signer = LoadSigner(cli, master);
  std::cout << signer.Mint({std::string(veil::server::kDemoIssuer), cli.Require("--consultation"),
                            "demo", *role, std::stoll(ttl_text)},
                           veil::server::UnixNow())
            << "\n";
  return 0;
}

int AddClinician(std::vector<std::string> args) {
  bool admin = false;
  std::erase_if(args, [&admin](const std::string& arg) {
    if (arg != "--admin") return false;
    admin = true;
    return true;
  });
  const CliArgs cli(args, {"--db", "--username"});
  std::string password;
  std::getline(std::cin, password);
  veil::server::Store store(cli.Require("--db"));
  const std::int64_t id =
      veil::server::AuthService::AddAccount(store, cli.Require("--username"), password, admin);
  std::cout << "account " << id << " created\n";
  return 0;
}

int AuditExport(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--db"});
  veil::server::Store store(cli.Require("--db"));
  for (const std::string& line : store.AuditLines()) std::cout << line << "\n";
  if (!store.AuditChainIntact()) {
    std::cerr << "veil-server: the audit chain is broken (a row was edited or deleted)\n";
    return 3;
  }
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

bool IsLoopback(const std::string& host) {
  return host.starts_with("127.") || host == "::1" || host == "[::1]";
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

int Serve(const std::vector<std::string>& args) {
  const CliArgs cli(args, {"--listen",
                           "--listen-tls",
                           "--tls-cert",
                           "--tls-key",
                           "--tls-self-signed-dir",
                           "--proxy-listen",
                           "--auth",
                           "--public-origin",
                           "--db",
                           "--janus",
                           "--janus-admin-key-file",
                           "--secret-file",
                           "--token-key-dir",
                           "--web-dir",
                           "--demo-consultation",
                           "--turn-secret-file",
                           "--turn-url",
                           "--refresh-retry-grace-seconds",
                           "--retention-days",
                           "--token-ttl-seconds",
                           "--idle-end-seconds",
                           "--max-duration-seconds"});
  const auto plain = cli.Get("--listen");
  const auto secure = cli.Get("--listen-tls");
  if (!plain && !secure) throw std::invalid_argument("--listen or --listen-tls is required");
  const std::string master =
      veil::server::ReadSecretFile(cli.Require("--secret-file"), kMinMasterSecretBytes);
  const std::string admin_key =
      veil::server::ReadSecretFile(cli.Require("--janus-admin-key-file"), kMinAdminKeyBytes);
  const std::string web_dir = cli.Require("--web-dir");

  veil::server::ServerConfig config;
  const std::vector<std::string> demos = SplitComma(cli.Get("--demo-consultation").value_or(""));
  for (const std::string& demo : demos) {
    if (!veil::server::IsValidConsultationId(demo)) {
      throw std::invalid_argument("--demo-consultation must be 1-64 chars of [A-Za-z0-9_-]");
    }
  }
  config.demo_consultations = std::set<std::string>(demos.begin(), demos.end());
  const std::string auth = cli.Get("--auth").value_or("local");
  if (auth != "local" && auth != "proxy") throw std::invalid_argument("--auth must be local|proxy");
  config.auth_mode =
      auth == "proxy" ? veil::server::AuthMode::kProxy : veil::server::AuthMode::kLocal;
  // Test hooks (server/README.md): they only shorten what security-design §4/§5 fix, so tests can
  // show refresh, retry, idle end and maximum duration without waiting for the real times.
  config.refresh_retry_grace_seconds = veil::server::BoundedSeconds(
      cli, "--refresh-retry-grace-seconds", 0, 999, config.refresh_retry_grace_seconds);
  config.token_ttl_seconds =
      veil::server::BoundedSeconds(cli, "--token-ttl-seconds", 10, 900, config.token_ttl_seconds);
  config.idle_end_seconds =
      veil::server::BoundedSeconds(cli, "--idle-end-seconds", 5, 1800, config.idle_end_seconds);
  config.max_consultation_seconds = veil::server::BoundedSeconds(
      cli, "--max-duration-seconds", 30, 4 * 3600, config.max_consultation_seconds);
  if (const auto days = cli.Get("--retention-days")) {
    if (days->empty() || days->size() > 5 || days->find_first_not_of("0123456789") != days->npos ||
        std::stoll(*days) < 1) {
      throw std::invalid_argument("--retention-days must be a positive number of days");
    }
    config.retention_days = std::stoll(*days);
  }
  if (const auto turn_secret = cli.Get("--turn-secret-file")) {
    config.turn_secret = veil::server::ReadSecretFile(*turn_secret, 16);
    config.turn_urls = SplitComma(cli.Require("--turn-url"));
  }

  std::optional<veil::server::TlsFiles> tls;
  std::pair<std::string, int> secure_address;
  if (secure) {
    secure_address = veil::server::ParseHostPort(*secure);
    if (cli.Get("--tls-cert")) {
      tls = veil::server::TlsFiles{cli.Require("--tls-cert"), cli.Require("--tls-key")};
    } else {
      const std::string& host = secure_address.first;
      std::vector<std::string> hosts = {"localhost", "127.0.0.1"};
      if (host != "0.0.0.0" && host != "127.0.0.1") hosts.push_back(host);
      tls = veil::server::EnsureSelfSignedCertificate(cli.Require("--tls-self-signed-dir"), hosts);
    }
  }
  const auto shown = [](const std::pair<std::string, int>& address) {
    return (address.first == "0.0.0.0" ? std::string("127.0.0.1") : address.first) + ":" +
           std::to_string(address.second);
  };
  config.public_origin =
      cli.Get("--public-origin")
          .value_or(secure ? "https://" + shown(secure_address)
                           : "http://" + shown(veil::server::ParseHostPort(*plain)));

  const std::string db_path = cli.Get("--db").value_or(":memory:");
  if (db_path == ":memory:") {
    std::cerr << "veil-server: no --db given: state lives in memory and is lost at exit\n";
  }
  veil::server::Store store(db_path);
  const veil::server::TokenSigner signer = LoadSigner(cli, master);
  const veil::server::DerivedKeys keys = veil::server::DeriveKeys(master);

  // Signals are handled by one thread with sigwait, so no handler runs inside library code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  veil::server::Metrics metrics;
  veil::server::JanusVideoRoom sfu(cli.Require("--janus"), admin_key, keys.janus_rooms);
  veil::server::AuthService auth_service(store, config, metrics);
  veil::server::ConsultationService consultations(store, sfu, signer, config, metrics);
  const veil::server::ApiServices services{auth_service, consultations, metrics, config, store};

  std::vector<std::unique_ptr<veil::server::ApiServer>> servers;
  const auto add = [&](veil::server::ListenerKind kind, const std::pair<std::string, int>& address,
                       const std::optional<veil::server::TlsFiles>& listener_tls) {
    auto server = std::make_unique<veil::server::ApiServer>(services, kind, web_dir, listener_tls);
    if (!server->Bind(address.first, address.second)) {
      throw std::runtime_error("cannot listen on " + address.first + ":" +
                               std::to_string(address.second));
    }
    std::cerr << "veil-server: listening on " << address.first << ":" << address.second
              << (listener_tls ? " (TLS)" : "")
              << (kind == veil::server::ListenerKind::kTrustedProxy ? " (trusted proxy)" : "")
              << "\n";
    servers.push_back(std::move(server));
  };
  if (plain) add(veil::server::ListenerKind::kPublic, veil::server::ParseHostPort(*plain), {});
  if (secure) add(veil::server::ListenerKind::kPublic, secure_address, tls);
  if (const auto proxy = cli.Get("--proxy-listen")) {
    if (config.auth_mode != veil::server::AuthMode::kProxy) {
      throw std::invalid_argument("--proxy-listen needs --auth proxy");
    }
    const auto address = veil::server::ParseHostPort(*proxy);
    // Identity headers are trusted only where nothing but the proxy can connect.
    if (!IsLoopback(address.first)) {
      throw std::invalid_argument("--proxy-listen must be a loopback address");
    }
    add(veil::server::ListenerKind::kTrustedProxy, address, {});
  }

  consultations.EnsureDemoConsultations();
  for (const std::string& demo : demos) {
    CreateDemoRoom(sfu, demo);
    const std::string token =
        signer.Mint({std::string(veil::server::kDemoIssuer), demo, "demo",
                     veil::server::Role::kClinician, veil::server::kMaxTokenTtlSeconds},
                    veil::server::UnixNow());
    const std::string base =
        plain ? "http://" + shown(veil::server::ParseHostPort(*plain)) : config.public_origin;
    std::cout << "viewer-url: " << base << "/view/" << demo << "#token=" << token << std::endl;
  }

  std::vector<std::thread> serving;
  for (auto& server : servers) serving.emplace_back([&server] { server->Serve(); });
  std::thread signal_watcher([&servers, stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    if (received == SIGTERM || received == SIGINT) std::cerr << "veil-server: stopping\n";
    for (auto& server : servers) server->Stop();
  });
  for (std::thread& thread : serving) thread.join();
  // Serving also ends if a listener fails; make sure the watcher can finish either way.
  pthread_kill(signal_watcher.native_handle(), SIGTERM);
  signal_watcher.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const std::vector<std::string> rest =
        args.empty() ? args : std::vector<std::string>(args.begin() + 1, args.end());
    if (!args.empty() && args[0] == "mint-token") return MintToken(rest);
    if (!args.empty() && args[0] == "add-clinician") return AddClinician(rest);
    if (!args.empty() && args[0] == "audit-export") return AuditExport(rest);
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
