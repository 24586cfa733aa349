// Package content turns a Dev Portal's page and snippet Markdown into
// HTML that is safe to serve: Markdown is rendered by goldmark (CommonMark
// with GitHub's tables, strikethrough, task lists and autolinks; raw HTML
// in the source is dropped), and the result is sanitised by bluemonday's
// user-content policy, so no script, event handler, style or javascript:
// URL reaches a page whatever an author (or a stolen admin token) writes.
// It also reads the front matter Kong's pages may carry (title,
// description), expands Kong's MDC snippet references in a page with the
// snippets its caller lets the viewer see, and decodes and checks the
// image data URLs of a portal's logo and favicon. It does no I/O.
package content
