package postgres

// nullable stores "" as NULL, for optional references and unique columns
// where empty means unset.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
