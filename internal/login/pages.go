package login

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/rostermirror/rostermirror/ent/loginstate"
)

// page is a plain HTML page for a person in a browser: what happened and what to do.
type page struct {
	Status     int
	Title      string
	Paragraphs []string
	// Action and Href are a link to go on with ("" for none).
	Action, Href string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5;color:#222}a{color:#1464c8}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Href}}<p><a href="{{.Href}}">{{.Action}}</a></p>
{{end}}</body>
</html>
`))

// render writes p. The headers keep it out of caches, frames and Referer headers: the URL it answers
// carries a code and a state.
func render(w http.ResponseWriter, p page) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil { // strings only: cannot fail
		http.Error(w, p.Title, p.Status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(p.Status)
	w.Write(buf.Bytes())
}

// startAgain is the link to a fresh sign-in.
func (s *Service) startAgain(p page) page {
	p.Action, p.Href = "Sign in with Clever again", s.cfg.PublicURL+LoginPath
	return p
}

// statePage explains why a state was refused. purpose is the state's when it could be read ("" when it
// was forged or malformed).
func (s *Service) statePage(err error, purpose loginstate.Purpose) page {
	invite := purpose == loginstate.PurposeINVITE
	p := page{Status: http.StatusBadRequest}
	switch {
	case errors.Is(err, errStateExpired) && invite:
		p.Title = "This invite link has expired"
		p.Paragraphs = []string{fmt.Sprintf("Invite links work for %s after they are made, and this one is older.", human(s.cfg.InviteTTL)),
			"Nothing was changed. Ask whoever sent you the link for a new one."}
		return p
	case errors.Is(err, errStateExpired):
		p.Title = "This sign-in took too long"
		p.Paragraphs = []string{fmt.Sprintf("A sign-in must be finished within %s of starting it.", human(s.cfg.StateTTL)),
			"Nothing was changed. Start again; it only takes a moment."}
		return s.startAgain(p)
	case errors.Is(err, errStateUsed) && invite:
		p.Title = "This invite link was already used"
		p.Paragraphs = []string{"An invite link works for one sign-in, and someone has already signed in with this one.",
			"Nothing was changed. If your district is not set up yet, ask whoever sent you the link for a new one; to sign in, use Clever directly."}
		return p
	case errors.Is(err, errStateUsed):
		p.Title = "This sign-in was already completed"
		p.Paragraphs = []string{"Each sign-in link works once. Going back, or reloading the page after signing in, sends it a second time.",
			"Nothing was changed. Start again to sign in."}
		return s.startAgain(p)
	case errors.Is(err, errStateBrowser):
		p.Title = "This sign-in was started in another browser"
		p.Paragraphs = []string{"A sign-in must be finished in the browser that started it, and this browser did not start this one — or its sign-in cookie was lost (cookies blocked or cleared, a private window, or another sign-in started since).",
			"Nothing was changed. Start again in this browser. If someone sent you this link, do not use it: sign in with your own Clever account."}
		return s.startAgain(p)
	case errors.Is(err, errStateUnknown):
		p.Title = "This sign-in link is not on record"
		p.Paragraphs = []string{"The link was made by this service but is no longer on record: it was made long ago, or by another installation.",
			"Nothing was changed. Start signing in again; if you followed an invite link, ask whoever sent it for a new one."}
		return s.startAgain(p)
	default: // errStateForged
		p.Title = "This sign-in link is not valid"
		p.Paragraphs = []string{"The link was not made by this service, or it was changed on the way — for instance cut short when it was copied.",
			"Nothing was changed. Start signing in again; if you followed an invite link, copy the whole link again or ask whoever sent it for a new one."}
		return s.startAgain(p)
	}
}

// human renders a TTL for people: "10 minutes", "7 days".
func human(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(int64(d.Round(time.Second)/time.Second), "second")
}
