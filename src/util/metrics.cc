#include "util/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace retention {

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) {
    std::ostringstream s;
    s << static_cast<long long>(value);
    return s.str();
  }
  // The shortest text that reads back as the same double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

void MetricsFile::Gauge(const std::string& name, const std::string& help) {
  families_.push_back({name, help, {}});
}

void MetricsFile::Add(const std::string& name, const Labels& labels, double value) {
  for (Family& f : families_) {
    if (f.name != name) continue;
    std::string line = name;
    if (!labels.empty()) {
      line += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) line += ",";
        line += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
      }
      line += "}";
    }
    line += " " + FormatSampleValue(value);
    f.samples.push_back(std::move(line));
    return;
  }
}

std::string MetricsFile::Text() const {
  std::string out;
  for (const Family& f : families_) {
    // HELP text escaping: backslash and newline.
    std::string help;
    for (char c : f.help) help += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
    out += "# HELP " + f.name + " " + help + "\n";
    out += "# TYPE " + f.name + " gauge\n";
    for (const auto& s : f.samples) out += s + "\n";
  }
  return out;
}

Status MetricsFile::WriteAtomically(const std::filesystem::path& path) const {
  const std::string text = Text();
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp = dir / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
  auto fail = [&](const std::string& what) {
    const std::string m = what + " " + tmp.string() + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::IoError("metrics: " + m);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::IoError("metrics: cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  // The textfile collector reads the file as the world does: 0644 whatever
  // the umask.
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) {
    ::close(fd);
    return fail("cannot sync");
  }
  if (::close(fd) != 0) return fail("cannot close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename over " + path.string() + " from");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::optional<double> ReadMetricSample(const std::filesystem::path& path, const std::string& name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) != 0) continue;
    try {
      return std::stod(line.substr(name.size() + 1));
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace retention
