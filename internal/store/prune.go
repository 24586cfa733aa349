package store

// PrunedEpochsLease names the row that keeps, once PruneCoordination has
// deleted leases, the highest epoch any of them had. A lease row created
// afterwards starts above it: a stream's webhook can be deleted and
// created again (an org's stream is the org's ID), and its new lease must
// not repeat an epoch a long-stalled former holder may still write with.
// The row is a free lease (no owner) that nobody acquires, and its name
// matches neither WebhookLease nor ReplayLease, so pruning never deletes it.
const PrunedEpochsLease = "cluster/pruned-epochs"
