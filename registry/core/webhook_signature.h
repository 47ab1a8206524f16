// Signing webhook deliveries, and checking a delivery's signature the way
// a receiver does (docs/events.md).
//
// Every delivery is `POST <url>` with `Content-Type: application/json`, the
// event as the body, and these headers:
//   X-Modelreg-Delivery-Id: <event id>   decimal; the same on every retry of
//                                        that event to that webhook, so a
//                                        receiver de-duplicates on it
//   X-Modelreg-Timestamp:   <unix seconds when this attempt was signed>
//   X-Modelreg-Signature:   v1,<base64 of HMAC-SHA256(secret,
//                               "<delivery id>.<timestamp>.<body>")>
//   User-Agent:             modelreg-webhook/1
// The construction is MLflow 3's (`X-MLflow-Signature: v1,<b64>` over
// `delivery_id.timestamp.payload`) and Standard Webhooks' (several
// space-separated signatures may be sent, e.g. while a secret is rotated;
// one that matches is enough; versions other than v1 are ignored), so a
// receiver written for either changes only the header names.
//
// The timestamp is signed with the body, so a receiver that refuses one
// too far from its own clock (kWebhookTolerance) refuses a captured
// delivery replayed later; the delivery id lets it drop a replay within
// that window, and the retries of at-least-once delivery.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace modelreg {

inline constexpr char kWebhookDeliveryIdHeader[] = "X-Modelreg-Delivery-Id";
inline constexpr char kWebhookTimestampHeader[] = "X-Modelreg-Timestamp";
inline constexpr char kWebhookSignatureHeader[] = "X-Modelreg-Signature";
inline constexpr char kWebhookUserAgent[] = "modelreg-webhook/1";
// How far (seconds, either way) a delivery's timestamp may be from the
// receiver's clock.
inline constexpr int64_t kWebhookTolerance = 300;

// "v1,<base64>": the X-Modelreg-Signature of `body` delivered as
// `delivery_id`, signed at `timestamp` (unix seconds).
std::string SignWebhook(std::string_view secret, std::string_view delivery_id, int64_t timestamp,
                        std::string_view body);

// The X-Modelreg-Delivery-Id, -Timestamp and -Signature headers (name,
// value) of an attempt to deliver `body` as event `delivery_id`, signed at
// `timestamp`: what net::PostWebhook sends beside the body.
std::vector<std::pair<std::string, std::string>> WebhookHeaders(std::string_view secret, int64_t delivery_id,
                                                                int64_t timestamp, std::string_view body);

// Checks a delivery as its receiver got it: the three header values as
// they arrived and the body's bytes. OK: one of the header's v1 signatures
// is the HMAC of this delivery id, timestamp and body under `secret`
// (compared in constant time), and the timestamp is within `tolerance_s`
// of `now_unix`. Otherwise Unauthenticated, with a message that says which
// check failed: a delivery id that is not decimal digits, a timestamp that
// is not decimal unix seconds, a timestamp too old or too far ahead (a
// replay, or a clock out of step), a header without a v1 signature, or no
// signature matching (wrong secret, or the body or a header was altered).
Status VerifyWebhook(std::string_view secret, std::string_view delivery_id, std::string_view timestamp_header,
                     std::string_view signature_header, std::string_view body, int64_t now_unix,
                     int64_t tolerance_s = kWebhookTolerance);

}  // namespace modelreg
