// A TCP relay on 127.0.0.1 in front of a server that lets each connection
// carry one request: it relays the client's first request and the server's
// answer byte for byte, then closes the connection when the client sends
// its next request, without answering it. That is what a client sees when
// the server closes a kept-alive connection just as the client reuses it
// (a server closing idle connections, e.g. to make room for others), every
// time instead of rarely.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modelreg::testing {

class OneRequestRelay {
 public:
  explicit OneRequestRelay(int upstream_port);
  ~OneRequestRelay();
  OneRequestRelay(const OneRequestRelay&) = delete;
  OneRequestRelay& operator=(const OneRequestRelay&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Requests dropped unanswered so far.
  size_t dropped() const { return dropped_; }

 private:
  void Accept();
  void Relay(int client);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> dropped_{0};
  std::mutex mu_;
  std::vector<std::thread> relays_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace modelreg::testing
