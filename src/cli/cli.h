// Turns argv into a command and the command's Status into an exit code.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace retention {

// Runs the command line (argv without the program name); returns the exit
// code of SPEC section 5. Errors are printed to `err` as one line.
int RunCommandLine(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace retention
