// Unit tests for registry/core/mapped_file.h: reads of a mapping, a file
// truncated underneath (an error, not a crash), and a SIGBUS outside any
// Read() still ending the process as before.
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>

#include "core/file_util.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST_CASE("MappedFile reads the file and reports a file truncated underneath", "[core][mapped_file]") {
  TempDir dir;
  const std::string path = dir / "f";
  std::string data(4 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  WriteFile(path, data);
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  auto m = MappedFile::Map(fd.get(), data.size(), path);
  REQUIRE(m.ok());
  std::string got;
  REQUIRE((*m)->Read(1000, 5000, [&](const char* p, size_t n) { got.assign(p, n); }).ok());
  CHECK(got == data.substr(1000, 5000));
  CHECK((*m)->Read(data.size() - 1, 2, [](const char*, size_t) {}).code() == StatusCode::kOutOfRange);

  // Another program shortens the file: the pages past its new end fault.
  REQUIRE(::truncate(path.c_str(), 1 << 20) == 0);
  size_t touched = 0;
  Status st = (*m)->Read(0, data.size(), [&](const char* p, size_t n) {
    volatile char sink = 0;
    for (size_t i = 0; i < n; i += 4096) {
      sink = sink + p[i];
      touched = i;
    }
  });
  CHECK(st.code() == StatusCode::kFailedPrecondition);
  CHECK(st.message().find("shrank") != std::string::npos);
  CHECK(touched < data.size());
  // The same thread can go on reading what is still there.
  REQUIRE((*m)->Read(0, 10, [&](const char* p, size_t n) { got.assign(p, n); }).ok());
  CHECK(got == data.substr(0, 10));
  CHECK(MappedFile::Map(fd.get(), 0, path).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("MappedFile leaves other SIGBUS faults fatal", "[core][mapped_file]") {
  TempDir dir;
  const std::string path = dir / "g";
  WriteFile(path, std::string(2 << 20, 'x'));
  UniqueFd fd(::open(path.c_str(), O_RDONLY));
  REQUIRE(fd.valid());
  auto m = MappedFile::Map(fd.get(), 2 << 20, path);  // installs the handler
  REQUIRE(m.ok());
  REQUIRE(::truncate(path.c_str(), 4096) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    struct rlimit no_core {
      0, 0
    };
    setrlimit(RLIMIT_CORE, &no_core);
    volatile char c = (*m)->data()[1 << 20];  // outside Read(): not ours to catch
    (void)c;
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGBUS);
}

}  // namespace
}  // namespace modelreg
