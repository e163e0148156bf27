// Replacing a file so that readers and a crash see either the old content
// or the whole new one: write NAME.tmp in the same directory, fsync it,
// rename it over NAME, fsync the directory (so that the rename itself
// survives a power cut). The tmp file is removed when anything fails, or
// when the writer is dropped before Commit.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>

#include "util/status.h"

namespace retention {

class AtomicFile {
 public:
  // Opens FILE.tmp for writing (truncated). IoError when it cannot.
  static Result<std::unique_ptr<AtomicFile>> Create(const std::filesystem::path& file);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& out() { return out_; }
  const std::filesystem::path& tmp_path() const { return tmp_; }

  // Flushes, fsyncs and renames into place, then fsyncs the directory.
  // Once: the writer is done after it, whatever it returns.
  Status Commit();

 private:
  AtomicFile(std::filesystem::path file, std::filesystem::path tmp);
  std::filesystem::path file_;
  std::filesystem::path tmp_;
  std::ofstream out_;
  bool done_ = false;
};

// `content` as the whole of `file`, atomically as above.
Status WriteFileAtomically(const std::filesystem::path& file, std::string_view content);

}  // namespace retention
