// Package console is the admin console: server-rendered pages on the
// management listener for org users (store.User) who log in with an email
// and password. Log-ins, lockouts and log-outs are recorded in the org's
// log as Kong records log-ins to its application (AUTHENTICATION_TYPE_BASIC);
// every page acts through the management API's own handler in-process
// (api.WithPrincipal), so pages get the API's validation, authorisation and
// audit entries, naming the user.
package console
