// Package playgroundtest drives the GraphiQL playground of package playground in a headless Chromium,
// for tests: the playground's own browser test and end-to-end tests against the real server.
//
// It uses Debian's Chromium at ChromiumPath (apt-get install chromium). When that is missing, tests
// calling it are skipped, unless the CI environment variable is set: then they fail, because CI must
// install it.
package playgroundtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds one RunInBrowser call once the browser has started.
const Timeout = 20 * time.Second

// instrument runs in the page before any of its scripts. It records Content-Security-Policy
// violations and counts the page's fetches, so RunInBrowser can wait for "no request in flight"
// instead of sleeping.
const instrument = `(() => {
  const s = window.__playgroundtest = { inflight: 0, done: 0, last: 0, violations: [] };
  document.addEventListener('securitypolicyviolation', (e) => {
    s.violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
      ' (' + (e.sourceFile || 'page') + ':' + e.lineNumber + ')');
  });
  const fetch = window.fetch.bind(window);
  window.fetch = (...args) => {
    s.inflight++;
    return fetch(...args).finally(() => { s.inflight--; s.done++; s.last = performance.now(); });
  };
})()`

// marker fills the result pane just before the query runs, so the pane's next value is the answer.
const marker = "playgroundtest: waiting for the result"

// resultEditor is the JavaScript expression for GraphiQL 4's result pane (a CodeMirror 5 editor).
const resultEditor = `document.querySelector('.result-window .CodeMirror').CodeMirror`

// RequireChromium returns ChromiumPath if it exists. Otherwise it fails t when the CI environment
// variable is set and skips t when it is not.
func RequireChromium(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing and CI is set: CI must install it (apt-get install chromium)", ChromiumPath)
		}
		t.Skipf("%s is missing; install it to run browser tests: apt-get install chromium", ChromiumPath)
	}
	return ChromiumPath
}

// RunInBrowser opens the playground at pageURL in a fresh headless Chromium (empty profile), saves
// key in the "API key" bar (unless key is empty), runs the query in the editor (the default query:
// the profile is new) with GraphiQL's execute button and returns the text of the result pane, e.g.
// the JSON answer or the server's 401 error. On the way it opens and closes GraphiQL's settings
// dialog, which exercises the page's CSP nonce.
//
// It fails t if the page requests anything from a host other than pageURL's, violates its
// Content-Security-Policy, throws an uncaught JavaScript exception, or takes longer than Timeout.
// On failure it saves a screenshot to t.ArtifactDir() (kept with go test -artifacts).
func RunInBrowser(t testing.TB, pageURL, key string) (resultText string) {
	t.Helper()
	execPath := RequireChromium(t)
	base, err := url.Parse(pageURL)
	if err != nil || base.Host == "" {
		t.Fatalf("playgroundtest: page URL %q is not absolute", pageURL)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(execPath),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc() // waits for Chromium to exit

	logs := &logSink{t: t}
	defer logs.close()
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logs.logf))
	defer cancelBrowser()
	defer func() { _ = chromedp.Cancel(ctx) }() // closes the browser gracefully, then the above

	rec := &recorder{host: base.Host}
	chromedp.ListenTarget(ctx, rec.handle)
	if err := chromedp.Run(ctx); err != nil { // starts the browser outside the timeout below
		t.Fatalf("playgroundtest: start chromium: %v", err)
	}

	fail := func(format string, args ...any) {
		t.Helper()
		screenshot(t, ctx)
		t.Fatalf(format, args...)
	}

	runCtx, cancelRun := context.WithTimeout(ctx, Timeout)
	defer cancelRun()
	err = chromedp.Run(runCtx,
		network.Enable(),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(instrument).Do(ctx)
			return err
		}),
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(`.graphiql-execute-button`, chromedp.ByQuery),
	)
	if err != nil {
		fail("playgroundtest: open %s: %v%s", pageURL, err, rec.summary())
	}

	// GraphiQL fetches the schema on mount, and again after a key is saved (the page remounts it).
	// Wait for each to finish, so no schema answer can land in the result pane after the marker.
	waitIdle := func(fetches int, what string) {
		t.Helper()
		idle := fmt.Sprintf(`(() => {
  const s = window.__playgroundtest;
  return s.inflight === 0 && s.done >= %d && performance.now() - s.last > 250;
})()`, fetches)
		if err := chromedp.Run(runCtx, chromedp.Poll(idle, nil, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			fail("playgroundtest: wait for %s: %v%s", what, err, rec.summary())
		}
	}
	waitIdle(1, "the schema fetch")
	if key != "" {
		var fetches int
		err = chromedp.Run(runCtx,
			chromedp.Evaluate(`window.__playgroundtest.done`, &fetches),
			chromedp.SendKeys(`#api-key`, key, chromedp.ByID),
			chromedp.Click(`#api-key-save`, chromedp.ByID),
		)
		if err != nil {
			fail("playgroundtest: save the API key: %v%s", err, rec.summary())
		}
		waitIdle(fetches+1, "the schema fetch with the key")
	}

	// Open and close the settings dialog: GraphiQL injects a <style> element while a dialog is open,
	// the one thing on the page the Content-Security-Policy admits through its nonce.
	err = chromedp.Run(runCtx,
		chromedp.Click(`.graphiql-sidebar button[aria-label="Open settings dialog"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role="dialog"]`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(`[role="dialog"]`, chromedp.ByQuery),
	)
	if err != nil {
		fail("playgroundtest: open and close the settings dialog: %v%s", err, rec.summary())
	}

	// Run the query: mark the result pane, click execute, wait for our fetch and a new pane value.
	var before int
	err = chromedp.Run(runCtx,
		chromedp.Evaluate(fmt.Sprintf(`%s.setValue(%q); window.__playgroundtest.done`, resultEditor, marker), &before),
		chromedp.Click(`.graphiql-execute-button`, chromedp.ByQuery),
	)
	if err != nil {
		fail("playgroundtest: run the query: %v%s", err, rec.summary())
	}
	answered := fmt.Sprintf(`(() => {
  const s = window.__playgroundtest;
  if (s.done <= %d || s.inflight !== 0) return null;
  const v = %s.getValue();
  return v && v !== %q ? v : null;
})()`, before, resultEditor, marker)
	if err := chromedp.Run(runCtx, chromedp.Poll(answered, &resultText, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		fail("playgroundtest: wait for the result: %v%s", err, rec.summary())
	}

	var violations []string
	if err := chromedp.Run(runCtx, chromedp.Evaluate(`window.__playgroundtest.violations`, &violations)); err != nil {
		fail("playgroundtest: read CSP violations: %v", err)
	}
	if problems := rec.problems(violations); len(problems) > 0 {
		screenshot(t, ctx)
		t.Errorf("playgroundtest: %s:\n%s", pageURL, strings.Join(problems, "\n"))
	}
	return resultText
}

// profileDir returns a fresh, empty Chromium user-data-dir, removed when t ends. Chromium's helper
// processes may still be writing to it for a moment after the browser exits, so removal retries
// (t.TempDir's would fail the test).
func profileDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "playgroundtest-chromium-")
	if err != nil {
		t.Fatalf("playgroundtest: profile dir: %v", err)
	}
	t.Cleanup(func() {
		for range 20 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("playgroundtest: remove Chromium profile %s: %v", dir, err)
	})
	return dir
}

// recorder collects what the page did that a test must know about.
type recorder struct {
	host string // the page's host:port; requests elsewhere are foreign

	mu         sync.Mutex
	foreign    []string
	exceptions []string
	requests   int
}

func (r *recorder) handle(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.requests++
		if !r.local(ev.Request.URL) {
			r.foreign = append(r.foreign, ev.Request.URL)
		}
	case *runtime.EventExceptionThrown:
		r.exceptions = append(r.exceptions, ev.ExceptionDetails.Error())
	}
}

// local reports whether a request URL stays on the page's host (data: and blob: URLs never leave).
func (r *recorder) local(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return true
	case "http", "https":
		return u.Host == r.host
	}
	return false
}

// problems lists foreign requests, uncaught exceptions and the CSP violations given.
func (r *recorder) problems(violations []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.foreign {
		out = append(out, "request to another host: "+u)
	}
	for _, e := range r.exceptions {
		out = append(out, "uncaught exception: "+e)
	}
	// A blocked font or image is reported once per use; list each violation once, with a count.
	counts := make(map[string]int)
	var distinct []string
	for _, v := range violations {
		if counts[v]++; counts[v] == 1 {
			distinct = append(distinct, v)
		}
	}
	for _, v := range distinct {
		out = append(out, fmt.Sprintf("Content-Security-Policy violation: %s (%d×)", v, counts[v]))
	}
	return out
}

// summary is a suffix for a failure message: what the page did so far.
func (r *recorder) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprintf(" (%d requests", r.requests)
	if len(r.exceptions) > 0 {
		s += "; exceptions: " + strings.Join(r.exceptions, "; ")
	}
	return s + ")"
}

// screenshot saves the page as PNG in t.ArtifactDir and logs where.
func screenshot(t testing.TB, browserCtx context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(browserCtx, 5*time.Second)
	defer cancel()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Logf("playgroundtest: no screenshot: %v", err)
		return
	}
	file := filepath.Join(t.ArtifactDir(), "playground.png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("playgroundtest: save screenshot: %v", err)
		return
	}
	t.Logf("playgroundtest: screenshot saved to %s", file)
}

// logSink forwards chromedp's error log to t until close, after which t may be finished.
type logSink struct {
	t      testing.TB
	mu     sync.Mutex
	closed bool
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(msg, "context canceled") {
		return // the browser shutting down at the end of RunInBrowser
	}
	l.t.Logf("chromedp: %s", msg)
}

func (l *logSink) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}
