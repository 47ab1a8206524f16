// The OpenAPI 3 description of the REST API (docs/openapi.json), compiled
// into the binary by cmake/embed_file.cmake and served at
// GET /api/v1/openapi.json without a token (it holds no data).
//
// It is written by hand next to docs/api.md; tests/api/openapi_test.cc
// fails when an operation of the route table (api/handler.h Routes()) is
// missing from it or it describes one the table lacks.
#pragma once

#include <string_view>

namespace modelreg::api {

// The document's exact bytes (UTF-8 JSON). Immutable; safe from any thread.
std::string_view OpenApiDocument();

}  // namespace modelreg::api
