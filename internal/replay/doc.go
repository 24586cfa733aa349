// Package replay runs replay jobs: each re-sends one time window of a
// stream through the webhook configured for that stream when the job runs,
// in batches, keeping its cursor and progress in the store so a restart
// resumes it. It never touches the live delivery cursor of the webhook.
package replay
