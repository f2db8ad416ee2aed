// Command loadgen is the load generator of .ci/bench-graphql/run: it POSTs one GraphQL request body
// with a fixed number of concurrent workers for a fixed time, after a warm-up whose requests are not
// counted, and prints throughput and latency percentiles on one line.
//
// Every response must be 200 with a JSON body holding "data" and no "errors"; any other answer is
// an error, and loadgen exits 1 if there was one (after printing the report and a sample).
//
//	loadgen -url http://127.0.0.1:8080/graphql -body query.json -header 'Authorization: Bearer rmk_…' \
//	    -c 16 -d 20s -warmup 3s -name rostermirror
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// headers is a repeatable -header flag of "Name: value" pairs.
type headers []string

func (h *headers) String() string { return strings.Join(*h, ", ") }

func (h *headers) Set(v string) error {
	if name, _, ok := strings.Cut(v, ":"); !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	*h = append(*h, v)
	return nil
}

// worker is what one worker measured: latencies of requests started in the measured window and
// the errors it saw (warm-up included).
type worker struct {
	latencies []time.Duration
	errors    int
	sample    string
}

func main() {
	var hdrs headers
	url := flag.String("url", "", "GraphQL endpoint (required)")
	bodyFile := flag.String("body", "", "file holding the JSON request body (required)")
	flag.Var(&hdrs, "header", "request header \"Name: value\" (repeatable)")
	concurrency := flag.Int("c", 16, "concurrent workers, each with one request in flight")
	duration := flag.Duration("d", 20*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 3*time.Second, "warm-up before measuring (not counted)")
	timeout := flag.Duration("timeout", 10*time.Second, "timeout of one request")
	name := flag.String("name", "target", "label of the report line")
	flag.Parse()
	if *url == "" || *bodyFile == "" || *concurrency < 1 || *duration <= 0 || *warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: read body: %v\n", err)
		os.Exit(2)
	}

	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			MaxIdleConns:        *concurrency,
			MaxIdleConnsPerHost: *concurrency,
			DisableCompression:  true,
		},
	}
	start := time.Now()
	measureFrom := start.Add(*warmup)
	measureTo := measureFrom.Add(*duration)
	ctx, cancel := context.WithDeadline(context.Background(), measureTo)
	defer cancel()

	workers := make([]worker, *concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				err := send(ctx, client, *url, body, hdrs)
				t1 := time.Now()
				if t1.After(measureTo) {
					return // cut off by the end of the window: neither counted nor an error
				}
				if err != nil {
					w.errors++
					if w.sample == "" {
						w.sample = err.Error()
					}
					continue
				}
				if !t0.Before(measureFrom) {
					w.latencies = append(w.latencies, t1.Sub(t0))
				}
			}
		})
	}
	wg.Wait()

	var all []time.Duration
	errCount, sample := 0, ""
	for _, w := range workers {
		all = append(all, w.latencies...)
		errCount += w.errors
		if sample == "" {
			sample = w.sample
		}
	}
	slices.Sort(all)
	fmt.Printf("%s requests=%d errors=%d rps=%.1f p50=%s p90=%s p99=%s max=%s\n",
		*name, len(all), errCount, float64(len(all))/duration.Seconds(),
		ms(pct(all, 50)), ms(pct(all, 90)), ms(pct(all, 99)), ms(pct(all, 100)))
	if errCount > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: %s: %d failed requests; first: %s\n", *name, errCount, sample)
		os.Exit(1)
	}
	if len(all) == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: %s: no request completed in the measured window\n", *name)
		os.Exit(1)
	}
}

// send POSTs the body once and checks the answer is a GraphQL success.
func send(ctx context.Context, client *http.Client, url string, body []byte, hdrs headers) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for _, h := range hdrs {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, raw)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	if e, ok := out["errors"]; ok {
		return fmt.Errorf("graphql errors: %.200s", e)
	}
	if d, ok := out["data"]; !ok || bytes.Equal(d, []byte("null")) {
		return errors.New("response has no data")
	}
	return nil
}

// pct is the p-th percentile (nearest rank) of sorted durations; 0 when there are none.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// ms formats a duration as milliseconds with one decimal, without a unit, for the script to parse.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}
