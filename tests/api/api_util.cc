#include "api/api_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "core/digest.h"

namespace modelreg::testing {
namespace fs = std::filesystem;

Digest UploadWhole(Http& h, const std::string& bytes, httplib::Response* answer) {
  Digest d = Digest::Of(bytes);
  auto r = h.Post("/api/v1/blobs/uploads?digest=" + d.str(), bytes, "application/octet-stream");
  if (!r) throw std::runtime_error("POST /api/v1/blobs/uploads: no answer");
  if (r->status != 201)
    throw std::runtime_error("POST /api/v1/blobs/uploads: " + std::to_string(r->status) + " " + r->body);
  if (answer) *answer = *r;
  return d;
}

size_t CountBlobFiles(const std::string& data_dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(data_dir + "/blobs"))
    if (e.is_regular_file()) ++n;
  return n;
}

static std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = e.path().string();
  return out;
}

bool SameTree(const std::string& a, const std::string& b, std::string* why) {
  auto ta = Tree(a), tb = Tree(b);
  if (ta.size() != tb.size()) {
    *why = "file counts differ: " + std::to_string(ta.size()) + " vs " + std::to_string(tb.size());
    return false;
  }
  for (const auto& [rel, pa] : ta) {
    auto it = tb.find(rel);
    if (it == tb.end()) {
      *why = "missing " + rel;
      return false;
    }
    auto ha = HashFile(pa), hb = HashFile(it->second);
    if (!ha.ok() || !hb.ok() || ha->digest != hb->digest || ha->size != hb->size) {
      *why = "content differs: " + rel;
      return false;
    }
  }
  return true;
}

int PromoteRepeatedly(Http& h, int64_t v, int rounds) {
  const std::string base = "/api/v1/models/churn/versions/" + std::to_string(v) + "/stage";
  int done = 0;
  for (int i = 0; i < 20 * rounds && done < rounds; ++i) {
    auto s = h.Post(base, R"({"to":"staging"})");
    if (!s) return 2;
    auto p = h.Post(base, R"({"to":"production"})");
    if (!p) return 2;
    if (p->status == 200) ++done;
    else if (p->status != 422) return 3;  // only "not in staging" may happen
  }
  return done == rounds ? 0 : 1;
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

}  // namespace modelreg::testing
