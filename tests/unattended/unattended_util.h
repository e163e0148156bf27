// Helpers for the tests of running unattended: start the built binary in
// the background with extra environment (JOURNAL_STREAM), signal it, wait
// for it; and a strict parser of the Prometheus text exposition format.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "e2e/e2e_util.h"

namespace retention::unattended {

namespace fs = std::filesystem;

// A child running the binary; stdout/stderr go to files in `dir`.
struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

inline Child Spawn(const std::vector<std::string>& args, const fs::path& dir,
                   const std::map<std::string, std::string>& env = {}) {
  Child c;
  c.out = dir / "child.stdout";
  c.err = dir / "child.stderr";
  // Created before the fork so a caller can stat the stderr file first
  // (JOURNAL_STREAM names its device and inode).
  e2e::WriteFile(c.out, "");
  if (!fs::exists(c.err)) e2e::WriteFile(c.err, "");
  std::vector<std::string> store{e2e::kBinary};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : store) argv.push_back(a.data());
  argv.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid < 0) throw std::runtime_error("fork failed");
  if (c.pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(c.out.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(c.err.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("RETENTION_CONFIG");
    ::unsetenv("JOURNAL_STREAM");
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execv(e2e::kBinary, argv.data());
    ::_exit(127);
  }
  return c;
}

// The exit code (128+N when killed by signal N).
inline int Wait(const Child& c) {
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// "DEV:INO" of a file, as systemd puts it in $JOURNAL_STREAM.
inline std::string DevIno(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) throw std::runtime_error("stat failed: " + p.string());
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

// --- Prometheus text format (0.0.4), parsed strictly -----------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> type;  // family -> gauge, counter, ...
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;

  // The value of the one sample of `name` with exactly `labels`; throws if
  // there is none.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    throw std::runtime_error("no sample " + name);
  }
  bool Has(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return true;
    return false;
  }
  std::vector<Sample> All(const std::string& name) const {
    std::vector<Sample> out;
    for (const auto& s : samples)
      if (s.name == name) out.push_back(s);
    return out;
  }
};

// Throws std::runtime_error("line N: ...") on anything the format does not
// allow: bad names, bad escapes, a TYPE after its samples or twice, the
// samples of one family not together, a duplicate series, a bad value, a
// missing final newline.
inline Exposition ParseExposition(const std::string& text) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
  static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary", "untyped"};
  Exposition e;
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("the last line has no newline");
  std::set<std::string> families_seen, families_closed, series;
  std::string current_family;
  size_t line_no = 0, pos = 0;
  auto fail = [&](const std::string& m) { throw std::runtime_error("line " + std::to_string(line_no) + ": " + m); };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::smatch m;
      static const std::regex kMeta(R"(^# (HELP|TYPE) (\S+) ?(.*)$)");
      if (!std::regex_match(line, m, kMeta)) continue;  // a plain comment
      const std::string name = m[2], rest = m[3];
      if (!std::regex_match(name, kName)) fail("bad metric name '" + name + "'");
      if (m[1] == "TYPE") {
        if (!kTypes.count(rest)) fail("unknown type '" + rest + "'");
        if (e.type.count(name)) fail("second TYPE for " + name);
        if (families_seen.count(name)) fail("TYPE of " + name + " after its samples");
        e.type[name] = rest;
      } else {
        if (e.help.count(name)) fail("second HELP for " + name);
        for (size_t i = 0; i < rest.size(); ++i)
          if (rest[i] == '\\' && (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n')))
            fail("bad escape in HELP");
          else if (rest[i] == '\\') ++i;
        e.help[name] = rest;
      }
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) fail("bad metric name '" + s.name + "'");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) fail("label without '='");
        const std::string lname = line.substr(i, eq - i);
        if (!std::regex_match(lname, kLabelName)) fail("bad label name '" + lname + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') fail("label value not quoted");
        ++i;
        std::string value;
        while (true) {
          if (i >= line.size()) fail("unterminated label value");
          char c = line[i++];
          if (c == '"') break;
          if (c == '\\') {
            if (i >= line.size()) fail("bad escape");
            char n = line[i++];
            if (n == '\\') value += '\\';
            else if (n == '"') value += '"';
            else if (n == 'n') value += '\n';
            else fail("bad escape '\\" + std::string(1, n) + "'");
          } else {
            value += c;
          }
        }
        if (s.labels.count(lname)) fail("label " + lname + " twice");
        s.labels[lname] = value;
        if (i < line.size() && line[i] == ',') ++i;
        else if (i >= line.size() || line[i] != '}') fail("expected ',' or '}' after a label");
      }
    }
    if (i >= line.size() || line[i] != ' ') fail("no value");
    std::string rest = line.substr(i + 1);
    std::string value_text = rest, ts;
    if (size_t sp = rest.find(' '); sp != std::string::npos) {
      value_text = rest.substr(0, sp);
      ts = rest.substr(sp + 1);
      if (!std::regex_match(ts, std::regex("-?[0-9]+"))) fail("bad timestamp '" + ts + "'");
    }
    if (value_text == "NaN") s.value = NAN;
    else if (value_text == "+Inf") s.value = INFINITY;
    else if (value_text == "-Inf") s.value = -INFINITY;
    else {
      static const std::regex kFloat(R"(^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$)");
      if (!std::regex_match(value_text, kFloat)) fail("bad value '" + value_text + "'");
      s.value = std::stod(value_text);
    }
    // One family's samples are together.
    if (s.name != current_family) {
      if (families_closed.count(s.name)) fail("samples of " + s.name + " are not together");
      if (!current_family.empty()) families_closed.insert(current_family);
      current_family = s.name;
    }
    families_seen.insert(s.name);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x1f" + k + "=" + v;
    if (!series.insert(key).second) fail("duplicate series " + s.name);
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace retention::unattended
