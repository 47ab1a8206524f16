// `modelreg completion bash|zsh|fish` and `modelreg help --man`: both made
// from the command table's synopses and help (commands.h), so they name
// exactly the commands, subcommands and flags --help does.
#include <algorithm>
#include <sstream>

#include "commands.h"
#include "core/build_info.h"
#include "core/man_page.h"

namespace modelreg::cli {

namespace {

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> GlobalFlags(bool with_value) {
  std::vector<std::string> out;
  for (const auto& g : GlobalOptionList())
    if ((g.value != nullptr) == with_value || !with_value) out.push_back(g.flag);
  return out;
}

// What completes after COMMAND: its flags (and the global ones).
std::vector<std::string> FlagsOf(const Command& c) {
  auto flags = SynopsisFlags(c);
  if (c.global_options())
    for (const auto& g : GlobalFlags(false))
      if (std::find(flags.begin(), flags.end(), g) == flags.end()) flags.push_back(g);
  flags.push_back("--help");
  return flags;
}

// The help's first sentence, for the shells that show one, quoted for a
// single-quoted word of zsh (colons, _describe's separator, escaped) or fish.
std::string Summary(const Command& c, bool zsh) {
  std::string s = c.help;
  s = s.substr(0, s.find('\n'));
  if (auto dot = s.find(". "); dot != std::string::npos) s = s.substr(0, dot + 1);
  if (s.size() > 70) s = s.substr(0, 67) + "...";
  std::string out;
  for (char ch : s) {
    if (ch == '\'') out += zsh ? "'\\''" : "\\'";
    else if (ch == '\\') out += zsh ? "\\" : "\\\\";
    else if (ch == ':' && zsh) out += "\\:";
    else out += ch;
  }
  return out;
}

std::string Bash() {
  std::string values = Join(GlobalFlags(true));
  std::replace(values.begin(), values.end(), ' ', '|');
  std::ostringstream o;
  o << "# bash completion for modelreg (modelreg completion bash)\n"
       "_modelreg() {\n"
       "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" cmd=\"\" sub=\"\" i\n"
       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
       "    case \"${COMP_WORDS[i]}\" in\n"
       "      "
    << values
    << ") ((i++)) ;;\n"
       "      -*) ;;\n"
       "      *) if [[ -z \"$cmd\" ]]; then cmd=\"${COMP_WORDS[i]}\"; elif [[ -z \"$sub\" ]]; then "
       "sub=\"${COMP_WORDS[i]}\"; fi ;;\n"
       "    esac\n"
       "  done\n"
       "  case \"$prev\" in\n"
       "    "
    << values
    << ") return 0 ;;\n"
       "  esac\n"
       "  local words=\"\" subs=\"\"\n"
       "  case \"$cmd\" in\n"
       "    \"\") words=\""
    << Join(CommandNames())
    << " help\"\n"
       "        [[ \"$cur\" == -* ]] && words=\""
    << Join(GlobalFlags(false)) << " --help --version\" ;;\n";
  for (const auto& c : Commands())
    o << "    " << c.name << ") words=\"" << Join(FlagsOf(c)) << "\" subs=\"" << Join(Subcommands(c)) << "\" ;;\n";
  o << "    help) words=\"" << Join(CommandNames())
    << " --man\" ;;\n"
       "  esac\n"
       "  if [[ -n \"$cmd\" && \"$cur\" != -* ]]; then\n"
       "    if [[ -n \"$subs\" && -z \"$sub\" ]]; then words=\"$subs\"; elif [[ \"$cmd\" != help ]]; then words=\"\"; "
       "fi\n"
       "  fi\n"
       "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
       "}\n"
       "complete -o default -F _modelreg modelreg\n";
  return o.str();
}

std::string Zsh() {
  std::string values = Join(GlobalFlags(true));
  std::replace(values.begin(), values.end(), ' ', '|');
  std::ostringstream o;
  o << "#compdef modelreg\n"
       "# zsh completion for modelreg (modelreg completion zsh)\n"
       "_modelreg() {\n"
       "  local cmd=\"\" sub=\"\" i\n"
       "  for (( i = 2; i < CURRENT; i++ )); do\n"
       "    case $words[i] in\n"
       "      "
    << values
    << ") (( i++ )) ;;\n"
       "      -*) ;;\n"
       "      *) if [[ -z $cmd ]]; then cmd=$words[i]; elif [[ -z $sub ]]; then sub=$words[i]; fi ;;\n"
       "    esac\n"
       "  done\n"
       "  case $words[CURRENT-1] in\n"
       "    "
    << values
    << ") _files; return ;;\n"
       "  esac\n"
       "  if [[ -z $cmd ]]; then\n"
       "    if [[ $PREFIX == -* ]]; then compadd -- "
    << Join(GlobalFlags(false))
    << " --help --version; return; fi\n"
       "    local -a cmds\n"
       "    cmds=(\n";
  for (const auto& c : Commands()) o << "      '" << c.name << ":" << Summary(c, true) << "'\n";
  o << "      'help:Explains a command'\n"
       "    )\n"
       "    _describe command cmds\n"
       "    return\n"
       "  fi\n"
       "  local -a flags subs\n"
       "  case $cmd in\n";
  for (const auto& c : Commands())
    o << "    " << c.name << ") flags=(" << Join(FlagsOf(c)) << ") subs=(" << Join(Subcommands(c)) << ") ;;\n";
  o << "    help) subs=(" << Join(CommandNames())
    << " --man) ;;\n"
       "  esac\n"
       "  if [[ $PREFIX == -* ]]; then compadd -- $flags; return; fi\n"
       "  if (( $#subs )) && [[ -z $sub || $cmd == help ]]; then compadd -- $subs; return; fi\n"
       "  _files\n"
       "}\n"
       "compdef _modelreg modelreg\n";
  return o.str();
}

std::string Fish() {
  std::ostringstream o;
  o << "# fish completion for modelreg (modelreg completion fish | source)\n"
       "complete -c modelreg -e\n";
  for (const auto& g : GlobalOptionList())
    o << "complete -c modelreg -l " << std::string(g.flag).substr(2) << (g.value ? " -r" : "") << "\n";
  o << "complete -c modelreg -l version -n __fish_use_subcommand\n";
  for (const auto& c : Commands()) {
    o << "complete -c modelreg -f -n __fish_use_subcommand -a " << c.name << " -d '" << Summary(c, false) << "'\n";
    const std::string when = "-n '__fish_seen_subcommand_from " + std::string(c.name) + "'";
    const auto subs = Subcommands(c);
    if (!subs.empty()) o << "complete -c modelreg -f " << when << " -a '" << Join(subs) << "'\n";
    for (const auto& f : SynopsisFlags(c))
      o << "complete -c modelreg " << when << (f.rfind("--", 0) == 0 ? " -l " + f.substr(2) : " -s " + f.substr(1))
        << "\n";
  }
  o << "complete -c modelreg -f -n __fish_use_subcommand -a help -d 'Explains a command'\n";
  return o.str();
}

}  // namespace

int CmdCompletion(const std::vector<std::string>& argv) {
  Args args(argv, {}, {});
  args.ExpectPositional(1, 1);
  const std::string shell = args.Pos(0, "SHELL");
  if (shell == "bash") std::cout << Bash();
  else if (shell == "zsh") std::cout << Zsh();
  else if (shell == "fish") std::cout << Fish();
  else
    throw UsageError("no completion for '" + shell + "': bash, zsh or fish" +
                     DidYouMean(shell, {"bash", "zsh", "fish"}));
  return kExitOk;
}

std::string ManPage() {
  std::ostringstream usage, globals, notes;
  for (const auto& c : Commands()) usage << "modelreg " << c.synopsis << "\n";
  usage << "modelreg --version\nmodelreg help COMMAND | help --man\n";
  PrintGlobalOptions(globals);
  PrintVersionNames(notes);
  std::vector<std::pair<std::string, std::string>> commands;
  for (const auto& c : Commands())
    commands.push_back({std::string("modelreg ") + c.name, std::string(c.synopsis) + "\n\n" + c.help});
  std::string g = globals.str();
  g = g.substr(g.find(":\n") + 2);  // the heading is the section's title
  return RenderManPage("modelreg", "model registry and artifact lineage", GetBuildInfo().version,
                       {{"Synopsis", usage.str(), {}},
                        {"Commands", "", commands},
                        {"Global options", g, {}},
                        {"Versions and exit status", notes.str(), {}},
                        {"Files",
                         "$XDG_CONFIG_HOME/modelreg/config (else ~/.config/modelreg/config; MODELREG_CONFIG\n"
                         "names another): the contexts `modelreg login` stores, mode 0600.\n",
                         {}}});
}

}  // namespace modelreg::cli
