// Package customdomain decides when a portal is served on its custom
// domain: once DNS shows the name to be a CNAME (directly or through a
// chain of at most MaxHops) of that portal's default domain, as Konnect
// asks of its customers, the default domain being the first name of the
// chain under the portal domain suffix (LeadsTo). Until then the claim is
// pending and the portal listener does not serve it
// (store.Portals.GetPortalByDomain finds only verified names).
//
// Claims are checked when made or changed (Checker.Check, from the API)
// and again in the background (Checker.Run, on every replica): pending
// ones with a growing backoff, verified ones periodically. A verified name
// whose CNAME stops leading to its portal goes back to pending after
// Policy.Threshold checks in a row find so; a lookup that fails (a
// timeout, SERVFAIL) counts nothing. Policy is pure: what a check leads
// to; the store applies it atomically (at most one portal has a name
// verified) and fences it against later takes.
//
// Every change of a name between verified and pending is recorded in the
// portal's org log as the server's own act (kong_initiated).
package customdomain
