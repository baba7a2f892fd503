// Package pii finds personal information in fetched pages, text and URLs,
// and redacts it, so that goodbot never stores it.
//
// A Filter scans normalised text (NFKC, HTML entities decoded) with a
// hand-written single-pass candidate scanner that dispatches digit runs by
// length and prefix to checksum validators, cheap byte triggers for e-mail
// addresses, IP addresses and letter-prefixed identifiers, and one
// Aho-Corasick pass for all context words and sensitive-category lexicons.
// Every finding carries its entity, score tier, rule and byte offsets in the
// input, so HTML can be redacted in place.
//
// Pages that touch a sensitive category of PIPL Art. 28 (health, religion,
// biometrics, minors, whereabouts, financial accounts, specific identity)
// together with personal data are marked for dropping: such topics cannot
// be redacted span by span.
//
// A Filter is safe for concurrent use.
package pii

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Entity names a kind of personal information.
type Entity string

// The entities a Filter knows.
const (
	CNResidentID Entity = "CN_RESIDENT_ID" // GB 11643 resident identity number, 18 or 15 digits
	CNMobile     Entity = "CN_MOBILE"      // mainland mobile number
	CNLandline   Entity = "CN_LANDLINE"    // mainland fixed-line number with area code
	BankCard     Entity = "BANK_CARD"      // payment card number, 16–19 digits, Luhn
	CNPassport   Entity = "CN_PASSPORT"    // PRC passport number (needs context)
	HKID         Entity = "HK_ID"          // Hong Kong identity card number
	TWID         Entity = "TW_ID"          // Taiwan national identification number
	MOID         Entity = "MO_ID"          // Macau resident identity card number (needs context)
	Email        Entity = "EMAIL"          // e-mail address
	IPAddress    Entity = "IP_ADDRESS"     // IPv4 or IPv6 address
	IBAN         Entity = "IBAN"           // international bank account number
	USSSN        Entity = "US_SSN"         // US social security number
	Coordinates  Entity = "COORDINATES"    // precise latitude/longitude
	CNPersonName Entity = "CN_PERSON_NAME" // Chinese person name in contact context
	CNAddress    Entity = "CN_ADDRESS"     // Chinese postal address
	PersonName   Entity = "PERSON_NAME"    // Latin-script person name in context

	// Entities of other regions; their validators are in intl.go.
	Phone        Entity = "PHONE"          // phone number outside the mainland (libphonenumber metadata)
	LicensePlate Entity = "LICENSE_PLATE"  // vehicle licence plate
	VIN          Entity = "VIN"            // vehicle identification number (ISO 3779)
	MACAddress   Entity = "MAC_ADDRESS"    // IEEE 802 MAC address
	USPassport   Entity = "US_PASSPORT"    // US passport number (needs context)
	USITIN       Entity = "US_ITIN"        // US individual taxpayer identification number
	KRRRN        Entity = "KR_RRN"         // Korean resident registration number
	INAadhaar    Entity = "IN_AADHAAR"     // Indian Aadhaar number (Verhoeff)
	BRCPF        Entity = "BR_CPF"         // Brazilian CPF
	ESDNI        Entity = "ES_DNI"         // Spanish DNI or NIE
	ITFiscalCode Entity = "IT_FISCAL_CODE" // Italian codice fiscale
	FRNIR        Entity = "FR_NIR"         // French social security number (NIR)
	PLPESEL      Entity = "PL_PESEL"       // Polish PESEL
)

// AllEntities lists every entity a Filter can detect, in a fixed order.
func AllEntities() []Entity { return slices.Clone(allEntities[:]) }

var allEntities = [...]Entity{CNResidentID, CNMobile, CNLandline, BankCard, CNPassport, HKID, TWID, MOID,
	Email, IPAddress, IBAN, USSSN, Coordinates, CNPersonName, CNAddress, PersonName,
	Phone, LicensePlate, VIN, MACAddress, USPassport, USITIN, KRRRN, INAadhaar, BRCPF, ESDNI,
	ITFiscalCode, FRNIR, PLPESEL}

// entityIndex returns the index of e in allEntities, or -1. It is a
// switch rather than a search: emit asks for every candidate.
func entityIndex(e Entity) int {
	switch e {
	case CNResidentID:
		return 0
	case CNMobile:
		return 1
	case CNLandline:
		return 2
	case BankCard:
		return 3
	case CNPassport:
		return 4
	case HKID:
		return 5
	case TWID:
		return 6
	case MOID:
		return 7
	case Email:
		return 8
	case IPAddress:
		return 9
	case IBAN:
		return 10
	case USSSN:
		return 11
	case Coordinates:
		return 12
	case CNPersonName:
		return 13
	case CNAddress:
		return 14
	case PersonName:
		return 15
	case Phone:
		return 16
	case LicensePlate:
		return 17
	case VIN:
		return 18
	case MACAddress:
		return 19
	case USPassport:
		return 20
	case USITIN:
		return 21
	case KRRRN:
		return 22
	case INAadhaar:
		return 23
	case BRCPF:
		return 24
	case ESDNI:
		return 25
	case ITFiscalCode:
		return 26
	case FRNIR:
		return 27
	case PLPESEL:
		return 28
	}
	return -1
}

// Tier is how a finding was established. Higher tiers are more certain.
type Tier int

// The score tiers. Names and addresses are always TierHeuristic: a separate,
// lower-precision tier that policies can treat on its own.
const (
	TierHeuristic       Tier = iota + 1 // grammar and context, no checkable structure (names, addresses)
	TierFormat                          // format only
	TierFormatContext                   // format and a context word nearby
	TierChecksum                        // checksum (or full parse) passed
	TierChecksumContext                 // checksum passed and a context word nearby
)

var tierNames = [...]string{"", "heuristic", "format", "format+context", "checksum", "checksum+context"}

// String returns the tier's name, e.g. "checksum+context".
func (t Tier) String() string {
	if t < TierHeuristic || t > TierChecksumContext {
		return fmt.Sprintf("Tier(%d)", int(t))
	}
	return tierNames[t]
}

// Finding is one piece of personal information.
type Finding struct {
	Entity Entity
	// Start and End are byte offsets of the value in the scanned input
	// (the HTML source for ScanHTML).
	Start, End int
	Score      float64
	Tier       Tier
	// Rule names the rule that matched, e.g. "cn-id-18", "email-cfemail".
	Rule string
}

// Operator says how a finding is redacted.
type Operator int

// The operators.
const (
	// Replace substitutes a typed placeholder, e.g. "[CN_RESIDENT_ID]".
	Replace Operator = iota
	// Mask keeps the last Config.MaskKeep characters and masks the rest with '*'.
	Mask
	// HMAC substitutes a keyed HMAC-SHA256 digest, e.g. "[EMAIL:kfbapj…]":
	// deterministic for one key, so joins still work, but not reversible.
	// The digest is written with the letters a–p only, so it never looks
	// like a number.
	HMAC
	// Drop drops any page with a finding; text is redacted as with Replace.
	Drop
)

var operatorNames = [...]string{"replace", "mask", "hmac", "drop"}

// String returns the operator's name.
func (o Operator) String() string {
	if o < 0 || int(o) >= len(operatorNames) {
		return fmt.Sprintf("Operator(%d)", int(o))
	}
	return operatorNames[o]
}

// ParseOperator parses an operator name as String returns it.
func ParseOperator(s string) (Operator, error) {
	i := slices.Index(operatorNames[:], strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return 0, fmt.Errorf("pii: unknown operator %q (want replace, mask, hmac or drop)", s)
	}
	return Operator(i), nil
}

// Config is a Filter's policy. The zero Config is usable: every entity,
// MinScore 0.5, Replace, sensitive pages dropped.
type Config struct {
	// Entities to detect; nil means all.
	Entities []Entity
	// MinScore is the policy threshold: findings scoring below it are not
	// reported or acted on. Zero means DefaultMinScore.
	MinScore float64
	// Operator redacts findings.
	Operator Operator
	// HMACKey is the per-job secret for the HMAC operator and RedactURL.
	// Empty means a random key, fixed for the Filter's life.
	HMACKey []byte
	// MaskKeep is how many trailing characters Mask keeps, 0–4.
	// Zero means 4; use -1 to keep none.
	MaskKeep int
	// KeepSensitive, when true, redacts sensitive-category pages span by
	// span instead of dropping them. The default drops them.
	KeepSensitive bool
	// ContextBefore and ContextAfter are the context windows in runes
	// around a candidate. Zero means 40 and 20.
	ContextBefore, ContextAfter int
}

// DefaultMinScore is the policy threshold used when Config.MinScore is zero.
const DefaultMinScore = 0.5

// Filter finds and redacts personal information. It is safe for concurrent use.
type Filter struct {
	enabled     [numEntities]bool
	minScore    float64
	op          Operator
	key         []byte
	maskKeep    int
	dropSens    bool
	ctxBefore   int
	ctxAfter    int
	wantNames   bool
	wantAddress bool
	wantEmail   bool
	pool        sync.Pool // *scanner
}

const numEntities = 29

// New returns a Filter for cfg, or an error naming what is wrong with it.
func New(cfg Config) (*Filter, error) {
	f := &Filter{
		minScore:  cfg.MinScore,
		op:        cfg.Operator,
		maskKeep:  cfg.MaskKeep,
		dropSens:  !cfg.KeepSensitive,
		ctxBefore: cfg.ContextBefore,
		ctxAfter:  cfg.ContextAfter,
	}
	if cfg.Entities == nil {
		for i := range f.enabled {
			f.enabled[i] = true
		}
	} else {
		if len(cfg.Entities) == 0 {
			return nil, errors.New("pii: Config.Entities is empty (use nil for all entities)")
		}
		for _, e := range cfg.Entities {
			i := entityIndex(e)
			if i < 0 {
				return nil, fmt.Errorf("pii: unknown entity %q", e)
			}
			f.enabled[i] = true
		}
	}
	switch {
	case f.minScore == 0:
		f.minScore = DefaultMinScore
	case !(f.minScore > 0 && f.minScore <= 1): // NaN included
		return nil, fmt.Errorf("pii: MinScore %v out of range [0, 1]", cfg.MinScore)
	}
	if f.op < Replace || f.op > Drop {
		return nil, fmt.Errorf("pii: unknown operator %d", int(cfg.Operator))
	}
	switch {
	case f.maskKeep == 0:
		f.maskKeep = 4
	case f.maskKeep == -1:
		f.maskKeep = 0
	case f.maskKeep < 0 || f.maskKeep > 4:
		return nil, fmt.Errorf("pii: MaskKeep %d out of range (0–4, or -1 for none): keeping more would keep identifying digits", cfg.MaskKeep)
	}
	if f.ctxBefore == 0 {
		f.ctxBefore = 40
	}
	if f.ctxAfter == 0 {
		f.ctxAfter = 20
	}
	if f.ctxBefore < 0 || f.ctxAfter < 0 || f.ctxBefore > 1000 || f.ctxAfter > 1000 {
		return nil, fmt.Errorf("pii: context window %d/%d runes out of range 0–1000", cfg.ContextBefore, cfg.ContextAfter)
	}
	if len(cfg.HMACKey) > 0 {
		f.key = slices.Clone(cfg.HMACKey)
	} else {
		f.key = make([]byte, 32)
		if _, err := rand.Read(f.key); err != nil {
			return nil, fmt.Errorf("pii: making HMAC key: %w", err)
		}
	}
	f.wantNames = f.on(CNPersonName) || f.on(PersonName)
	f.wantEmail = f.on(Email)
	f.wantAddress = f.on(CNAddress)
	return f, nil
}

func (f *Filter) on(e Entity) bool {
	i := entityIndex(e)
	return i >= 0 && f.enabled[i]
}

// Report summarises what a Filter found on one page or text, without values.
type Report struct {
	// Counts is the number of findings acted on, by entity.
	Counts map[Entity]int
	// Sensitive lists the PIPL Art. 28 categories the page was marked with,
	// e.g. "health", "minors".
	Sensitive []string
	// Drop is true when the page must not be kept at all.
	Drop bool
	// Reason says why Drop is set, e.g. "sensitive: health".
	Reason string
}

// CountsByName returns Counts keyed by entity name, the form audit.PII uses.
func (r Report) CountsByName() map[string]int {
	if len(r.Counts) == 0 {
		return nil
	}
	m := make(map[string]int, len(r.Counts))
	for e, n := range r.Counts {
		m[string(e)] = n
	}
	return m
}
