// Package console is the admin console: server-rendered pages on the
// management listener for org users (store.User) who log in with an email
// and password. A person has one identity (store.Identity: password,
// lockout) and a user per org they belong to; with several, they choose
// the org after the log-in and may switch (orgs.go). Log-ins, lockouts and log-outs are recorded in the org's
// log as Kong records log-ins to its application (AUTHENTICATION_TYPE_BASIC);
// every page acts through the management API's own handler in-process
// (api.WithPrincipal), so pages get the API's validation, authorisation and
// audit entries, naming the user.
package console
