// An httplib handler that forwards a GET or POST to `upstream` with the
// headers a client of the registry sends (Authorization, If-None-Match,
// Range), and answers with what it answered (status, ETag, body): the base
// of the relays tests put between a client and a real registry.
#pragma once

#include <httplib.h>

#include <string>

namespace modelreg::testing {

inline httplib::Server::Handler Forwarder(const std::string& upstream) {
  return [upstream](const httplib::Request& req, httplib::Response& res) {
    httplib::Client c(upstream);
    httplib::Headers h;
    for (const auto& [k, v] : req.headers)
      if (k == "Authorization" || k == "If-None-Match" || k == "Range") h.emplace(k, v);
    auto r = req.method == "GET" ? c.Get(req.target, h)
                                 : c.Post(req.target, h, req.body, req.get_header_value("Content-Type"));
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    for (const auto& [k, v] : r->headers)
      if (k == "ETag") res.set_header(k, v);
    res.set_content(r->body, r->get_header_value("Content-Type"));  // e.g. a blobs/fetch answer
  };
}

}  // namespace modelreg::testing
