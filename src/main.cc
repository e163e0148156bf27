// retention: argv in, exit code out. Everything else lives in the engine.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return retention::RunCommandLine(args, std::cout, std::cerr);
}
