package clever_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/rostermirror/rostermirror/sync/clever"
	"github.com/rostermirror/rostermirror/sync/cleversim"
	"github.com/rostermirror/rostermirror/sync/cleversim/synth"
)

// bigDistrict is the benchmark district of issue 2: 100,000 students, 5,000 teachers, 4,000 sections.
var bigDistrict = sync.OnceValue(func() *cleversim.Dataset {
	return synth.Generate(synth.Config{Seed: 2, Schools: 60, Students: 100_000, Teachers: 5_000, Staff: 400,
		DistrictAdmins: 6, Contacts: 0, Sections: 4_000, Courses: 3_000, Terms: 4})
})

// benchServer serves the big district over loopback TCP with no rate limit.
func benchServer(b *testing.B) (*httptest.Server, clever.Token, int) {
	data := bigDistrict()
	sim, err := cleversim.New(cleversim.Config{Dataset: data, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	records := len(data.Districts) + len(data.Schools) + len(data.Users) + len(data.Sections) + len(data.Terms) + len(data.Courses)
	return srv, clever.Token(sim.DistrictToken(districtIDOf(data))), records
}

// heapBytes is the heap held by live and not yet swept objects, read without stopping the world.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkReadDistrict reads every record of the big district with the client (limit=10000 pages,
// decoded into typed records) and, as the reference in the same run, pages the same data raw (bodies
// read, only the links decoded). Metrics: records/s, and allocations per record (client and simulator
// together, as both run in this process; client-only = client − raw-pages).
//
//	go test ./sync/clever -run '^$' -bench ReadDistrict -benchtime 3x
func BenchmarkReadDistrict(b *testing.B) {
	srv, tok, records := benchServer(b)
	measure := func(b *testing.B, read func() int) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		total := 0
		for b.Loop() {
			total += read()
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		if total != records*b.N {
			b.Fatalf("read %d records, want %d", total, records*b.N)
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(total), "allocs/record")
	}
	b.Run("client", func(b *testing.B) {
		tc := clever.New(clever.Config{APIURL: srv.URL}).WithToken(tok)
		measure(b, func() int {
			n := 0
			count := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			for _, err := range tc.Districts(b.Context()) {
				count(err)
			}
			for _, err := range tc.Schools(b.Context()) {
				count(err)
			}
			for _, err := range tc.Users(b.Context()) {
				count(err)
			}
			for _, err := range tc.Sections(b.Context()) {
				count(err)
			}
			for _, err := range tc.Terms(b.Context()) {
				count(err)
			}
			for _, err := range tc.Courses(b.Context()) {
				count(err)
			}
			return n
		})
	})
	// live-heap: the peak live heap above the loaded dataset while the users are read, measured after a
	// forced GC every 2,500 records (so its records/s mean nothing). It stays at a few pages' worth —
	// the page being consumed, the one prefetched, the simulator's response buffer — whatever the
	// district's size.
	b.Run("live-heap", func(b *testing.B) {
		tc := clever.New(clever.Config{APIURL: srv.URL}).WithToken(tok)
		runtime.GC()
		baseline, peak := heapBytes(), uint64(0)
		for b.Loop() {
			n := 0
			for _, err := range tc.Users(b.Context()) {
				if err != nil {
					b.Fatal(err)
				}
				if n++; n%2500 == 0 {
					runtime.GC()
					peak = max(peak, heapBytes())
				}
			}
		}
		b.ReportMetric(float64(peak-min(peak, baseline))/(1<<20), "peak-live-MiB")
	})
	b.Run("raw-pages", func(b *testing.B) {
		measure(b, func() int {
			n := 0
			for _, kind := range []string{"districts", "schools", "users", "sections", "terms", "courses"} {
				for next := "/v3.0/" + kind + "?limit=10000"; next != ""; {
					req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+next, nil)
					req.Header.Set("Authorization", "Bearer "+tok.Reveal())
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					body, err := io.ReadAll(res.Body)
					res.Body.Close()
					if err != nil || res.StatusCode != http.StatusOK {
						b.Fatalf("%s: %d %v", next, res.StatusCode, err)
					}
					var page struct {
						Data  []struct{} `json:"data"`
						Links []clever.Link
					}
					if err := json.Unmarshal(body, &page); err != nil {
						b.Fatal(err)
					}
					n += len(page.Data)
					next = ""
					for _, l := range page.Links {
						if l.Rel == "next" && len(page.Data) > 0 {
							next = l.URI
						}
					}
				}
			}
			return n
		})
	})
}
