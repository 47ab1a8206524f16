// Query parameters shared by the handlers (api/handler.h).
#include <charconv>
#include <cstdint>
#include <string>

#include "api/handler.h"

namespace modelreg::api {

Result<int64_t> IntParam(const Ctx& c, const char* name, int64_t min, int64_t max, int64_t fallback) {
  if (!c.req.has_param(name)) return fallback;
  const std::string v = c.req.get_param_value(name);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min || n > max)
    return Status::InvalidArgument(std::string(name) + " must be a whole number " +
                                   (max == INT64_MAX ? ">= " + std::to_string(min)
                                                     : "from " + std::to_string(min) + " to " + std::to_string(max)));
  return n;
}

}  // namespace modelreg::api
