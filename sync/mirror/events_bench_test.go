package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/internal/dbtest"
	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// BenchmarkEventsRun measures an events run that applies 100 changes — 80 users renamed, 10 sections
// whose period changed, 5 students unshared and 5 reshared — in districts of 10,000, 100,000 and
// 1,000,000 students, after a full sync (not timed). The goal: 100 changes in ≤ 1 s at 100,000, and the
// cost independent of the district's size. The simulator serves the events over loopback; the
// database is TEST_DATABASE_URL's (Postgres; SQLite when unset).
//
//	TEST_DATABASE_URL=postgres://… go test ./sync/mirror -run '^$' -bench 'EventsRun/(10k|100k)$' -benchtime 5x
//	… -bench 'EventsRun/1M$' -benchtime 3x -timeout 60m     (the 1M district's first sync takes minutes)
func BenchmarkEventsRun(b *testing.B) {
	for _, size := range []struct {
		name     string
		students int
	}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) { benchEvents(b, size.students) })
	}
}

func benchEvents(b *testing.B, students int) {
	data := synth.Generate(synth.Config{Seed: 4, Schools: 60, Students: students, Teachers: students / 20, Staff: 100,
		DistrictAdmins: 4, Contacts: 0, Sections: students / 25, Courses: 3_000, Terms: 4})
	sim, err := cleversim.New(cleversim.Config{Dataset: data, RateLimit: -1, EventRetention: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	var head struct{ ID string }
	json.Unmarshal(data.Districts[0], &head)
	districtID := head.ID
	client := clever.New(clever.Config{APIURL: srv.URL})
	tok := clever.Token(sim.DistrictToken(districtID))
	ctx := context.Background()
	e, err := New(Config{DB: dbtest.New(b), Reader: func(t clever.Token) Reader { return client.WithToken(t) }, Tokens: benchTokens{tok}})
	if err != nil {
		b.Fatal(err)
	}
	if res, err := e.SyncDistrict(ctx, districtID, Options{Mode: ModeFull}); err != nil || res.Status != StatusSucceeded {
		b.Fatalf("first sync: %v %v", err, res.Errors)
	}
	var userIDs, studentIDs, sectionIDs []string
	for _, raw := range data.Users {
		var u struct {
			ID    string
			Roles map[string]json.RawMessage
		}
		json.Unmarshal(raw, &u)
		userIDs = append(userIDs, u.ID)
		if _, ok := u.Roles["student"]; ok {
			studentIDs = append(studentIDs, u.ID)
		}
	}
	for _, raw := range data.Sections {
		var s struct{ ID string }
		json.Unmarshal(raw, &s)
		sectionIDs = append(sectionIDs, s.ID)
	}
	var took time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		for i := range 80 {
			id := userIDs[(round*97+i*131)%len(userIDs)]
			if err := sim.Modify(cleversim.KindUsers, id, json.RawMessage(fmt.Sprintf(`{"name":{"middle":"R%d"}}`, round))); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 10 {
			if err := sim.Modify(cleversim.KindSections, sectionIDs[(round*7+i*13)%len(sectionIDs)], json.RawMessage(fmt.Sprintf(`{"period":"P%d"}`, round))); err != nil {
				b.Fatal(err)
			}
		}
		gone := studentIDs[round*5%len(studentIDs) : round*5%len(studentIDs)+5]
		for _, id := range gone {
			if err := sim.Unshare(cleversim.KindUsers, id); err != nil {
				b.Fatal(err)
			}
		}
		if round > 0 { // last round's unshared students come back
			back := studentIDs[(round-1)*5%len(studentIDs) : (round-1)*5%len(studentIDs)+5]
			for _, id := range back {
				if err := sim.Reshare(cleversim.KindUsers, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		round++
		b.StartTimer()
		start := time.Now()
		res, err := e.SyncDistrict(ctx, districtID, Options{Mode: ModeEvents})
		took += time.Since(start)
		if err != nil || res.Status != StatusSucceeded || res.Kind != "EVENTS" {
			b.Fatalf("events run: %v %s %s %v", err, res.Kind, res.Status, res.Errors)
		}
		if u := res.Counts["users"]; u.Archived != 5 || u.Updated < 75 {
			b.Fatalf("events run did not apply the changes: users %+v", u)
		}
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/run")
}
