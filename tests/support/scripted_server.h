// A tiny HTTP server on a raw socket whose answers a test scripts byte for
// byte (a body cut short, a 200 to a Range request, a 503): one request
// per connection, then the connection closes. For tests of client code
// (net/blob_download, cpp-httplib's client behaviour we rely on).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace modelreg::testing {

struct Request {
  std::string method, path, range, body;  // range: the Range header's value ("" if none)
};

// One request per connection: reads it, sends what `answer(request, index)`
// returns (a whole raw HTTP answer, or a cut one), closes.
class ScriptedServer {
 public:
  using Answer = std::function<std::string(const Request&, size_t index)>;
  explicit ScriptedServer(Answer answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("scripted server: cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string in;
      char buf[4096];
      size_t head_end = std::string::npos;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      if (head_end == std::string::npos) {
        ::close(c);
        continue;
      }
      Request r;
      r.method = in.substr(0, in.find(' '));
      r.path = in.substr(r.method.size() + 1, in.find(' ', r.method.size() + 1) - r.method.size() - 1);
      const std::string head = in.substr(0, head_end + 2);
      auto header = [&](const std::string& name) -> std::string {
        const size_t at = head.find("\r\n" + name + ": ");
        if (at == std::string::npos) return "";
        const size_t from = at + name.size() + 4;
        return head.substr(from, head.find("\r\n", from) - from);
      };
      r.range = header("Range");
      const std::string cl = header("Content-Length");
      const size_t want = cl.empty() ? 0 : std::stoul(cl);
      r.body = in.substr(head_end + 4);
      while (r.body.size() < want) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        r.body.append(buf, static_cast<size_t>(n));
      }
      size_t index;
      {
        std::lock_guard<std::mutex> l(mu_);
        index = requests_.size();
        requests_.push_back(r);
      }
      const std::string out = answer_(r, index);
      for (size_t sent = 0; sent < out.size();) {
        const ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::shutdown(c, SHUT_WR);
      // Wait for the client to close (or give up), so that a cut answer
      // reads as a connection that ended, not a reset.
      pollfd q{c, POLLIN, 0};
      ::poll(&q, 1, 2000);
      ::close(c);
    }
  }

  Answer answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace modelreg::testing
