// A TCP relay on 127.0.0.1 in front of a server that relays byte for byte
// and injects one kind of connection fault, every time instead of rarely:
//
// - Fault::kOneRequest: each connection carries one request. The relay
//   closes the connection when the client sends its next request, without
//   answering it. That is what a client sees when the server closes a
//   kept-alive connection just as the client reuses it (a server closing
//   idle connections, e.g. to make room for others).
// - Fault::kResetOnce: the first answer that grows past `reset_after`
//   bytes is cut there with a TCP reset (RST), as when the server's host
//   crashes or a middlebox drops the connection mid-transfer; later
//   connections are relayed whole.
// - Fault::kIgnoreRange: each request's `Range:` header is renamed (to
//   `X-Rng:`, same length), so that the server answers 200 with the whole
//   body, as a server or proxy that ignores Range does.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modelreg::testing {

class TcpRelay {
 public:
  enum class Fault { kOneRequest, kResetOnce, kIgnoreRange };
  TcpRelay(int upstream_port, Fault fault, uint64_t reset_after = 0);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Faults injected so far: requests dropped unanswered, connections reset,
  // or Range headers renamed.
  size_t faults() const { return faults_; }

 private:
  void Accept();
  void Relay(int client);

  const int upstream_port_;
  const Fault fault_;
  const uint64_t reset_after_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> faults_{0};
  std::atomic<bool> reset_done_{false};
  std::mutex mu_;
  std::vector<std::thread> relays_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace modelreg::testing
