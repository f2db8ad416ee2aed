package clever

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Link is one entry of a response's "links".
type Link struct {
	Rel string `json:"rel"`
	URI string `json:"uri"`
}

// page is a decoded list response.
type page struct {
	items []json.RawMessage
	next  string // path+query of links[rel=next], "" on the last page
}

// ListOptions narrows a list request.
type ListOptions struct {
	// StartingAfter starts the list after this id (an id range: the id need not exist).
	StartingAfter string
	// Query holds extra filters, e.g. role=student.
	Query url.Values
}

// List streams the records of a list endpoint (path relative to /v3.0, e.g. "/sections/ID/users"),
// following links[rel=next] until Clever stops sending one. A page is fetched, read whole and decoded
// before any of its records is yielded, so a page that fails part-way is retried or reported and never
// half-delivered. While the caller works through one page the next is fetched and decoded in the
// background, so Clever's latency overlaps the caller's work; memory stays bounded by two pages whatever
// the size of the list. Stopping the iteration (or cancelling ctx) stops the background fetch before List
// returns. The sequence ends after the first error, which wraps the request's error (test it with
// errors.Is / errors.As).
func List[T any, P record[T]](ctx context.Context, tc *TokenClient, path string, opts ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := url.Values{}
		for k, v := range opts.Query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(tc.c.cfg.PageLimit))
		if opts.StartingAfter != "" {
			q.Set("starting_after", opts.StartingAfter)
		}
		fetchCtx, cancel := context.WithCancel(ctx)
		pages := make(chan decodedPage[T]) // unbuffered: at most one page waits while the caller works
		complete := false                  // set by the fetcher before it closes pages, read after: the close orders them
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(pages)
			next := "/v3.0" + path + "?" + q.Encode()
			for n := 1; next != ""; n++ {
				pg := fetchPage[T, P](fetchCtx, tc, path, next, n)
				select {
				case pages <- pg:
				case <-fetchCtx.Done():
					return
				}
				if pg.err != nil {
					return
				}
				next = pg.next
			}
			complete = true
		})
		defer func() {
			cancel()
			wg.Wait()
		}()
		for pg := range pages {
			if pg.err != nil {
				yield(zero, pg.err)
				return
			}
			for _, rec := range pg.records {
				if !yield(rec, nil) {
					return
				}
			}
		}
		// The fetcher stops without a page when ctx is cancelled between pages: the list is incomplete.
		if !complete {
			yield(zero, fmt.Errorf("list %s: %w", path, cmp.Or(ctx.Err(), context.Canceled)))
		}
	}
}

// decodedPage is one page of typed records, or the error that ended the list.
type decodedPage[T any] struct {
	records []T
	next    string
	err     error
}

// fetchPage fetches page n of a list and decodes its records.
func fetchPage[T any, P record[T]](ctx context.Context, tc *TokenClient, path, pathQuery string, n int) decodedPage[T] {
	pg, err := tc.getPage(ctx, pathQuery)
	if err != nil {
		return decodedPage[T]{err: fmt.Errorf("list %s: page %d: %w", path, n, err)}
	}
	out := decodedPage[T]{records: make([]T, 0, len(pg.items)), next: pg.next}
	for i, raw := range pg.items {
		rec, err := decodeRecord[T, P](raw)
		if err != nil {
			return decodedPage[T]{err: fmt.Errorf("list %s: page %d: record %d (%s): %w: %v", path, n, i+1, recordID(raw), ErrMalformed, err)}
		}
		out.records = append(out.records, rec)
	}
	return out
}

// Get reads one record (path relative to /v3.0, e.g. "/users/ID" or "/sections/ID/term").
func Get[T any, P record[T]](ctx context.Context, tc *TokenClient, path string) (T, error) {
	var zero T
	body, _, err := tc.c.do(ctx, tc.request(http.MethodGet, "/v3.0"+path))
	if err != nil {
		return zero, fmt.Errorf("get %s: %w", path, err)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Data) == 0 || env.Data[0] != '{' {
		return zero, fmt.Errorf("get %s: %w: %s", path, ErrMalformed, describeBody(body, err))
	}
	rec, err := decodeRecord[T, P](env.Data)
	if err != nil {
		return zero, fmt.Errorf("get %s: %w: %v", path, ErrMalformed, err)
	}
	return rec, nil
}

// request builds a Data API request for a path+query that starts with "/".
func (tc *TokenClient) request(method, pathQuery string) request {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tc.token.Reveal())
	return request{
		method:    method,
		url:       tc.c.cfg.APIURL + pathQuery,
		path:      pathQuery,
		header:    h,
		retryable: true,
		rate:      tc,
	}
}

// getPage fetches and decodes one list page.
func (tc *TokenClient) getPage(ctx context.Context, pathQuery string) (page, error) {
	body, _, err := tc.c.do(ctx, tc.request(http.MethodGet, pathQuery))
	if err != nil {
		return page{}, err
	}
	return decodePage(body)
}

// decodePage reads Clever's list envelope. It also takes the bare {"resources": []} that Clever sends
// for resources lists of tokens without resources.
func decodePage(body []byte) (page, error) {
	var env struct {
		Data *[]struct {
			Data json.RawMessage `json:"data"`
		} `json:"data"`
		Links     []Link          `json:"links"`
		Resources json.RawMessage `json:"resources"`
	}
	if err := unmarshal(body, &env); err != nil {
		return page{}, fmt.Errorf("%w: %s", ErrMalformed, describeBody(body, err))
	}
	if env.Data == nil {
		if env.Resources != nil {
			return page{}, nil
		}
		return page{}, fmt.Errorf("%w: list response has no \"data\" array", ErrMalformed)
	}
	pg := page{items: make([]json.RawMessage, 0, len(*env.Data))}
	for i, item := range *env.Data {
		if len(item.Data) == 0 || item.Data[0] != '{' {
			return page{}, fmt.Errorf("%w: data[%d] has no \"data\" object", ErrMalformed, i)
		}
		pg.items = append(pg.items, item.Data)
	}
	for _, l := range env.Links {
		if l.Rel == "next" {
			next, err := relativeLink(l.URI)
			if err != nil {
				return page{}, err
			}
			// Clever may send a next link on a page that reached the end (following it gives an empty
			// page); an empty page ends the list either way.
			if len(pg.items) > 0 {
				pg.next = next
			}
		}
	}
	return pg, nil
}

// relativeLink checks that a paging link is a path (Clever's links are relative: "/v3.0/users?…") and
// returns it; it is then resolved under Config.APIURL, which keeps a proxy's path prefix.
func relativeLink(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("%w: next link %q is not a path", ErrMalformed, uri)
	}
	return u.RequestURI(), nil
}

// recordID names a record in an error by its id (never by a person's fields).
func recordID(raw []byte) string {
	if id, err := recordIDOf(raw); err == nil {
		return "id " + id
	}
	return "no id"
}

// describeBody says what was wrong with a body in a short message: the decoding error, or the start of a
// body that is not JSON (an HTML page, say).
func describeBody(body []byte, err error) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '[' {
		return "body is not JSON: " + errorMessage(trimmed)
	}
	if err != nil {
		return err.Error()
	}
	return "unexpected body"
}
