// Filtering, sorting and paging of the REST lists (docs/api.md, "Lists:
// limit, page_token, sort"). One page-token scheme for every list: an opaque
// token that names the last row of the page by its sort key and its unique
// id, so the next page starts strictly after it. Rows inserted meanwhile
// land before or after that point; none is shown twice or skipped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/handler.h"

namespace modelreg::api {

// A page token: hex of a small JSON object; clients pass it back unchanged.
std::string EncodePageToken(const nlohmann::json& position);
// InvalidArgument("page_token ...") when `token` is not one EncodePageToken made.
Result<nlohmann::json> DecodePageToken(const std::string& token);

struct ListSpec {
  std::vector<std::string> sort_fields;  // row keys the list may be sorted by
  std::string default_sort;              // one of sort_fields
  std::string default_order;             // "asc" or "desc"
  std::string id_field;                  // unique per row: the tie-breaker
  bool metric_sort = false;              // also "metric:NAME" (row["metrics"][NAME])
};

// Reads ?sort=, ?order=, ?limit= (1..kMaxListLimit; none: every row) and
// ?page_token= from the request, sorts `rows`, and puts the page into
// out[array_key], the number of rows before paging into out["total"] and,
// when more follow, out["next_page_token"]. Bad values: InvalidArgument
// naming the parameter.
inline constexpr int64_t kMaxListLimit = 1000;
Status PageRows(const Ctx& c, const ListSpec& spec, std::vector<nlohmann::json> rows, const char* array_key,
                nlohmann::json* out);

// ?q=: true when `needle` (already lower-cased) is empty or a substring of
// one of `fields`, compared case-insensitively.
bool MatchesQuery(const std::string& needle, const std::vector<std::string>& fields);
std::string LowerQuery(const Ctx& c);

}  // namespace modelreg::api
