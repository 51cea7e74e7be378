-- 0013: the job queue's runner and its operator tools (claim, outcomes, listing, requeueing dead jobs).
-- The claim and the outcomes need nothing new: the claim uses jobs_claim_idx (0007), the outcomes the
-- primary key.

-- Serves: the operator's listings of running, failed or dead jobs, newest first,
--   `SELECT ... FROM jobs WHERE state = 'dead' ORDER BY id DESC LIMIT n`,
-- one state's range read backwards and stopped after the page (several states: their ranges, then a
-- sort of those rows). Without it, listing failed or dead jobs walks the primary key backwards through
-- every newer job (succeeded ones, the bulk of the table: all of it when the dead jobs are old), and
-- listing running ones reads the whole due backlog from jobs_claim_idx to drop all but a handful.
-- Partial: a job enters it when claimed (one more index entry per claim; heartbeats change no indexed
-- column) and when it fails or dies; succeeded and queued jobs are not in it. Listing queued jobs uses
-- jobs_claim_idx; listing succeeded ones, or every state, the primary key, where they are the rows it
-- meets first.
CREATE INDEX jobs_inspection_idx ON jobs (state, id) WHERE state IN ('running', 'failed', 'dead');
