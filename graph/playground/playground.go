// Package playground serves a GraphiQL playground for the rostermirror GraphQL API that works offline.
//
// GraphiQL 4.1.2 and React 18.2.0 are vendored in assets/ (fetched from npm by refresh.sh and checked
// against assets/SHA256SUMS) and embedded in the binary, so the page loads nothing from a CDN. The page
// has a small "API key" bar above GraphiQL; the saved key lives in the browser's localStorage and is
// sent as "Authorization: Bearer <key>" with every request to the GraphQL endpoint.
package playground

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// AssetsPath is the path under which Handler serves the page's scripts and stylesheets.
const AssetsPath = "/playground/assets/"

// DefaultQuery is the query the editor shows on a first visit.
const DefaultQuery = `{
  districts(first: 5) {
    totalCount
    edges {
      node {
        id
        name
      }
    }
  }
}
`

// files holds the vendored upstream bundles (assets/, listed in assets/SHA256SUMS) and the
// playground's own script and stylesheet (ui/).
//
//go:embed assets/graphiql.min.js assets/graphiql.min.css
//go:embed assets/react.production.min.js assets/react-dom.production.min.js
//go:embed ui/playground.js ui/playground.css
var files embed.FS

// assetFiles are the embedded files Handler serves. The page links the stylesheets (.css) in its head
// and the scripts (.js) at the end of its body, each in the order listed here.
var assetFiles = []string{
	"assets/react.production.min.js",
	"assets/react-dom.production.min.js",
	"assets/graphiql.min.css",
	"assets/graphiql.min.js",
	"ui/playground.css",
	"ui/playground.js",
}

// asset is one embedded file ready to serve.
type asset struct {
	name        string
	body        []byte
	contentType string
	etag        string
	// url is the page's reference to the asset, relative to the page (so the handler also works
	// mounted under a prefix) and carrying a content hash (so a year of caching is safe).
	url string
}

// Handler returns the playground: GET / serves the page, which mounts GraphiQL against endpoint (a
// path such as "/graphql", or an absolute URL); GET /playground/assets/{name} serves its scripts and
// stylesheets. Every other path is answered 404, and other methods on those paths 405.
//
// The page carries a strict Content-Security-Policy: scripts, styles, fonts and images from the
// page's own origin only (fonts and images also as data: URLs, which graphiql.min.css uses), fetches
// to the page's origin and endpoint's, no inline script, no eval. The one exception is a <style>
// element GraphiQL injects while a dialog is open; it is allowed through a per-response nonce.
func Handler(endpoint string) http.Handler {
	assets := make(map[string]*asset, len(assetFiles))
	var styles, scripts []string
	for _, name := range assetFiles {
		body, err := files.ReadFile(name)
		if err != nil {
			panic("playground: embedded asset missing: " + name) // the embed patterns above list them
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		base := path.Base(name)
		a := &asset{
			name:        base,
			body:        body,
			contentType: contentType(base),
			etag:        `"` + hash[:32] + `"`,
			url:         strings.TrimPrefix(AssetsPath, "/") + base + "?v=" + hash[:12],
		}
		assets[base] = a
		switch path.Ext(base) {
		case ".css":
			styles = append(styles, a.url)
		case ".js":
			scripts = append(scripts, a.url)
		}
	}

	p := &page{
		assets:     assets,
		connectSrc: connectSources(endpoint),
		data: pageData{
			Title:        "rostermirror",
			Endpoint:     endpoint,
			DefaultQuery: DefaultQuery,
			Styles:       styles,
			Scripts:      scripts,
		},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.servePage)
	mux.HandleFunc("GET "+AssetsPath+"{name}", p.serveAsset)
	return mux
}

// page serves the playground page and its assets.
type page struct {
	assets     map[string]*asset
	connectSrc string
	data       pageData
}

// pageData is what pageTemplate renders.
type pageData struct {
	Title        string
	Nonce        string
	Endpoint     string
	DefaultQuery string
	Styles       []string
	Scripts      []string
}

// pageTemplate is the playground page. It holds no inline script or style: settings reach
// playground.js through data attributes, and the nonce through a meta tag.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csp-nonce" content="{{.Nonce}}">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
{{- range .Styles}}
<link rel="stylesheet" href="{{.}}">
{{- end}}
</head>
<body>
<form id="key-bar" class="key-bar" autocomplete="off">
<label for="api-key">API key</label>
<input id="api-key" name="api-key" type="password" spellcheck="false" placeholder="paste your API key">
<button id="api-key-save" type="submit">Save</button>
<span id="api-key-status" class="status" role="status"></span>
</form>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-default-query="{{.DefaultQuery}}">
<div class="loading">Loading…</div>
</div>
{{- range .Scripts}}
<script src="{{.}}"></script>
{{- end}}
</body>
</html>
`))

func (p *page) servePage(w http.ResponseWriter, r *http.Request) {
	data := p.data
	data.Nonce = newNonce()
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "render playground: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.contentSecurityPolicy(data.Nonce))
	h.Set("Cache-Control", "no-store") // the nonce is new on every response
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

// contentSecurityPolicy is the page's policy for a response carrying nonce. GraphiQL 4 needs neither
// 'unsafe-eval' nor 'unsafe-inline' (the browser test fails on any violation).
func (p *page) contentSecurityPolicy(nonce string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + nonce + "'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + p.connectSrc,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

func (p *page) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := p.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	// The page asks for each asset with its hash in the query, so a changed file has a new URL.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

// connectSources is the CSP connect-src value: the page's origin, plus endpoint's when it is an
// absolute URL.
func connectSources(endpoint string) string {
	src := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		src += " " + u.Scheme + "://" + u.Host
	}
	return src
}

// contentType is the Content-Type for an asset file name.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "application/octet-stream"
	}
}

// newNonce returns a fresh CSP nonce: 128 random bits, unpadded base64url.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
