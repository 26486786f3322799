#include <gst/gst.h>

#include <exception>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "credential_arguments.h"
#include "log.h"
#include "options.h"
#include "patient_app.h"
#include "refresh_policy.h"

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const std::vector<std::string> args(argv + 1, argv + argc);
  veil::client::ParseResult parsed = veil::client::parseOptions(args);
  if (veil::client::hideCredentialArguments(std::span<char*>(argv, argc)) > 0) {
    std::cerr << "veil-patient: a credential on the command line is readable by other local "
                 "users until now; prefer --invite-file or --token-file\n";
  }
  if (!parsed.options) {
    const bool help = parsed.error == "help";
    if (!help) std::cerr << "veil-patient: " << parsed.error << "\n";
    std::cerr << veil::client::usage();
    return help ? veil::client::kExitNormal : veil::client::kExitUsage;
  }
  try {
    veil::client::PatientApp app(std::move(*parsed.options));
    return app.run();
  } catch (const std::exception& error) {
    veil::client::logLine(std::string("fatal: ") + error.what());
    return veil::client::kExitError;
  }
}
