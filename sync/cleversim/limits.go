package cleversim

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const rateWindow = time.Minute

// rateLimiter keeps Clever's fixed one-minute window per bearer token. A token's window starts with its
// first request after the previous window ended (the recorded X-RateLimit-Reset values are not aligned
// to minutes) and is aligned to whole seconds so that X-RateLimit-Reset is exact.
type rateLimiter struct {
	mu        sync.Mutex
	windows   map[string]*rateWindowState
	lastSweep time.Time
}

type rateWindowState struct {
	end   time.Time
	count int
}

// rateStatus is the outcome of one request against its token's window.
type rateStatus struct {
	ok        bool
	limit     int
	remaining int
	reset     time.Time
}

func newRateLimiter() *rateLimiter {
	return &rateLimiter{windows: map[string]*rateWindowState{}}
}

// take counts one request of key at now. limit < 0 means unlimited.
func (l *rateLimiter) take(key string, now time.Time, limit int) rateStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.windows) > 1024 && now.Sub(l.lastSweep) >= rateWindow {
		for k, w := range l.windows {
			if !now.Before(w.end) {
				delete(l.windows, k)
			}
		}
		l.lastSweep = now
	}
	w := l.windows[key]
	if w == nil || !now.Before(w.end) {
		w = &rateWindowState{end: now.Truncate(time.Second).Add(rateWindow)}
		l.windows[key] = w
	}
	w.count++
	if limit < 0 {
		return rateStatus{ok: true, limit: math.MaxInt32, remaining: math.MaxInt32, reset: w.end}
	}
	return rateStatus{ok: w.count <= limit, limit: limit, remaining: max(0, limit-w.count), reset: w.end}
}

// setHeaders writes the four headers Clever sends on every api.clever.com response.
func (st rateStatus) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Bucket", "bearer")
	h.Set("X-RateLimit-Limit", strconv.Itoa(st.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(st.reset.Unix(), 10))
}

type faultKind int

const (
	faultNone faultKind = iota
	faultServerError
	faultRateLimit
	faultCut
)

// fault is what to do to one request.
type fault struct {
	kind    faultKind
	latency time.Duration
	status  int     // faultServerError
	html    bool    // faultServerError: HTML body
	cutAt   float64 // faultCut: share of the body sent before the cut
}

// faultState draws faults from a seeded generator, one draw sequence per request.
type faultState struct {
	mu     sync.Mutex
	f      Faults
	rng    *rand.Rand
	storms map[string]int // token → 429s still due
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x636c65766572)) // "clever"
	fs.storms = map[string]int{}
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

func validateFaults(f Faults) error {
	for _, r := range []float64{f.ErrorRate, f.RateLimitRate, f.CutRate} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			return fmt.Errorf("validate faults: rate %v outside [0,1]", r)
		}
	}
	if f.ErrorRate+f.RateLimitRate+f.CutRate > 1+1e-9 {
		return errors.New("validate faults: rates sum above 1")
	}
	if f.Latency < 0 {
		return errors.New("validate faults: negative latency")
	}
	return nil
}

// draw decides the fault for the next request of token.
func (fs *faultState) draw(token string) fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := fault{latency: fs.f.Latency}
	if n := fs.storms[token]; n > 0 {
		if n == 1 {
			delete(fs.storms, token)
		} else {
			fs.storms[token] = n - 1
		}
		out.kind = faultRateLimit
		return out
	}
	if fs.f.ErrorRate == 0 && fs.f.RateLimitRate == 0 && fs.f.CutRate == 0 {
		return out
	}
	p := fs.rng.Float64()
	switch {
	case p < fs.f.ErrorRate:
		out.kind = faultServerError
		out.status = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[fs.rng.IntN(3)]
		out.html = fs.rng.IntN(2) == 0
	case p < fs.f.ErrorRate+fs.f.RateLimitRate:
		out.kind = faultRateLimit
		fs.storms[token] = 1 + fs.rng.IntN(4) // this 429 and 1–4 more
	case p < fs.f.ErrorRate+fs.f.RateLimitRate+fs.f.CutRate:
		out.kind = faultCut
		out.cutAt = 0.1 + 0.8*fs.rng.Float64()
	}
	return out
}

// serverErrorResponse is an injected 5xx: JSON {"message"} from the API, or the HTML a load balancer
// in front of it answers.
func serverErrorResponse(status int, html bool) response {
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	if !html {
		return messageResponse(status, http.StatusText(status))
	}
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
	return response{status: status, contentType: "text/html", body: []byte(body)}
}

// cutResponse sends the status line and headers with the full Content-Length, then the first share of
// the body, and closes the connection. Where the connection cannot be hijacked (HTTP/2, recorders) the
// short body is written through w, which makes net/http abort the connection as well.
func cutResponse(w http.ResponseWriter, resp response, share float64) {
	n := min(max(1, int(float64(len(resp.body))*share)), len(resp.body)-1)
	h := w.Header()
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.WriteHeader(resp.status)
		w.Write(resp.body[:n])
		return
	}
	defer conn.Close()
	writeRaw(brw.Writer, resp.status, h, resp.body[:n])
}

func writeRaw(bw *bufio.Writer, status int, h http.Header, body []byte) {
	fmt.Fprintf(bw, "HTTP/1.1 %03d %s\r\n", status, http.StatusText(status))
	h.Write(bw)
	bw.WriteString("Connection: close\r\n\r\n")
	bw.Write(body)
	bw.Flush()
}
