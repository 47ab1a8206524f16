// The table of modelreg's commands and their help text: the one source of
// `modelreg --help`, `modelreg COMMAND --help`, the completion scripts and
// the man page (docs/cli.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common.h"

namespace modelreg::cli {

struct Command {
  const char* name;
  CommandFn fn;
  const char* synopsis;
  const char* help;             // what it does, its options, an example
  bool global_options() const;  // serve and admin take none of them
};

const std::vector<Command>& Commands();
const Command* FindCommand(const std::string& name);
std::vector<std::string> CommandNames();

// Global options: what they are and which take a value.
struct GlobalOption {
  const char* flag;
  const char* value;  // nullptr for a flag without one
  const char* help;
};
const std::vector<GlobalOption>& GlobalOptionList();

void PrintGlobalOptions(std::ostream& o);
// Notes shared by --help and the man page: version names, exit status.
void PrintVersionNames(std::ostream& o);
void PrintUsage(std::ostream& o);
void PrintCommandHelp(std::ostream& o, const Command& c);

// The flags a command's synopsis names ("--to", "-o"), in order, once each.
std::vector<std::string> SynopsisFlags(const Command& c);
// Its subcommands: the words after "|" alternatives that start the synopsis
// with "NAME WORD" ("token create", "token list" -> create, list).
std::vector<std::string> Subcommands(const Command& c);

int CmdLogin(const std::vector<std::string>& argv);
int CmdWebhook(const std::vector<std::string>& argv);
int CmdRollout(const std::vector<std::string>& argv);
int CmdDrift(const std::vector<std::string>& argv);
int CmdEvents(const std::vector<std::string>& argv);
int CmdContext(const std::vector<std::string>& argv);
int CmdCompletion(const std::vector<std::string>& argv);

// The man page (roff) of modelreg, from the same text as --help.
std::string ManPage();

}  // namespace modelreg::cli
