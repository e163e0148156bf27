#include <signal.h>

#include <iostream>

#include <spdlog/spdlog.h>

#include "calendar/moment.h"
#include "cli/command.h"
#include "rules/rule_loader.h"

namespace retention {

void AddCommonOptions(po::options_description* desc) {
  desc->add_options()
      ("config,c", po::value<std::string>()->value_name("PATH"),
       "config file (default: $RETENTION_CONFIG, else /etc/retention/retention.toml)")
      ("log-level", po::value<std::string>()->value_name("LEVEL"),
       "trace, debug, info, warn, error or off (default: info)")
      ("quiet,q", po::bool_switch(), "only warnings and errors in the log")
      ("help,h", po::bool_switch(), "show this help");
}

Result<std::optional<po::variables_map>> ParseCommandLine(const CommandArgs& a, const po::options_description& desc,
                                                          const po::positional_options_description* positional,
                                                          const std::string& usage) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(a.args);
    parser.options(desc).style(po::command_line_style::default_style ^ po::command_line_style::allow_guessing);
    if (positional) parser.positional(*positional);
    else parser.positional(po::positional_options_description());
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::Usage(std::string(e.what()) + " (try 'retention " + a.name + " --help')");
  }
  if (vm.count("help") && vm["help"].as<bool>()) {
    *a.out << "Usage: " << usage << "\n\n" << desc << "\n";
    return std::optional<po::variables_map>();
  }
  return std::optional<po::variables_map>(std::move(vm));
}

Status ApplyLogOptions(const po::variables_map& vm) {
  if (vm.count("quiet") && vm["quiet"].as<bool>()) spdlog::set_level(spdlog::level::warn);
  if (vm.count("log-level")) {
    const std::string name = vm["log-level"].as<std::string>();
    auto level = spdlog::level::from_str(name);
    if (level == spdlog::level::off && name != "off")
      return Status::Usage("--log-level: unknown level '" + name + "' (trace, debug, info, warn, error, off)");
    spdlog::set_level(level);
  }
  return Status::Ok();
}

Result<Config> LoadConfigOnly(const po::variables_map& vm) {
  RETENTION_RETURN_IF_ERROR(ApplyLogOptions(vm));
  const std::string arg = vm.count("config") ? vm["config"].as<std::string>() : "";
  return LoadConfig(ResolveConfigPath(arg));
}

Result<Loaded> LoadConfigAndRules(const po::variables_map& vm) {
  auto config = LoadConfigOnly(vm);
  if (!config.ok()) return config.status();
  auto rules = LoadRules(*config);
  if (!rules.ok()) return rules.status();
  return Loaded{std::move(*config), std::move(*rules)};
}

Result<Timestamp> ParseMomentArgument(const std::string& option, const std::string& text, const TimeZone& zone,
                                      TimeZone::Pick pick, Timestamp now, std::ostream& notices) {
  auto m = ParseMoment(text, zone, pick, now);
  if (!m.ok()) return Status::Usage(option + ": " + m.status().message() + " (use " + kMomentForms + ")");
  if (!m->notice.empty()) notices << "notice: " << option << ": " << m->notice << "\n";
  return m->instant;
}

Result<Timestamp> AsOfOption(const po::variables_map& vm, const TimeZone& zone, Timestamp now,
                             std::ostream& notices) {
  if (!vm.count("as-of")) return now;
  return ParseMomentArgument("--as-of", vm["as-of"].as<std::string>(), zone, TimeZone::Pick::kEarlier, now, notices);
}

Result<CalendarDuration> ParseDurationArgument(const std::string& option, const std::string& text) {
  auto d = ParseDuration(text);
  if (!d.ok()) return Status::Usage(option + ": " + d.status().message());
  return *d;
}

Result<std::string> FormatOption(const po::variables_map& vm, std::initializer_list<const char*> allowed) {
  std::string format = vm.count("format") ? vm["format"].as<std::string>() : "table";
  std::string names;
  for (const char* a : allowed) {
    if (format == a) return format;
    names += (names.empty() ? "" : ", ") + std::string(a);
  }
  return Status::Usage("--format: unknown format '" + format + "' (expected " + names + ")");
}

namespace {
std::atomic<bool> g_stop_requested{false};
extern "C" void OnStopSignal(int) { g_stop_requested.store(true); }
}  // namespace

const std::atomic<bool>* InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return &g_stop_requested;
}

}  // namespace retention
