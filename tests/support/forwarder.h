// An httplib handler that forwards a GET, POST, PUT or PATCH to `upstream` with the
// headers a client of the registry sends (Authorization, If-None-Match,
// Range), and answers with what it answered (status, ETag, body): the base
// of the relays tests put between a client and a real registry.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace modelreg::testing {

inline httplib::Server::Handler Forwarder(const std::string& upstream) {
  return [upstream](const httplib::Request& req, httplib::Response& res) {
    httplib::Client c(upstream);
    httplib::Headers h;
    for (const auto& [k, v] : req.headers)
      if (k == "Authorization" || k == "If-None-Match" || k == "Range") h.emplace(k, v);
    const std::string type = req.get_header_value("Content-Type");
    auto r = req.method == "GET"     ? c.Get(req.target, h)
             : req.method == "PUT"   ? c.Put(req.target, h, req.body, type)
             : req.method == "PATCH" ? c.Patch(req.target, h, req.body, type)
                                     : c.Post(req.target, h, req.body, type);
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    for (const auto& [k, v] : r->headers)
      if (k == "ETag" || k == "Content-Range") res.set_header(k, v);
    res.set_content(r->body, r->get_header_value("Content-Type"));  // e.g. a blobs/fetch answer
  };
}

// A relay on 127.0.0.1 in front of `upstream` that forwards every GET and
// POST and answers blob downloads (GETs of .../blobs/...) in pieces of
// `piece` bytes, `gap` apart: a slow network, for tests that act while a
// transfer runs.
class SlowBlobRelay {
 public:
  SlowBlobRelay(const std::string& upstream, size_t piece, std::chrono::milliseconds gap) {
    auto forward = Forwarder(upstream);
    server_.Get(".*", [forward, piece, gap](const httplib::Request& req, httplib::Response& res) {
      forward(req, res);
      if (req.path.find("/blobs/") == std::string::npos || (res.status != 200 && res.status != 206)) return;
      auto body = std::make_shared<std::string>(std::move(res.body));
      res.body.clear();
      res.set_content_provider(body->size(), "application/octet-stream",
                               [body, piece, gap](size_t offset, size_t length, httplib::DataSink& sink) {
                                 std::this_thread::sleep_for(gap);
                                 return sink.write(body->data() + offset, std::min(length, piece));
                               });
    });
    server_.Post(".*", forward);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~SlowBlobRelay() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace modelreg::testing
