-- 0015: succeeded jobs are deleted once older than the runner's retention (JobRunner.Config.retention,
-- `--job-retention-hours`); failed and dead ones stay for inspection.

-- Serves: the purge, `DELETE ... WHERE id = ANY (ARRAY (SELECT id FROM jobs WHERE state = 'succeeded'
--   AND updated_at < $cutoff ORDER BY updated_at LIMIT n FOR UPDATE SKIP LOCKED))`, a range read from its
-- start that stops after n rows. Without it the purge walks the table (succeeded jobs are its bulk) on
-- every round. Partial: a job enters it once, when it succeeds (that update already writes new entries:
-- it changes `state`, which other indexes hold).
CREATE INDEX jobs_succeeded_idx ON jobs (updated_at) WHERE state = 'succeeded';
