package playground_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rostermirror/rostermirror/graph/playground"
)

// get requests path from h and returns the response and its body.
func get(t *testing.T, h http.Handler, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// assetRefs matches the page's <script src> and <link href> references.
var assetRefs = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

func TestPage(t *testing.T) {
	t.Parallel()
	h := playground.Handler("/graphql")
	res, body := get(t, h, http.MethodGet, "/", nil)

	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.StatusCode)
	}
	for header, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := res.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	for _, want := range []string{
		"<title>rostermirror</title>",
		`<label for="api-key">API key</label>`,
		`<button id="api-key-save" type="submit">Save</button>`,
		`data-endpoint="/graphql"`,
		`data-default-query="` + html.EscapeString(playground.DefaultQuery),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("page has an inline script or style; the CSP forbids them")
	}

	// The page loads each asset once, relative to itself, from AssetsPath.
	var loaded []string
	for _, m := range assetRefs.FindAllStringSubmatch(body, -1) {
		ref := html.UnescapeString(m[1])
		if ref == "data:," { // the empty favicon
			continue
		}
		u, err := url.Parse(ref)
		if err != nil || u.IsAbs() || u.Host != "" {
			t.Errorf("asset reference %q is not a relative URL", ref)
			continue
		}
		if !strings.HasPrefix("/"+u.Path, playground.AssetsPath) || u.Query().Get("v") == "" {
			t.Errorf("asset reference %q is not %s<name>?v=<hash>", ref, playground.AssetsPath[1:])
		}
		loaded = append(loaded, strings.TrimPrefix("/"+u.Path, playground.AssetsPath))
	}
	wantLoaded := []string{"graphiql.min.css", "playground.css", "react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "playground.js"}
	if !slices.Equal(loaded, wantLoaded) {
		t.Errorf("page loads %q, want %q (in that order)", loaded, wantLoaded)
	}
}

func TestPageHasNoURLToAnotherHost(t *testing.T) {
	t.Parallel()
	_, body := get(t, playground.Handler("/graphql"), http.MethodGet, "/", nil)
	// Absolute and protocol-relative URLs both leave the page's host.
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+`).FindAllString(body, -1); len(m) > 0 {
		t.Errorf("page refers to other hosts: %q", m)
	}
}

func TestPageContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint       string
		wantConnectSrc string
	}{
		{endpoint: "/graphql", wantConnectSrc: "connect-src 'self'"},
		{endpoint: "https://api.example.org/graphql", wantConnectSrc: "connect-src 'self' https://api.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			t.Parallel()
			h := playground.Handler(tt.endpoint)
			res, body := get(t, h, http.MethodGet, "/", nil)
			csp := res.Header.Get("Content-Security-Policy")

			nonce := regexp.MustCompile(`<meta name="csp-nonce" content="([A-Za-z0-9_-]{22})">`).FindStringSubmatch(body)
			if nonce == nil {
				t.Fatalf("page has no csp-nonce meta tag")
			}
			directives := strings.Split(csp, "; ")
			want := []string{
				"default-src 'none'",
				"script-src 'self'",
				"style-src 'self' 'nonce-" + nonce[1] + "'",
				"font-src 'self' data:",
				"img-src 'self' data:",
				tt.wantConnectSrc,
				"base-uri 'none'",
				"form-action 'none'",
				"frame-ancestors 'none'",
			}
			if !slices.Equal(directives, want) {
				t.Errorf("Content-Security-Policy:\n got %q\nwant %q", directives, want)
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("Content-Security-Policy allows something unsafe: %s", csp)
			}

			res2, _ := get(t, h, http.MethodGet, "/", nil)
			if res2.Header.Get("Content-Security-Policy") == csp {
				t.Error("two responses share a nonce")
			}
		})
	}
}

func TestPageEscapesEndpoint(t *testing.T) {
	t.Parallel()
	_, body := get(t, playground.Handler(`/graphql?x="><script>alert(1)</script>`), http.MethodGet, "/", nil)
	if strings.Contains(body, "<script>alert") {
		t.Error("endpoint is not escaped in the page")
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	h := playground.Handler("/graphql")
	_, page := get(t, h, http.MethodGet, "/", nil)

	tests := []struct {
		name        string
		contentType string
		file        string // the file on disk the asset must equal
	}{
		{"graphiql.min.js", "text/javascript; charset=utf-8", "assets/graphiql.min.js"},
		{"graphiql.min.css", "text/css; charset=utf-8", "assets/graphiql.min.css"},
		{"react.production.min.js", "text/javascript; charset=utf-8", "assets/react.production.min.js"},
		{"react-dom.production.min.js", "text/javascript; charset=utf-8", "assets/react-dom.production.min.js"},
		{"playground.js", "text/javascript; charset=utf-8", "ui/playground.js"},
		{"playground.css", "text/css; charset=utf-8", "ui/playground.css"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(want)
			hash := hex.EncodeToString(sum[:])

			res, body := get(t, h, http.MethodGet, playground.AssetsPath+tt.name, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET = %d, want 200", res.StatusCode)
			}
			if body != string(want) {
				t.Errorf("served %d bytes that differ from %s", len(body), tt.file)
			}
			for header, want := range map[string]string{
				"Content-Type":           tt.contentType,
				"Cache-Control":          "public, max-age=31536000, immutable",
				"ETag":                   `"` + hash[:32] + `"`,
				"X-Content-Type-Options": "nosniff",
			} {
				if got := res.Header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			// The page's URL for the asset changes with its content: that is what makes a year of
			// caching safe.
			if ref := playground.AssetsPath[1:] + tt.name + "?v=" + hash[:12]; !strings.Contains(page, ref) {
				t.Errorf("page does not refer to %s", ref)
			}

			res, body = get(t, h, http.MethodGet, playground.AssetsPath+tt.name, http.Header{"If-None-Match": {res.Header.Get("ETag")}})
			if res.StatusCode != http.StatusNotModified || body != "" {
				t.Errorf("GET with If-None-Match = %d with %d bytes, want 304 and none", res.StatusCode, len(body))
			}
			res, body = get(t, h, http.MethodHead, playground.AssetsPath+tt.name, nil)
			if res.StatusCode != http.StatusOK || body != "" || res.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("HEAD = %d, %q, %d bytes; want 200, %q, none", res.StatusCode, res.Header.Get("Content-Type"), len(body), tt.contentType)
			}
		})
	}
}

// TestAssetsMatchSHA256SUMS checks the served (embedded) upstream bundles against assets/SHA256SUMS,
// the hashes refresh.sh verifies npm's files against.
func TestAssetsMatchSHA256SUMS(t *testing.T) {
	t.Parallel()
	h := playground.Handler("/graphql")
	f, err := os.Open("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not \"<sha256>  <file>\"", sc.Text())
		}
		names = append(names, name)
		res, body := get(t, h, http.MethodGet, playground.AssetsPath+name, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: GET = %d, want 200", name, res.StatusCode)
			continue
		}
		sum := sha256.Sum256([]byte(body))
		if got := hex.EncodeToString(sum[:]); got != hash {
			t.Errorf("%s: served sha256 %s, SHA256SUMS says %s", name, got, hash)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"graphiql.min.css", "graphiql.min.js", "react-dom.production.min.js", "react.production.min.js"}
	if !slices.Equal(names, want) {
		t.Errorf("SHA256SUMS lists %q, want %q", names, want)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	h := playground.Handler("/graphql")
	for _, path := range []string{
		"/index.html",
		"/graphql",
		"/playground/",
		"/playground/assets/",
		"/playground/assets/SHA256SUMS",
		"/playground/assets/LICENSE.react",
		"/playground/assets/graphiql.min.js.map",
		"/playground.go",
		"/playground/assets/ui/playground.js",
	} {
		if res, _ := get(t, h, http.MethodGet, path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
	if res, _ := get(t, h, http.MethodPost, "/", nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", res.StatusCode)
	}
}
