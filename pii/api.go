package pii

// Scanner finds personal information. *Filter implements it.
type Scanner interface {
	ScanText(b []byte) []Finding
	ScanHTML(b []byte) ([]Finding, error)
}

// Redactor redacts personal information. *Filter implements it.
type Redactor interface {
	RedactHTML(b []byte) ([]byte, Report, error)
	RedactText(s string) (string, Report)
	RedactURL(raw string) string
}

var (
	_ Scanner  = (*Filter)(nil)
	_ Redactor = (*Filter)(nil)
)
