// The API's view of the JSON codec: the record encoders live in
// codec/json_codec.h (shared with the client and the CLI); what is HTTP's
// alone, the status code for a Status, is here.
#pragma once

#include "codec/json_codec.h"

namespace modelreg::api {

using codec::ErrorJson;
using codec::IsoTime;
using codec::JsonText;
using codec::PolicyFromJson;
using codec::ToJson;

// HTTP status for a Status code.
int HttpStatusFor(StatusCode code);

}  // namespace modelreg::api
