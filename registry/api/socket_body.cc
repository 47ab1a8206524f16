#include "api/socket_body.h"

#include "api/metrics.h"

namespace modelreg::api {

bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit) {
  const auto& framing = c.body.framing();
  if (framing.kind != net::RequestFraming::kLength || framing.length < kMinDirectBody) return c.body.Read(sink);
  Status st = c.body.ReadDirect(sink, space, [&](size_t n) {
    AddBodyBytesDirect(n);
    return commit(n);
  });
  return st.ok();
}

}  // namespace modelreg::api
