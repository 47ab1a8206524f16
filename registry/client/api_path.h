// REST paths of docs/api.md built from their parts: every path segment and
// query value is percent-encoded here, in one place (RFC 3986 unreserved
// characters and ':' kept), so no caller builds or escapes a URL by hand.
// A VERSION segment is passed through as the user gave it (a number, a
// digest or prefix, `production`, `latest`): the registry resolves it.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelreg {

// Percent-encodes one path segment or query value.
std::string UrlComponent(std::string_view s);

// "/api/v1/" + the segments, each encoded: ApiPath({"models", m, "versions", v}).
std::string ApiPath(std::initializer_list<std::string_view> segments);

// `path` + "?k=v&..." with every value encoded (keys are literals); empty
// values are left out. No '?' when nothing is left.
std::string WithQuery(std::string path, const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace modelreg
