-- A destination may ask for strict ordering (see store.OrderingStrict);
-- existing ones keep today's behaviour.
ALTER TABLE destinations ADD COLUMN ordering text NOT NULL DEFAULT 'best_effort';

-- Entries retention deleted before a webhook delivered them: counted, and
-- when the last such loss was found (UTC nanoseconds, 0: never), so a loss
-- shows in the webhook status instead of a failed range vanishing.
ALTER TABLE webhook_state ADD COLUMN lost_entries bigint NOT NULL DEFAULT 0;
ALTER TABLE webhook_state ADD COLUMN last_lost_at bigint NOT NULL DEFAULT 0;
