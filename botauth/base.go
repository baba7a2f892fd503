package botauth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dunglas/httpsfv"
)

// component is a covered component identifier (RFC 9421 section 2): a
// derived component ("@authority") or a field name in lower case, with the
// parameters goodbot uses: key, which selects one member of a Dictionary
// field (section 2.1.2), and req, which reads a response's component from
// the request it answers (section 2.4).
type component struct {
	name string
	key  string
	req  bool
}

func (c component) item() httpsfv.Item {
	it := httpsfv.NewItem(c.name)
	if c.key != "" {
		it.Params.Add("key", c.key)
	}
	if c.req {
		it.Params.Add("req", true)
	}
	return it
}

// param is one signature parameter, in the order it is serialized.
type param struct {
	name  string
	value any // int64 or string
}

// input is one signature's covered components and parameters: the inner
// list of its Signature-Input member.
type input struct {
	components []component
	params     []param
}

// message holds what component values are read from: a request, or a
// response with the request it answers.
type message struct {
	method    string
	authority string // normalized host[:port]
	path      string // absolute path, escaped
	header    http.Header
	// req is the request a response answers, for components with req.
	req *message
}

// base returns the signature base for in over m (RFC 9421 section 2.5), and
// the serialized inner list, which is both the value of
// "@signature-params" and that of the Signature-Input member.
func (in input) base(m message) (base, sigParams string, err error) {
	il := httpsfv.InnerList{Params: httpsfv.NewParams()}
	var b strings.Builder
	for _, c := range in.components {
		it := c.item()
		id, err := httpsfv.Marshal(it)
		if err != nil {
			return "", "", fmt.Errorf("botauth: component %q: %w", c.name, err)
		}
		v, err := c.value(m)
		if err != nil {
			return "", "", err
		}
		b.WriteString(id)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\n")
		il.Items = append(il.Items, it)
	}
	for _, p := range in.params {
		il.Params.Add(p.name, p.value)
	}
	sigParams, err = httpsfv.Marshal(il)
	if err != nil {
		return "", "", fmt.Errorf("botauth: signature parameters: %w", err)
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(sigParams)
	return b.String(), sigParams, nil
}

// value returns the component value of c in m.
func (c component) value(m message) (string, error) {
	if c.req {
		if m.req == nil {
			return "", fmt.Errorf("botauth: component %q;req needs the request", c.name)
		}
		m = *m.req
	}
	switch c.name {
	case "@method":
		return m.method, nil
	case "@authority":
		return m.authority, nil
	case "@path":
		if m.path == "" {
			return "/", nil
		}
		return m.path, nil
	}
	if strings.HasPrefix(c.name, "@") {
		return "", fmt.Errorf("botauth: derived component %q is not supported", c.name)
	}
	lines, ok := m.header[http.CanonicalHeaderKey(c.name)]
	if !ok {
		return "", fmt.Errorf("botauth: covered field %q is not in the message", c.name)
	}
	if c.key == "" {
		// Section 2.1: each line's value trimmed, joined with ", ".
		vs := make([]string, len(lines))
		for i, l := range lines {
			vs[i] = strings.TrimSpace(l)
		}
		return strings.Join(vs, ", "), nil
	}
	// Section 2.1.2: the field is parsed as a Dictionary and the member's
	// value serialized.
	d, err := httpsfv.UnmarshalDictionary(lines)
	if err != nil {
		return "", fmt.Errorf("botauth: field %q is not a Dictionary: %w", c.name, err)
	}
	mem, ok := d.Get(c.key)
	if !ok {
		return "", fmt.Errorf("botauth: field %q has no member %q", c.name, c.key)
	}
	v, err := marshalMember(mem)
	if err != nil {
		return "", fmt.Errorf("botauth: field %q member %q: %w", c.name, c.key, err)
	}
	return v, nil
}

func marshalMember(m httpsfv.Member) (string, error) {
	switch v := m.(type) {
	case httpsfv.Item:
		return httpsfv.Marshal(v)
	case httpsfv.InnerList:
		return httpsfv.Marshal(v)
	}
	return "", fmt.Errorf("unexpected member type %T", m)
}
