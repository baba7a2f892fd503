package pii

import (
	"strings"
	"testing"
)

// Names found once are redacted wherever else they occur on the page; job
// titles, honorifics and table row headers label names.
func TestNamesRepeatedAndLabelled(t *testing.T) {
	f := mustNew(t, Config{})
	for _, c := range []struct{ page, leak, keep string }{
		{`<div data-member="Michael Novak"><img alt="Photo of Michael Novak"><h3>Michael Novak</h3></div>`, "Novak", ""},
		{`<div data-contact="董国庆"><p>总经理：董国庆</p></div><p>董国庆先生致辞</p>`, "董国庆", ""},
		{`<p>销售总监：蒯丽华</p>`, "蒯丽华", ""},
		{`<p>媒体联络：田静 女士</p>`, "田静", ""},
		{`<p>Driver: Mr Lucas Brennan, on time</p>`, "Brennan", ""},
		{`<p>Contact Mr. John Smith today</p>`, "Smith", ""},
		{`<table><tr><th>Lead guest</th><td>Grace Nakamura</td></tr></table>`, "Nakamura", ""},
		{`<p>The MS Word file is attached.</p>`, "", "MS Word"},
		{`<p>Michaelson Novakowski wrote</p><p data-member="Michael Novak">x</p>`, "Michael Novak", "Michaelson Novakowski"},
	} {
		out, _, err := f.RedactHTML([]byte(c.page))
		if err != nil {
			t.Fatal(err)
		}
		if c.leak != "" && strings.Contains(string(out), c.leak) {
			t.Errorf("%q survived: %s", c.leak, out)
		}
		if c.keep != "" && !strings.Contains(string(out), c.keep) {
			t.Errorf("%q was redacted: %s", c.keep, out)
		}
	}
}

// A table's labels end with the table: an attribute after it is labelled
// by its own name.
func TestTableLabelsEndWithTheTable(t *testing.T) {
	f := mustNew(t, Config{})
	page := `<table><tr><th>Guest 10 (Taiwan)</th><td>ID B135451660</td></tr></table>
<div data-passport="989708978"></div>`
	out, _, err := f.RedactHTML([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "989708978") {
		t.Errorf("passport after a table survived: %s", out)
	}
}
