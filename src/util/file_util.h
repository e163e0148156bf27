// Small file helpers shared by loaders.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace retention {

// The whole file, or "" if it cannot be read (callers that must know use
// ParseTomlFile or open the file themselves).
inline std::string ReadFileBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace retention
