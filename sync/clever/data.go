package clever

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
)

// Districts streams the token's districts (Clever returns the one district of a district-app token).
func (tc *TokenClient) Districts(ctx context.Context) iter.Seq2[District, error] {
	return List[District](ctx, tc, "/districts", ListOptions{})
}

// Schools streams the schools shared with the app.
func (tc *TokenClient) Schools(ctx context.Context) iter.Seq2[School, error] {
	return List[School](ctx, tc, "/schools", ListOptions{})
}

// Users streams the users shared with the app; roles narrows the list to users holding one of them
// (Clever's role= filter takes one role per request, so several roles are read one after another and a
// user holding two of them is yielded once per role).
func (tc *TokenClient) Users(ctx context.Context, roles ...Role) iter.Seq2[User, error] {
	if len(roles) == 0 {
		return List[User](ctx, tc, "/users", ListOptions{})
	}
	return func(yield func(User, error) bool) {
		for _, role := range roles {
			for u, err := range List[User](ctx, tc, "/users", ListOptions{Query: url.Values{"role": {string(role)}}}) {
				if !yield(u, err) || err != nil {
					return
				}
			}
		}
	}
}

// Sections streams the sections shared with the app.
func (tc *TokenClient) Sections(ctx context.Context) iter.Seq2[Section, error] {
	return List[Section](ctx, tc, "/sections", ListOptions{})
}

// Terms streams the terms shared with the app.
func (tc *TokenClient) Terms(ctx context.Context) iter.Seq2[Term, error] {
	return List[Term](ctx, tc, "/terms", ListOptions{})
}

// Courses streams the courses shared with the app.
func (tc *TokenClient) Courses(ctx context.Context) iter.Seq2[Course, error] {
	return List[Course](ctx, tc, "/courses", ListOptions{})
}

// District reads one district.
func (tc *TokenClient) District(ctx context.Context, id string) (District, error) {
	return Get[District](ctx, tc, "/districts/"+url.PathEscape(id))
}

// School reads one school.
func (tc *TokenClient) School(ctx context.Context, id string) (School, error) {
	return Get[School](ctx, tc, "/schools/"+url.PathEscape(id))
}

// User reads one user.
func (tc *TokenClient) User(ctx context.Context, id string) (User, error) {
	return Get[User](ctx, tc, "/users/"+url.PathEscape(id))
}

// Section reads one section.
func (tc *TokenClient) Section(ctx context.Context, id string) (Section, error) {
	return Get[Section](ctx, tc, "/sections/"+url.PathEscape(id))
}

// Term reads one term.
func (tc *TokenClient) Term(ctx context.Context, id string) (Term, error) {
	return Get[Term](ctx, tc, "/terms/"+url.PathEscape(id))
}

// Course reads one course.
func (tc *TokenClient) Course(ctx context.Context, id string) (Course, error) {
	return Get[Course](ctx, tc, "/courses/"+url.PathEscape(id))
}

// EventOptions narrows an events read.
type EventOptions struct {
	// StartingAfter is the cursor: the id of the last event already processed. Empty starts at the oldest
	// retained event.
	StartingAfter string
	// RecordTypes keeps only events about these record types ("users", "sections", …).
	RecordTypes []string
	// School keeps only events of one school.
	School string
}

// Events streams events oldest first from the cursor in opts, following pages to the newest event.
func (tc *TokenClient) Events(ctx context.Context, opts EventOptions) iter.Seq2[Event, error] {
	q := url.Values{}
	for _, rt := range opts.RecordTypes {
		q.Add("record_type", rt)
	}
	if opts.School != "" {
		q.Set("school", opts.School)
	}
	return List[Event](ctx, tc, "/events", ListOptions{StartingAfter: opts.StartingAfter, Query: q})
}

// Event reads one event.
func (tc *TokenClient) Event(ctx context.Context, id string) (Event, error) {
	return Get[Event](ctx, tc, "/events/"+url.PathEscape(id))
}

// LatestEventID returns the id of the newest event ("" when the district has none), read with
// ending_before=last&limit=1. Save it before a full sync and resume the events feed from it afterwards.
func (tc *TokenClient) LatestEventID(ctx context.Context) (string, error) {
	body, _, err := tc.c.do(ctx, tc.request(http.MethodGet, "/v3.0/events?ending_before=last&limit=1"))
	if err != nil {
		return "", fmt.Errorf("latest event: %w", err)
	}
	pg, err := decodePage(body)
	if err != nil {
		return "", fmt.Errorf("latest event: %w", err)
	}
	if len(pg.items) == 0 {
		return "", nil
	}
	return recordIDOf(pg.items[len(pg.items)-1])
}

func recordIDOf(raw json.RawMessage) (string, error) {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" {
		return "", fmt.Errorf("%w: record without an id", ErrMalformed)
	}
	return head.ID, nil
}
