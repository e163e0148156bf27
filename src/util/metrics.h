// Prometheus text exposition format (version 0.0.4), for node_exporter's
// textfile collector: a file of
//   # HELP retention_deleted_records Records deleted by the last run.
//   # TYPE retention_deleted_records gauge
//   retention_deleted_records{category="sessions",target="sessions"} 1200
// written to PATH.tmp-PID, fsynced and renamed over PATH, so the collector
// never reads half a file.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace retention {

class MetricsFile {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Declares a gauge; samples of it follow with Add. Declaring a name twice
  // is a bug (the format allows one HELP/TYPE block per name).
  void Gauge(const std::string& name, const std::string& help);
  void Add(const std::string& name, const Labels& labels, double value);
  void Add(const std::string& name, double value) { Add(name, {}, value); }

  std::string Text() const;

  // Writes Text() atomically (tmp + fsync + rename + fsync of the directory).
  Status WriteAtomically(const std::filesystem::path& path) const;

 private:
  struct Family {
    std::string name, help;
    std::vector<std::string> samples;
  };
  std::vector<Family> families_;
};

// Label value escaping of the format: \\, \" and \n.
std::string EscapeLabelValue(const std::string& value);

// A sample value as the format writes it: integers without a fraction,
// others with full precision, NaN / +Inf / -Inf spelled as the format does.
std::string FormatSampleValue(double value);

// The value of an unlabelled sample `name` in an existing metrics file, if
// any (to carry retention_last_success_timestamp_seconds over a failed run).
std::optional<double> ReadMetricSample(const std::filesystem::path& path, const std::string& name);

}  // namespace retention
