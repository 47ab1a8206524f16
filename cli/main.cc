// modelreg: the registry server and every client and admin command. The
// commands and their help are in commands.cc; this file finds the command,
// with the global options given before or after it (docs/cli.md).
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/build_info.h"
#include "core/command_line.h"

namespace {

using namespace modelreg;
using namespace modelreg::cli;

int UsageHint(const std::string& message, const std::string& hint) {
  if (JsonErrors()) return FailUsage("", message, hint);
  std::cerr << "modelreg: " << TerminalSafe(message) << "\n" << hint << "\n";
  return kExitUsage;
}

// Moves the global options in front of the command (`modelreg --json
// models`) to its arguments, where each command parses them with its own.
// Returns the index of the command in `args`, or a usage error.
Result<size_t> TakeLeadingGlobals(const std::vector<std::string>& args, std::vector<std::string>* globals) {
  std::vector<std::string> known;
  for (const auto& g : GlobalOptionList()) known.push_back(g.flag);
  size_t i = 0;
  while (i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--") {
    const std::string& a = args[i];
    const std::string name = a.substr(0, a.find('='));
    const GlobalOption* g = nullptr;
    for (const auto& o : GlobalOptionList())
      if (name == o.flag) g = &o;
    if (!g) {
      known.insert(known.end(), {"--help", "--version"});
      return Status::InvalidArgument("unknown option " + name + DidYouMean(name, known));
    }
    globals->push_back(a);
    if (g->value && name == a) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(name + " needs a value");
      globals->push_back(args[++i]);
    }
    ++i;
  }
  return i;
}

int RunCommand(const Command& c, const std::vector<std::string>& argv) {
  try {
    return c.fn(argv);
  } catch (const UsageError& e) {
    return FailUsage(c.name, e.what(), "Run 'modelreg " + std::string(c.name) + " --help' for its usage and options.");
  } catch (const std::exception& e) {
    std::cerr << "modelreg: unexpected error: " << TerminalSafe(e.what()) << "\n";
    return kExitFailure;
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);           // a peer closing mid-upload is an error value, not a crash
  signal(SIGXFSZ, SIG_IGN);           // a file-size limit is an EFBIG error value too
  SetJsonErrorsFromArgv(argc, argv);  // --json anywhere: errors are JSON on stderr too
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    PrintUsage(std::cout);
    return kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << BuildInfoLine("modelreg") << "\n";
    return kExitOk;
  }
  std::vector<std::string> globals;
  auto at = TakeLeadingGlobals(args, &globals);
  if (!at.ok()) return UsageHint(at.status().message(), "Run 'modelreg --help' for the commands and global options.");
  if (*at >= args.size()) return UsageHint("missing command", "Run 'modelreg --help' for the commands.");
  std::string name = args[*at];
  std::vector<std::string> rest(args.begin() + *at + 1, args.end());
  if (name == "help") {  // modelreg help [COMMAND | --man]
    if (rest.empty()) {
      PrintUsage(std::cout);
      return kExitOk;
    }
    if (rest[0] == "--man") {
      std::cout << ManPage();
      return kExitOk;
    }
    name = rest[0];
    rest = {"--help"};
  }
  const Command* c = FindCommand(name);
  if (!c)
    return UsageHint("unknown command '" + name + "'" + DidYouMean(name, CommandNames()),
                     "Run 'modelreg --help' for the commands.");
  for (const auto& a : rest) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      PrintCommandHelp(std::cout, *c);
      return kExitOk;
    }
  }
  rest.insert(rest.begin(), globals.begin(), globals.end());
  return RunCommand(*c, rest);
}
