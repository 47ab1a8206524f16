// A hyperparameter (ParamValue) as a JSON value: the one conversion used by
// the lineage record's serializer, provenance statements and the REST API.
// Header-only, for the modules that already speak nlohmann::json.
#pragma once

#include <nlohmann/json.hpp>
#include <type_traits>
#include <variant>

#include "core/lineage_record.h"

namespace modelreg {

inline nlohmann::json ParamJson(const ParamValue& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return nullptr;
        else return x;
      },
      v);
}

}  // namespace modelreg
