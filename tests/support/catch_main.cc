// Catch2 main. SIGPIPE is ignored: a server may close a connection while a
// test still writes a request body (e.g. after answering 413).
#define CATCH_CONFIG_RUNNER
#include <signal.h>

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
