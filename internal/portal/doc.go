// Package portal serves the Dev Portals: the developer-facing API of Kong's
// dev-portal v2 contract (register, verify email, set and reset password,
// authenticate, refresh, me, logout), single sign-on with the portal's
// OpenID Connect provider (sso.go, through package oidcrp), and
// server-rendered pages for the same flows. Every authentication attempt,
// by password or by SSO, is appended to the portal's audit stream before
// the developer is answered. It also shows the portal's content (pages,
// menus and theme colour managed through the management API, Markdown
// rendered by package content): public pages to everyone, signed-in pages
// to logged-in developers only.
//
// The portal is chosen by the request's Host header. Passwords are argon2id
// hashes; sessions are random secrets kept as SHA-256 hashes and carried in
// HttpOnly, SameSite cookies; failed logins lock an account for a while;
// authentication and registration are rate limited per client address.
package portal
