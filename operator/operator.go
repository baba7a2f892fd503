// Package operator is the page a crawl's contact URL points to: who runs the
// crawler and why, its User-Agent and addresses, how to opt out, its Web
// Bot Auth key directory, and a complaint form. A complaint goes onto the
// job's complaint board (job.Board: OUT/complaints.jsonl or a Redis job),
// from where every worker stops crawling the site at once, as
// "goodbot complaint add" does; the complainant gets a receipt with an
// unguessable id and a status link.
//
// Anyone can fill in a form, so a complaint from it is unconfirmed
// (job.Complaint.Unconfirmed): it stops, which is always safe, and deletes
// nothing until the complainant proves control of the site, by serving the
// receipt's proof token at ProofPath on it (fetched through the gate, see
// GateProver), or until a person confirms it with
// "goodbot complaint resolve".
//
// The form is rate-limited per client, every field is bounded and
// validated (ParseSubmission), output is escaped by html/template, and
// posts need a signed double-submit CSRF token. The complainant's e-mail
// address and message are kept on the board only (the operator needs
// them to answer), the message after the personal-data filter; the
// operation log gets neither.
package operator

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/goodbot/goodbot/job"
	"github.com/goodbot/goodbot/pii"
)

// Config configures the operator page.
type Config struct {
	// Board is the job's complaint board. Required.
	Board job.Board
	// Operator says who runs the crawler (a person or an organisation, and
	// how to reach them by post or phone if they wish). Required.
	Operator string
	// Purpose says what the crawl is for. Required.
	Purpose string
	// UserAgent is the User-Agent the crawler sends
	// (crawler.ParseContact). Required.
	UserAgent string
	// Addresses lists the addresses or networks the crawler sends from,
	// as configured (shown as given).
	Addresses []string
	// HandleWithin is how soon the operator promises to handle a complaint
	// (answer it, and confirm or reject it). No law sets it; the
	// operator does. Required.
	HandleWithin time.Duration
	// KeyDirectory, if set, serves the Web Bot Auth key directory at
	// botauth.DirectoryPath (e.g. botauth.DirectoryHandler).
	KeyDirectory http.Handler
	// AuditDirs are the crawl operation logs that the status page reads
	// to show when each crawl stopped, the last request it sent to the
	// site, and what it deleted. On a Redis job the workers' logs are on
	// their machines; the page then shows their confirmations only.
	AuditDirs []string
	// Prove fetches a proof page (see GateProver). Nil disables proof of
	// control: every complaint then waits for a person.
	Prove Prover
	// Confirmed, if set, is called once a complaint is proven and
	// confirmed on the board, with the complaint as it now stands, so
	// that the deletion can be applied or waited for before the
	// complainant sees the status page (goodbot serve applies it as
	// "goodbot complaint add" does). Its error is logged and shown.
	Confirmed func(ctx context.Context, c job.Complaint) error
	// ProofScheme is the scheme of proof URLs. Default "https"; "http"
	// only for tests on loopback.
	ProofScheme string
	// AllowPrivate lets proofs be fetched from sites that resolve to
	// non-public addresses (loopback, RFC 1918). Only for tests.
	AllowPrivate bool
	// Resolver resolves sites for the private-address check. Default
	// net.DefaultResolver.
	Resolver *net.Resolver
	// Filter redacts personal data in the complainant's message before it
	// is stored. Default: pii.New(pii.Config{}).
	Filter *pii.Filter
	// PostRate and PostBurst limit the posts (complaints, proof checks)
	// of one client. Default one every 20 s, bursts of 5.
	PostRate  rate.Limit
	PostBurst int
	// MaxClients bounds the rate limiter's table. Default 10,000.
	MaxClients int
	// ClientKey names the client of a request for the rate limit. Default:
	// the peer's IP address (a /64 for IPv6). Behind a reverse proxy, read
	// the proxy's header here.
	ClientKey func(*http.Request) string
	// Logger receives operational logs (never the complainant's data).
	// Default slog.Default().
	Logger *slog.Logger
}

//go:embed templates/*.html templates/style.css
var files embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
}).ParseFS(files, "templates/*.html"))

// Handler serves the operator page.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	csrf  *csrf
	limit *clientLimiter
	logs  logCache
	now   func() time.Time
}

// New returns the operator page's handler.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Board == nil:
		return nil, errors.New("operator: a complaint board is required")
	case strings.TrimSpace(cfg.Operator) == "":
		return nil, errors.New("operator: say who operates the crawler")
	case strings.TrimSpace(cfg.Purpose) == "":
		return nil, errors.New("operator: say what the crawl is for")
	case cfg.UserAgent == "":
		return nil, errors.New("operator: the crawler's User-Agent is required")
	case cfg.HandleWithin <= 0:
		return nil, errors.New("operator: set the time within which complaints are handled (HandleWithin above 0)")
	}
	if cfg.ProofScheme == "" {
		cfg.ProofScheme = "https"
	}
	if cfg.ProofScheme != "https" && cfg.ProofScheme != "http" {
		return nil, fmt.Errorf("operator: proof scheme %q: want https (or http for tests)", cfg.ProofScheme)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Filter == nil {
		f, err := pii.New(pii.Config{})
		if err != nil {
			return nil, fmt.Errorf("operator: %w", err)
		}
		cfg.Filter = f
	}
	if cfg.PostRate <= 0 {
		cfg.PostRate = rate.Every(20 * time.Second)
	}
	if cfg.PostBurst <= 0 {
		cfg.PostBurst = 5
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.ClientKey == nil {
		cfg.ClientKey = remoteIP
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Addresses = slices.Clone(cfg.Addresses)
	cfg.AuditDirs = slices.Clone(cfg.AuditDirs)
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), csrf: newCSRF(),
		limit: newLimiter(cfg.PostRate, cfg.PostBurst, cfg.MaxClients),
		logs:  logCache{ttl: 2 * time.Second, m: map[string]cachedViews{}},
		now:   time.Now}
	h.mux.HandleFunc("GET /{$}", h.home)
	h.mux.HandleFunc("GET /style.css", h.style)
	h.mux.HandleFunc("POST /complaints", h.submit)
	h.mux.HandleFunc("GET /complaints/{id}", h.status)
	h.mux.HandleFunc("POST /complaints/{id}/check", h.check)
	if cfg.KeyDirectory != nil {
		h.mux.Handle("GET /.well-known/http-message-signatures-directory", cfg.KeyDirectory)
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the form's posts, which the CSRF check refuses.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// info is what every page shows about the crawler.
type info struct {
	Operator, Purpose, UserAgent string
	Addresses                    []string
	OptOut                       string
	KeyDirectory                 bool
	HandleWithin                 string
}

func (h *Handler) info() info {
	return info{Operator: h.cfg.Operator, Purpose: h.cfg.Purpose, UserAgent: h.cfg.UserAgent,
		Addresses: h.cfg.Addresses, OptOut: "User-agent: goodbot\nDisallow: /\n",
		KeyDirectory: h.cfg.KeyDirectory != nil, HandleWithin: human(h.cfg.HandleWithin)}
}

// human writes d in hours or days.
func human(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days / %d 天", d/(24*time.Hour), d/(24*time.Hour))
	}
	if d >= time.Hour && d%time.Hour == 0 {
		return fmt.Sprintf("%d hours / %d 小时", d/time.Hour, d/time.Hour)
	}
	return d.String()
}

type homePage struct {
	About  info
	CSRF   string
	Site   string
	Email  string
	Msg    string
	Errors map[string]string
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "home.html", homePage{About: h.info(), CSRF: h.csrf.token(w, r)})
}

func (h *Handler) style(w http.ResponseWriter, r *http.Request) {
	b, _ := files.ReadFile("templates/style.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(b)
}

func (h *Handler) render(w http.ResponseWriter, code int, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		h.cfg.Logger.Error("operator: rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	b.WriteTo(w)
}

func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	h.render(w, code, "error.html", struct {
		Code int
		Msg  string
	}{code, msg})
}

// guardPost applies the checks every post passes: the body bound, the rate
// limit and CSRF. It reports whether the request may go on.
func (h *Handler) guardPost(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d bytes. / 表单超过 %d 字节。", MaxBody, MaxBody))
			return false
		}
		h.fail(w, http.StatusBadRequest, "The form could not be read. / 无法读取表单。")
		return false
	}
	if !h.limit.allow(h.cfg.ClientKey(r), h.now()) {
		w.Header().Set("Retry-After", "60")
		h.fail(w, http.StatusTooManyRequests, "Too many submissions from your address; please wait a minute. / 提交过于频繁，请稍后再试。")
		return false
	}
	if !h.csrf.check(r, r.PostForm.Get("csrf")) {
		h.fail(w, http.StatusForbidden, "The form expired or did not come from this page; reload the page and send it again. / 表单已过期或来源不符，请刷新页面后重新提交。")
		return false
	}
	return true
}

// receiptPage is the answer to a complaint.
type receiptPage struct {
	About                             info
	Receipt, StatusURL, Site, Message string
	Token, ProofURL                   string
	HandleBy                          time.Time
}

// reason is what the board, and so the operation log, records as the
// reason of a complaint from the form; the complainant's own words stay
// on the board.
const reason = "complaint through the operator page's form (unconfirmed until proven or confirmed by a person)"

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	if !h.guardPost(w, r) {
		return
	}
	f := r.PostForm
	sub, err := ParseSubmission(f.Get("site"), f.Get("email"), f.Get("message"))
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		h.render(w, http.StatusBadRequest, "home.html", homePage{About: h.info(), CSRF: h.csrf.token(w, r),
			Site: bounded(f.Get("site"), MaxSite), Email: bounded(f.Get("email"), MaxEmail), Msg: bounded(f.Get("message"), MaxMessage),
			Errors: map[string]string{fe.Field: fe.Msg}})
		return
	}
	msg, _ := h.cfg.Filter.RedactText(sub.Message)
	receipt := newSecret()
	token, digest := newProofToken()
	now := h.now().UTC()
	c := job.Complaint{Site: sub.Site, Reason: reason, At: now, Unconfirmed: true,
		Receipt: receipt, ProofSHA256: digest, ReplyTo: sub.Email, Message: msg}
	id, err := h.cfg.Board.Add(r.Context(), c)
	if err != nil {
		h.cfg.Logger.Error("operator: a complaint could not be put on the board", "site", sub.Site, "err", err)
		h.fail(w, http.StatusServiceUnavailable, "The complaint could not be recorded; please try again shortly or write to the operator. / 投诉未能记录，请稍后重试或直接联系运营者。")
		return
	}
	h.cfg.Logger.Warn("operator: complaint received through the form; the site is stopped", "site", sub.Site, "complaint", id)
	h.render(w, http.StatusCreated, "receipt.html", receiptPage{About: h.info(), Receipt: receipt,
		StatusURL: "/complaints/" + receipt, Site: sub.Site, Message: msg, Token: token,
		ProofURL: h.proofURL(sub.Site, receipt), HandleBy: now.Add(h.cfg.HandleWithin)})
}

// bounded cuts an echoed field to n bytes, and to valid UTF-8
// (html/template escapes it).
func bounded(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

func (h *Handler) proofURL(s, receipt string) string {
	return h.cfg.ProofScheme + "://" + s + ProofPath + receipt
}

// find returns the complaint whose receipt is id.
func (h *Handler) find(ctx context.Context, id string) (job.Complaint, bool, error) {
	if !isSecret(id) {
		return job.Complaint{}, false, nil
	}
	cs, err := h.cfg.Board.List(ctx)
	if err != nil {
		return job.Complaint{}, false, err
	}
	for _, c := range cs {
		if c.Receipt != "" && c.Receipt == id {
			return c, true, nil
		}
	}
	return job.Complaint{}, false, nil
}

// statusPage shows where a complaint stands.
type statusPage struct {
	About     info
	CSRF      string
	C         job.Complaint
	Acks      []job.Ack
	Logs      []logView
	HandleBy  time.Time
	Overdue   bool
	ProofURL  string
	CanProve  bool
	Notice    string
	Problem   string
	Stopped   bool // some crawl confirmed the stop
	SentAfter int
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	h.showStatus(w, r, r.PathValue("id"), "", "")
}

func (h *Handler) showStatus(w http.ResponseWriter, r *http.Request, id, notice, problem string) {
	c, ok, err := h.find(r.Context(), id)
	if err != nil {
		h.fail(w, http.StatusServiceUnavailable, "The complaint board cannot be read just now. / 暂时无法读取投诉记录。")
		return
	}
	if !ok {
		h.fail(w, http.StatusNotFound, "No complaint has this receipt. / 没有此回执编号的投诉。")
		return
	}
	acks, err := h.cfg.Board.Acks(r.Context(), c.ID)
	if err != nil {
		h.fail(w, http.StatusServiceUnavailable, "The complaint board cannot be read just now. / 暂时无法读取投诉记录。")
		return
	}
	now := h.now()
	p := statusPage{About: h.info(), CSRF: h.csrf.token(w, r), C: c, Acks: acks,
		Logs:     h.logs.get(r.Context(), h.cfg.AuditDirs, c.Site, c.ID, now),
		HandleBy: c.At.Add(h.cfg.HandleWithin), ProofURL: h.proofURL(c.Site, c.Receipt),
		CanProve: c.Unconfirmed && h.cfg.Prove != nil && c.ProofSHA256 != "", Notice: notice, Problem: problem}
	p.Overdue = !c.Resolved && now.After(p.HandleBy)
	p.Stopped = len(acks) > 0
	for _, l := range p.Logs {
		p.Stopped = p.Stopped || !l.Stopped.IsZero()
		p.SentAfter += l.SentAfter
	}
	code := http.StatusOK
	if problem != "" {
		code = http.StatusUnprocessableEntity
	}
	h.render(w, code, "status.html", p)
}

// check fetches the proof page of a complaint and confirms the complaint
// if the page holds its token.
func (h *Handler) check(w http.ResponseWriter, r *http.Request) {
	if !h.guardPost(w, r) {
		return
	}
	id := r.PathValue("id")
	c, ok, err := h.find(r.Context(), id)
	switch {
	case err != nil:
		h.fail(w, http.StatusServiceUnavailable, "The complaint board cannot be read just now. / 暂时无法读取投诉记录。")
		return
	case !ok:
		h.fail(w, http.StatusNotFound, "No complaint has this receipt. / 没有此回执编号的投诉。")
		return
	case !c.Unconfirmed:
		http.Redirect(w, r, "/complaints/"+id, http.StatusSeeOther)
		return
	case h.cfg.Prove == nil || c.ProofSHA256 == "":
		h.showStatus(w, r, id, "", "Proof of control is not enabled here; the operator confirms the complaint by hand. / 此处未启用网站控制权验证，将由运营者人工确认。")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 45*time.Second)
	defer cancel()
	if !h.cfg.AllowPrivate {
		if err := checkPublic(ctx, h.cfg.Resolver, c.Site); err != nil {
			h.showStatus(w, r, id, "", err.Error())
			return
		}
	}
	body, err := h.cfg.Prove(ctx, c.Site, h.proofURL(c.Site, c.Receipt))
	if err != nil {
		h.cfg.Logger.Info("operator: proof fetch failed", "site", c.Site, "complaint", c.ID, "err", err)
		h.showStatus(w, r, id, "", "The proof page could not be fetched: "+err.Error())
		return
	}
	if !bodyHasToken(body, c.ProofSHA256) {
		h.showStatus(w, r, id, "", "The proof page does not contain the token of this receipt. / 验证页面中没有此回执的令牌。")
		return
	}
	if err := h.cfg.Board.Confirm(r.Context(), c.ID, job.ConfirmedByProof); err != nil && !errors.Is(err, job.ErrConfirmed) {
		h.cfg.Logger.Error("operator: confirming a proven complaint", "complaint", c.ID, "err", err)
		h.fail(w, http.StatusServiceUnavailable, "The complaint board cannot be written just now. / 暂时无法写入投诉记录。")
		return
	}
	h.cfg.Logger.Warn("operator: complaint proven by the site; its data is being deleted", "site", c.Site, "complaint", c.ID)
	defer h.logs.drop(c.ID)
	if h.cfg.Confirmed != nil {
		c.Unconfirmed, c.ConfirmedBy = false, job.ConfirmedByProof
		if err := h.cfg.Confirmed(ctx, c); err != nil {
			h.cfg.Logger.Error("operator: applying a proven complaint", "complaint", c.ID, "err", err)
			h.showStatus(w, r, id, "", "The complaint is confirmed; the deletion is not confirmed yet and will be applied by the crawl. / 投诉已确认；删除尚未完成，将由爬虫执行。")
			return
		}
	}
	http.Redirect(w, r, "/complaints/"+id, http.StatusSeeOther)
}
