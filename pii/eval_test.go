package pii_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goodbot/goodbot/pii"
	"github.com/goodbot/goodbot/pii/internal/corpus"
)

// Floors that fail the build. Structured identifiers are checked against
// check digits and current number ranges; names and addresses are found by
// grammar and context only, so they get a lower floor.
const (
	structuredRecall    = 0.99
	structuredPrecision = 0.98
	heuristicRecall     = 0.95
	heuristicPrecision  = 0.95
)

type counts struct{ labels, found, findings, correct int }

// TestCorpusPrecisionRecall measures per-entity precision and recall on
// the generated evaluation corpus, checks that decoys survive redaction,
// that no planted structured value survives it, and that sensitive pages
// (and only they) are dropped.
func TestCorpusPrecisionRecall(t *testing.T) {
	f, err := pii.New(pii.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// PII_EVAL_SEED evaluates another draw of the corpus.
	seed := uint64(20261123)
	if v := os.Getenv("PII_EVAL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PII_EVAL_SEED: %v", err)
		}
		seed = n
	}
	pages := corpus.Generate(seed, 600)
	per := map[string]*counts{}
	get := func(e string) *counts {
		if per[e] == nil {
			per[e] = &counts{}
		}
		return per[e]
	}
	var fpExamples, fnExamples []string
	for pi, p := range pages {
		fs, err := f.ScanHTML(p.HTML)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Labels {
			c := get(l.Entity)
			c.labels++
			if slices.ContainsFunc(fs, func(x pii.Finding) bool {
				return string(x.Entity) == l.Entity && x.Start < l.End && l.Start < x.End
			}) {
				c.found++
			} else if len(fnExamples) < 10 {
				fnExamples = append(fnExamples, fmt.Sprintf("page %d %s %q", pi, l.Entity, p.HTML[l.Start:l.End]))
			}
		}
		for _, x := range fs {
			c := get(string(x.Entity))
			c.findings++
			if slices.ContainsFunc(p.Labels, func(l corpus.Label) bool {
				return string(x.Entity) == l.Entity && x.Start < l.End && l.Start < x.End
			}) {
				c.correct++
			} else if len(fpExamples) < 10 {
				fpExamples = append(fpExamples, fmt.Sprintf("page %d %s %q (%s)", pi, x.Entity, p.HTML[x.Start:x.End], x.Rule))
			}
		}

		out, rep, err := f.RedactHTML(p.HTML)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Drop != p.Sensitive {
			t.Errorf("page %d: Drop = %v (%s), want %v", pi, rep.Drop, rep.Reason, p.Sensitive)
		}
		if rep.Drop {
			continue
		}
		for _, d := range p.Decoys {
			if bytes.Count(out, []byte(d)) < countOutside(p.HTML, []byte(d), p.Labels) {
				t.Errorf("page %d: decoy %q did not survive redaction", pi, d)
			}
		}
		for _, l := range p.Labels {
			if l.Entity == "CN_PERSON_NAME" || l.Entity == "CN_ADDRESS" || l.Entity == "PERSON_NAME" {
				continue
			}
			if v := p.HTML[l.Start:l.End]; bytes.Contains(out, v) {
				t.Errorf("page %d: planted %s %q survived redaction", pi, l.Entity, v)
			}
		}
	}
	for _, s := range fnExamples {
		t.Logf("missed: %s", s)
	}
	for _, s := range fpExamples {
		t.Logf("false positive: %s", s)
	}
	names := make([]string, 0, len(per))
	for e := range per {
		names = append(names, e)
	}
	slices.Sort(names)
	var tab strings.Builder
	fmt.Fprintf(&tab, "%-16s %7s %7s %9s %9s\n", "entity", "labels", "found", "recall", "precision")
	for _, e := range names {
		c := per[e]
		rec := ratio(c.found, c.labels)
		prec := ratio(c.correct, c.findings)
		fmt.Fprintf(&tab, "%-16s %7d %7d %9.4f %9.4f\n", e, c.labels, c.findings, rec, prec)
		minR, minP := structuredRecall, structuredPrecision
		if e == string(pii.CNPersonName) || e == string(pii.CNAddress) || e == string(pii.PersonName) {
			minR, minP = heuristicRecall, heuristicPrecision
		}
		if c.labels == 0 {
			t.Errorf("%s: findings without any planted label", e)
			continue
		}
		if rec < minR {
			t.Errorf("%s: recall %.4f below floor %.2f", e, rec, minR)
		}
		if prec < minP {
			t.Errorf("%s: precision %.4f below floor %.2f", e, prec, minP)
		}
	}
	for _, e := range pii.AllEntities() {
		// The entities of other regions are not planted yet: any finding
		// of theirs on this corpus fails above as a finding without a label;
		// scan_intl_test.go checks them on sentences of their own.
		if per[string(e)] == nil && !slices.Contains(notPlanted, e) {
			t.Errorf("corpus plants no %s", e)
		}
	}
	t.Logf("per-entity results on %d pages:\n%s", len(pages), tab.String())
}

var notPlanted = []pii.Entity{pii.Phone, pii.LicensePlate, pii.VIN, pii.MACAddress, pii.USPassport, pii.USITIN,
	pii.KRRRN, pii.INAadhaar, pii.BRCPF, pii.ESDNI, pii.ITFiscalCode, pii.FRNIR, pii.PLPESEL}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// countOutside counts the occurrences of d in b that overlap no label: a
// decoy price "92.72" inside a planted address 136.192.72.95 goes with it.
func countOutside(b, d []byte, labels []corpus.Label) int {
	n := 0
	for i := 0; ; {
		j := bytes.Index(b[i:], d)
		if j < 0 {
			return n
		}
		s, e := i+j, i+j+len(d)
		if !slices.ContainsFunc(labels, func(l corpus.Label) bool { return s < l.End && l.Start < e }) {
			n++
		}
		i = e // non-overlapping, as bytes.Count
	}
}
