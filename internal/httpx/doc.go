// Package httpx holds the HTTP plumbing that sigtrail's servers share:
// problem+json error answers, strict JSON request decoding, trace ids and
// the client address behind trusted proxies.
package httpx
