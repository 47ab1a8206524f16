#include "net/blob_fetch.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "net/http_error.h"

namespace modelreg::net {

FetchAnswer PostFetch(httplib::Client& http, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::vector<SplitBlob>& blobs, size_t first, BlobSplitter& split, uint64_t* bytes) {
  nlohmann::json digests = nlohmann::json::array();
  for (size_t i = first; i < blobs.size(); ++i) digests.push_back(blobs[i].digest.str());
  FetchAnswer a;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  req.headers.emplace("Content-Type", "application/json");
  req.body = nlohmann::json{{"digests", digests}}.dump();
  req.response_handler = [&](const httplib::Response& res) {
    a.status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (a.status != 200) {
      AppendErrorBody(&a.error_body, data, n);
      return true;
    }
    if (bytes) *bytes += n;
    a.io = split.Feed(data, n);
    return a.io.ok();
  };
  auto r = http.send(req);
  a.transport_ok = static_cast<bool>(r);
  a.error = static_cast<int>(r.error());
  if (a.io.ok() && a.transport_ok && a.status == 200) a.io = split.End();
  return a;
}

}  // namespace modelreg::net
