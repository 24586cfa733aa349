package portal

// Stylesheet is the Dev Portal's stylesheet, which the admin console
// serves too, so both share one look.
func Stylesheet() []byte { return portalCSS }
