// One delivery attempt of a webhook: POST the body to the webhook's URL and
// say what came of it (docs/events.md). The delivery worker decides about
// retries; this makes one attempt and never blocks longer than its timeout.
//
// What an attempt does, in order:
//  - The URL must be http:// or https:// host[:port][/path][?query]:
//    credentials (user@), fragments (#...), other schemes, spaces, control
//    and non-ASCII characters are refused (percent-encode them).
//  - The host is resolved and every address checked (net/address_class.h:
//    public only, unless allow_private). The connection then goes to an
//    address that was checked, never to a fresh lookup of the name, so a
//    name that resolves elsewhere a moment later (DNS rebinding) cannot
//    reach a private address. Several addresses are tried in order while
//    they refuse the connection.
//  - https: TLS with SNI and the server's certificate verified for the
//    URL's host name, against `ca_pem` if given (only those certificates),
//    else the system's CAs.
//  - Redirects are never followed: a 3xx is a failed delivery whose error
//    says where it pointed (deliveries go only where they were configured).
//  - At most kWebhookExcerptMax bytes of the answer's body are read (kept
//    for the delivery log); a longer answer is cut there.
//  - `timeout` bounds the whole attempt (connecting, TLS, sending and
//    receiving together, counted from the start, so also the time the name
//    took to resolve; resolving itself is bounded by the system resolver's
//    own limits): a receiver that answers slowly, or trickles its answer,
//    is cut when it runs out. An answer whose status line and headers
//    arrived counts by its status even if its body is then cut.
//
// Retryable: everything but a configuration that no retry can mend, i.e.
// a URL refused, an address class refused, a `ca_pem` that holds no
// certificate, and a 410 Gone (the receiver says the endpoint is gone for
// good, as Standard Webhooks has it). Other 4xx answers are retried (a
// receiver whose secret is being rotated answers 401 for a while), and so
// are TLS verification failures (a certificate that is renewed).
//
// Thread-safe: attempts share nothing (one connection each, closed after).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace modelreg::net {

inline constexpr size_t kWebhookExcerptMax = 4096;

struct WebhookTarget {
  std::string url;
  std::string ca_pem;  // PEM certificates to verify an https server with; empty: the system's CAs
  bool allow_private = false;
  std::chrono::milliseconds timeout{10000};
};

struct WebhookAnswer {
  int status = 0;     // the HTTP status of the answer; 0 if there was none
  std::string error;  // empty when delivered (a 2xx); else what went wrong, in one line
  // The answer's first bytes (at most kWebhookExcerptMax), as text a
  // database takes: bytes that are not UTF-8 become U+FFFD, NUL becomes DEL.
  std::string body_excerpt;
  double elapsed_ms = 0;  // of the whole attempt
  bool retryable = true;  // false: retrying cannot help until the webhook is changed
  bool delivered() const { return error.empty(); }
};

// A webhook URL taken apart.
struct WebhookUrl {
  bool https = false;
  std::string host;    // a name, or a numeric address (IPv6 without brackets)
  int port = 0;        // given, or 80 / 443
  std::string target;  // path and query, at least "/"
};

// The URL's parts, or InvalidArgument saying what is wrong with it.
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

// OK if `pem` holds at least one PEM certificate and nothing else that is
// not one; InvalidArgument otherwise. (Empty `pem`: OK, the system's CAs.)
Status CheckWebhookCa(std::string_view pem);

// One attempt, as described above. `headers` go with the request as given
// (X-Modelreg-*, core/webhook_signature.h); Content-Type: application/json
// and User-Agent: modelreg-webhook/1 are added unless `headers` has them.
WebhookAnswer PostWebhook(const WebhookTarget& target, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace modelreg::net
