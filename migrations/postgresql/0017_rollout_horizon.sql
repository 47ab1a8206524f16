-- The rollout judge's planned horizon (docs/rollouts.md, core/rollout_judge.h):
-- horizon_requests H (looks at H/4, H/2, H total requests of each step; 0 =
-- the always-valid test alone, what rollouts started before this migration
-- keep), judged_requests (the step's total requests at the last report whose
-- error test ran: the looks at or below it have fired; 0 when a step begins)
-- and last_look (the verdict of the step's last planned look, JSON; '' none).
ALTER TABLE rollouts ADD COLUMN horizon_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollouts ADD COLUMN judged_requests BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollouts ADD COLUMN last_look TEXT NOT NULL DEFAULT '';
