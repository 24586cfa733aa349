// Package cluster spreads the webhooks' delivery over the replicas that
// share one database. Each replica runs one Coordinator: it heartbeats, so
// the others know it is alive, and it holds the webhook leases that
// rendezvous hashing of each stream over the live replicas gives it. Every
// lease carries a fencing epoch, which the replica's dispatcher passes with
// each write it makes, so a replica that lost a lease (paused, partitioned,
// dead and restarted) can change nothing after another took over.
//
// The Coordinator tells an Owner (the delivery manager) which streams to
// deliver and with which fence. It hands a lease over only after its Owner
// stopped, and it stops its Owner on its own once it could not renew its
// leases for nearly their whole lifetime, so that a replica cut off from
// the database stops sending before another replica may start.
package cluster
