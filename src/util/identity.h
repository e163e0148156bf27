// Who runs retention and where: recorded as the author of holds and the
// user and host of each run in the ledger.
#pragma once

#include <string>

namespace retention {

// The person behind the command: $SUDO_USER when run through sudo, else
// the effective user's name (or numeric id).
std::string InvokingUser();

std::string HostName();

}  // namespace retention
