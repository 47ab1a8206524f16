// Fixed loopback ports for tests that must restart a server on the same
// address. Ports come from below the kernel's ephemeral range (32768+), so
// no outgoing connection or bind(0) elsewhere can take them while a server
// is down; each use gets its own band, and the search starts at a point
// spread by the pid, so tests running in parallel rarely pick the same one.
// A port found free is closed again until the test binds it: another
// process may take it in between. Where nothing restarts on the address,
// bind port 0 and ask which port it got instead.
#pragma once

#include <string>

namespace modelreg::testing {

enum class PortBand { kAgentRegistry = 0, kProxyRegistry = 1, kProxyListen = 2, kCrashRegistry = 3 };

// A port in [10000 + 5000 * band, +5000) that is free to bind right now.
int FixedLoopbackPort(PortBand band);

// The port of a URL such as http://127.0.0.1:PORT.
int PortOf(const std::string& url);

// A plain TCP connection to 127.0.0.1:port, for writing raw requests (the
// test fails if it cannot connect).
int ConnectLoopback(int port);

}  // namespace modelreg::testing
