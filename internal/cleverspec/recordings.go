package cleverspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RecordingsDir is where the recorded exchanges sit under the directory Dir returns: JSON files, each
// an array of exchanges, beside an _index.json that is not a recording.
const RecordingsDir = "fixtures/certification-isd-events"

// recordingsIndex is the file in RecordingsDir that lists the recordings and is not one itself.
const recordingsIndex = "_index.json"

// Recording is one HTTP exchange recorded from Clever's "#DEMO Certification ISD - Events" district, as
// read by Recordings. Request and Response hold the recorded JSON as it is in the file, for tests that
// replay it; Response.WireBody holds the response body decoded to the bytes Clever sent.
type Recording struct {
	// File is the base name of the recording file the exchange was read from, e.g. "client__user.json".
	File string
	// Request is the request as recorded.
	Request RecordedRequest
	// Response is the response as recorded.
	Response RecordedResponse
	// RecordedAt is when the exchange was recorded (the file's recorded_at, an RFC 1123 date).
	RecordedAt time.Time
}

// RecordedRequest is the request half of a Recording.
type RecordedRequest struct {
	// Method is the HTTP method, e.g. "GET".
	Method string `json:"method"`
	// URI is the request URI as recorded: absolute, e.g. "https://api.clever.com/v3.0/users?limit=25".
	URI string `json:"uri"`
	// Auth is the Authorization header sent, e.g. "Bearer TEST_TOKEN"; empty when none was.
	Auth string `json:"auth"`
	// Body is the request body as recorded JSON; "null" when there was none.
	Body json.RawMessage `json:"body"`
}

// RecordedResponse is the response half of a Recording.
type RecordedResponse struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Headers holds the response headers as recorded, one value each, keyed by lower-case name.
	Headers map[string]string `json:"headers"`
	// Body is the response body as recorded JSON: the JSON body itself, a JSON string holding a
	// non-JSON (HTML) body, or null when there was no body.
	Body json.RawMessage `json:"body"`
	// WireBody is the response body as it went over the wire: Body for a JSON body, the unwrapped
	// string for a non-JSON one, nil for none. Recordings fills it in from Body.
	WireBody []byte `json:"-"`
}

// Header returns Headers as an http.Header, with canonical keys.
func (r RecordedResponse) Header() http.Header {
	h := make(http.Header, len(r.Headers))
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	return h
}

// Recordings reads every recorded exchange under dir, the shared/clever directory as returned by Dir:
// each file in dir/RecordingsDir but _index.json, in name order, and each file's exchanges in their
// recorded order. The recordings are third-party files: they are read where they sit and never copied
// into this repository. It fails, naming the file, when the folder or a file cannot be read or decoded,
// and when the folder holds no recordings.
func Recordings(dir string) ([]Recording, error) {
	fixtures := filepath.Join(dir, RecordingsDir)
	entries, err := os.ReadDir(fixtures) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	var out []Recording
	for _, e := range entries {
		if e.IsDir() || e.Name() == recordingsIndex || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		recs, err := readRecordingFile(filepath.Join(fixtures, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read recordings in %s: none", fixtures)
	}
	return out, nil
}

// readRecordingFile reads the exchanges of one recording file.
func readRecordingFile(path string) ([]Recording, error) {
	name := filepath.Base(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read recording %s: %w", name, err)
	}
	var recs []struct {
		Request    RecordedRequest  `json:"request"`
		Response   RecordedResponse `json:"response"`
		RecordedAt string           `json:"recorded_at"`
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("decode recording %s: %w", name, err)
	}
	out := make([]Recording, 0, len(recs))
	for _, r := range recs {
		at, err := time.Parse(time.RFC1123, r.RecordedAt)
		if err != nil {
			return nil, fmt.Errorf("parse recorded_at in %s: %w", name, err)
		}
		r.Response.WireBody, err = wireBody(r.Response.Body)
		if err != nil {
			return nil, fmt.Errorf("decode response body in %s: %w", name, err)
		}
		out = append(out, Recording{File: name, Request: r.Request, Response: r.Response, RecordedAt: at})
	}
	return out, nil
}

// wireBody returns the bytes a recorded response body stands for: a JSON string (how a non-JSON body
// such as an HTML page is stored) unwrapped, null or nothing as nil, any other JSON as it is.
func wireBody(body json.RawMessage) ([]byte, error) {
	switch {
	case bytes.HasPrefix(body, []byte(`"`)):
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	case len(body) == 0 || string(body) == "null":
		return nil, nil
	default:
		return body, nil
	}
}
