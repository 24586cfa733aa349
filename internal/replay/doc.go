// Package replay runs replay jobs and the retention loop.
//
// A replay job re-sends one time window of a stream through the webhook
// configured for that stream when the job runs, in batches, keeping its
// cursor and progress in the store so that a restart resumes it. It never
// touches the live delivery cursor of the webhook. The retention loop
// deletes entries once they are older than the retention period, which is
// also the oldest time a replay can reach.
//
// Replicas sharing one database (Config.Replica set) run each job on the one
// replica holding its store.ReplayLease, fence every write of it with the
// lease's epoch, and rescan the active jobs to resume those of a replica
// that died. The retention sweep runs on one replica per interval
// (store.Coordination.ClaimPeriodic).
package replay
