// fleet_longpoll PORTS TOKEN MODEL KNOWN_SEQ AGENTS WAIT_S T0_FILE MAX_S: AGENTS
// simulated agents on one thread (epoll), each with its own connection to
// 127.0.0.1:PORT, long-poll GET /api/v1/models/MODEL/release?wait=WAIT_S
// with If-None-Match: "KNOWN_SEQ", as modelreg-agent does (agent/agent.cc):
// a 304 that came before half the wait is followed by a pause for the rest
// of the wait (the agent's --interval), a later one by the next poll at
// once. Prints "READY" once every agent has sent its first poll and no
// answer came for a second; bench/fleet_longpoll.sh then writes the time
// (epoch seconds) to T0_FILE and promotes. An agent is done at its first 200
// with another seq. When all are done, or MAX_S after READY, prints
// "RESULT got=G agents=N p50=S p99=S p100=S errors=E late304=L" in seconds
// from T0 ("-" where not reached) and exits; L counts the 304s received
// after T0 was written (polls answered "unchanged" during or after the
// promotion: each such agent learns of it only at a later poll). With
// several ports, a line "PORT P agents=A got=G p50=S p99=S p100=S" for each
// port's agents comes first. Loopback only; stops by itself.
// PORTS is one port or several separated by commas (replicas reached
// directly, bench/fleet_replicas.sh): agent i always uses port i mod count.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <queue>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Wall() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

struct Agent {
  int fd = -1;
  bool connecting = false;
  std::string out;  // unsent request bytes
  std::string in;
  Clock::time_point sent;
  bool waiting = false;  // a poll is out
  bool done = false;
  double got_at = 0;  // wall time of the new release
};

std::vector<int> ports;
std::string request;
int epfd = -1;
using Due = std::pair<Clock::time_point, int>;
std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due;  // agents' next polls

void Arm(int i, Agent& a, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u32 = static_cast<uint32_t>(i);
  epoll_ctl(epfd, EPOLL_CTL_MOD, a.fd, &ev);
}

void CloseAgent(Agent& a) {
  if (a.fd >= 0) ::close(a.fd);
  a.fd = -1;
  a.connecting = false;
  a.waiting = false;
  a.in.clear();
  a.out.clear();
}

// Sends the next poll (connecting first if needed). False: no descriptor.
bool Poll(int i, Agent& a) {
  if (a.fd < 0) {
    a.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a.fd < 0) return false;
    int one = 1;
    setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(ports[static_cast<size_t>(i) % ports.size()]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = ::connect(a.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno != EINPROGRESS) {
      CloseAgent(a);
      return false;
    }
    a.connecting = true;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epfd, EPOLL_CTL_ADD, a.fd, &ev);
  }
  a.out = request;
  a.sent = Clock::now();
  a.waiting = true;
  Arm(i, a, EPOLLIN | EPOLLOUT);
  return true;
}

void Flush(int i, Agent& a) {
  a.connecting = false;
  while (!a.out.empty()) {
    ssize_t n = ::send(a.fd, a.out.data(), a.out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      a.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    CloseAgent(a);  // refused or reset: the agent tries again in a second
    due.push({Clock::now() + std::chrono::seconds(1), i});
    return;
  }
  Arm(i, a, EPOLLIN);
}

std::string HeaderValue(const std::string& head, const char* name) {
  const size_t len = strlen(name);
  for (size_t at = head.find("\r\n"); at != std::string::npos; at = head.find("\r\n", at + 2)) {
    const size_t s = at + 2;
    if (head.size() > s + len && strncasecmp(head.data() + s, name, len) == 0 && head[s + len] == ':') {
      size_t v = s + len + 1;
      while (v < head.size() && head[v] == ' ') ++v;
      return head.substr(v, head.find("\r\n", v) - v);
    }
  }
  return "";
}

// T0 once the benchmark has written it, else 0.
double T0(const std::string& file) {
  static double t0 = 0;
  if (t0 == 0) std::ifstream(file) >> t0;
  return t0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: fleet_longpoll PORT[,PORT...] TOKEN MODEL KNOWN_SEQ AGENTS WAIT_S T0_FILE MAX_S\n");
    return 2;
  }
  for (const char* p = argv[1]; *p;) {
    char* end = nullptr;
    const long v = std::strtol(p, &end, 10);
    if (end == p || v <= 0 || v > 65535 || (*end != ',' && *end != '\0')) {
      fprintf(stderr, "fleet_longpoll: bad port list %s\n", argv[1]);
      return 2;
    }
    ports.push_back(static_cast<int>(v));
    p = *end == ',' ? end + 1 : end;
  }
  if (ports.empty()) {
    fprintf(stderr, "fleet_longpoll: no port\n");
    return 2;
  }
  const std::string token = argv[2], model = argv[3];
  const long long known = std::atoll(argv[4]);
  const int n = std::atoi(argv[5]);
  const int wait_s = std::atoi(argv[6]);
  const std::string t0_file = argv[7];
  const double max_s = std::atof(argv[8]);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  request = "GET /api/v1/models/" + model + "/release?stage=production&wait=" + std::to_string(wait_s) +
            " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\nIf-None-Match: \"" +
            std::to_string(known) + "\"\r\n\r\n";
  epfd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Agent> agents(static_cast<size_t>(n));
  int started = 0, done = 0, errors = 0, late304 = 0;
  bool ready = false;
  Clock::time_point last_answer = Clock::now(), ready_at;
  std::vector<epoll_event> evs(1024);
  char buf[16 << 10];
  for (;;) {
    const auto now = Clock::now();
    // Start agents gradually: a few hundred handshakes in flight at most.
    int connecting = 0;
    if (started < n)
      for (const Agent& a : agents) connecting += a.connecting;
    while (started < n && connecting < 256) {
      if (!Poll(started, agents[static_cast<size_t>(started)])) {
        fprintf(stderr, "fleet_longpoll: cannot open connection %d: %s\n", started, strerror(errno));
        return 1;
      }
      ++started;
      ++connecting;
      last_answer = now;
    }
    while (!due.empty() && due.top().first <= now) {
      const int i = due.top().second;
      due.pop();
      Agent& a = agents[static_cast<size_t>(i)];
      if (!a.done && !a.waiting && !Poll(i, a)) due.push({now + std::chrono::seconds(1), i});
    }
    if (!ready && started == n && now - last_answer > std::chrono::seconds(1)) {
      ready = true;
      ready_at = now;
      printf("READY\n");
      fflush(stdout);
    }
    if (ready && (done == n || now - ready_at > std::chrono::duration<double>(max_s))) break;
    int timeout_ms = 100;
    if (!due.empty())
      timeout_ms = static_cast<int>(std::clamp<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(due.top().first - now).count(), 0, 100));
    const int got = epoll_wait(epfd, evs.data(), static_cast<int>(evs.size()), timeout_ms);
    for (int e = 0; e < got; ++e) {
      const int i = static_cast<int>(evs[static_cast<size_t>(e)].data.u32);
      Agent& a = agents[static_cast<size_t>(i)];
      if (a.fd < 0) continue;
      if (!a.out.empty() && (evs[static_cast<size_t>(e)].events & EPOLLOUT)) Flush(i, a);
      if (a.fd < 0 || !(evs[static_cast<size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      bool closed = false;
      const bool had_poll_out = a.waiting;
      for (;;) {
        ssize_t r = ::recv(a.fd, buf, sizeof buf, 0);
        if (r > 0) {
          a.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        closed = true;
        break;
      }
      // Whole answers in a.in.
      for (;;) {
        const size_t end = a.in.find("\r\n\r\n");
        if (end == std::string::npos) break;
        const std::string head = a.in.substr(0, end);
        const size_t length = static_cast<size_t>(std::atoll(HeaderValue(head, "Content-Length").c_str()));
        if (a.in.size() < end + 4 + length) break;
        a.in.erase(0, end + 4 + length);
        const int status = std::atoi(head.c_str() + 9);
        const auto at = Clock::now();
        last_answer = at;
        a.waiting = false;
        if (HeaderValue(head, "Connection") == "close") closed = true;
        if (status == 200 && std::atoll(HeaderValue(head, "X-Release-Seq").c_str()) != known) {
          a.done = true;
          a.got_at = Wall();
          ++done;
        } else if (status == 304) {
          const double t0 = T0(t0_file);
          if (t0 > 0 && Wall() > t0) ++late304;
          const double took = std::chrono::duration<double>(at - a.sent).count();
          if (took < wait_s / 2.0) due.push({a.sent + std::chrono::seconds(wait_s), i});
          else due.push({at, i});
        } else {
          ++errors;
          due.push({at + std::chrono::seconds(1), i});
        }
      }
      if (closed) {
        // Unanswered: polled again soon (an answered one is queued already).
        const bool unanswered = had_poll_out && a.waiting;
        CloseAgent(a);
        if (!a.done && unanswered) due.push({Clock::now() + std::chrono::milliseconds(100), i});
      }
    }
  }
  const double t0 = T0(t0_file);
  // Seconds from T0 to the new release for agents i with i % step == at
  // (step 1: all), as "got=G p50=S p99=S p100=S" over the `of` agents meant.
  auto summary = [&](size_t step, size_t at) {
    std::vector<double> lat;
    size_t of = 0;
    for (size_t i = at; i < agents.size(); i += step) {
      ++of;
      if (agents[i].done) lat.push_back(agents[i].got_at - t0);
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) -> std::string {
      const size_t need = static_cast<size_t>(std::ceil(p * static_cast<double>(of)));
      if (need == 0 || lat.size() < need) return "-";
      char s[32];
      snprintf(s, sizeof s, "%.3f", lat[need - 1]);
      return s;
    };
    return "got=" + std::to_string(lat.size()) + " p50=" + pct(0.5) + " p99=" + pct(0.99) + " p100=" + pct(1.0);
  };
  // With several ports, each port's agents on their own first.
  if (ports.size() > 1)
    for (size_t k = 0; k < ports.size(); ++k)
      printf("PORT %d agents=%zu %s\n", ports[k], (agents.size() + ports.size() - 1 - k) / ports.size(),
             summary(ports.size(), k).c_str());
  const std::string all = summary(1, 0);
  const size_t sp = all.find(' ');
  printf("RESULT %s agents=%d %s errors=%d late304=%d\n", all.substr(0, sp).c_str(), n, all.substr(sp + 1).c_str(),
         errors, late304);
  for (Agent& a : agents) CloseAgent(a);
  return 0;
}
