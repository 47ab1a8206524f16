// Notification channels between replicas of one database (Tx::Notify,
// Database::Listen). A write transaction that changes what other replicas
// cache or wait on announces it on its channel; the payload names what
// changed but receivers refresh the whole cache.
#pragma once

namespace modelreg::service_internal {

// A stage change: release long polls wake, release seqs are re-read.
inline constexpr char kReleaseChannel[] = "modelreg_release";
// A token revoked: cached principals are dropped.
inline constexpr char kTokensChannel[] = "modelreg_tokens";
// An event committed (payload: its id): event watches and the webhook
// delivery worker wake.
inline constexpr char kEventsChannel[] = "modelreg_events";

}  // namespace modelreg::service_internal
