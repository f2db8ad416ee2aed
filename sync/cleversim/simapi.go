package cleversim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Body size limits of the change API.
const (
	maxSimBody     = 16 << 20
	maxDatasetBody = 1 << 30
)

// simRoutes is the HTTP change API, for tests that drive a simulator running in another process. Every
// route takes and returns JSON; errors are {"error": "…"} with 400 for bad input, 404 for an unknown
// record or district and 409 for a record in the wrong state.
//
//	POST   /sim/unshare                     {"kind":"users","id":"…"}                → {}
//	POST   /sim/reshare                     {"kind":"users","id":"…"}                → {}
//	POST   /sim/modify                      {"kind":"users","id":"…","patch":{…}}    → {}   (RFC 7396 merge patch)
//	POST   /sim/put                         {"kind":"users","record":{…}}            → {}
//	POST   /sim/reid                        {"kind":"courses","id":"…"}              → {"id":"<new id>"}
//	POST   /sim/districts                   a Dataset with one district              → {"id":"<district id>"}
//	DELETE /sim/districts/{id}              disconnect the district                  → {}
//	POST   /sim/districts/{id}/rotate-token new district-app token                   → {"access_token":"…"}
//	GET    /sim/faults                      the injected faults                      → {"seed","error_rate","rate_limit_rate","cut_rate","latency"}
//	PUT    /sim/faults                      replace them (latency as "250ms")        → {}
//	GET    /sim/dataset                     the current shared state as a Dataset file
//	GET    /sim/logout                      end the browser's simulator session      → {}
//
// Kinds are districts, schools, users, sections, terms and courses. Each route does what the Go method
// of the same name does (Unshare, Reshare, Modify, Put, ReID, AddDistrict, RemoveDistrict, RotateToken,
// SetFaults, Snapshot), including the events it emits. /sim/logout ends the session a login at the
// simulator started (see authorize), for a browser that wants the picker back.
func (s *Server) simRoutes() http.Handler {
	mux := http.NewServeMux()
	type kindID struct {
		Kind Kind   `json:"kind"`
		ID   string `json:"id"`
	}
	mux.HandleFunc("POST /sim/unshare", func(w http.ResponseWriter, r *http.Request) {
		var req kindID
		if decodeSim(w, r, &req) {
			simResult(w, nil, s.Unshare(req.Kind, req.ID))
		}
	})
	mux.HandleFunc("POST /sim/reshare", func(w http.ResponseWriter, r *http.Request) {
		var req kindID
		if decodeSim(w, r, &req) {
			simResult(w, nil, s.Reshare(req.Kind, req.ID))
		}
	})
	mux.HandleFunc("POST /sim/modify", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Kind  Kind            `json:"kind"`
			ID    string          `json:"id"`
			Patch json.RawMessage `json:"patch"`
		}
		if decodeSim(w, r, &req) {
			simResult(w, nil, s.Modify(req.Kind, req.ID, req.Patch))
		}
	})
	mux.HandleFunc("POST /sim/put", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Kind   Kind            `json:"kind"`
			Record json.RawMessage `json:"record"`
		}
		if decodeSim(w, r, &req) {
			simResult(w, nil, s.Put(req.Kind, req.Record))
		}
	})
	mux.HandleFunc("POST /sim/reid", func(w http.ResponseWriter, r *http.Request) {
		var req kindID
		if decodeSim(w, r, &req) {
			id, err := s.ReID(req.Kind, req.ID)
			simResult(w, map[string]string{"id": id}, err)
		}
	})
	mux.HandleFunc("POST /sim/districts", func(w http.ResponseWriter, r *http.Request) {
		d, err := ReadDataset(http.MaxBytesReader(w, r.Body, maxDatasetBody))
		if err != nil {
			simError(w, http.StatusBadRequest, err)
			return
		}
		err = s.AddDistrict(d)
		var out map[string]string
		if err == nil {
			if rec, perr := parseRecord(KindDistricts, d.Districts[0]); perr == nil {
				out = map[string]string{"id": rec.id}
			}
		}
		simResult(w, out, err)
	})
	mux.HandleFunc("DELETE /sim/districts/{id}", func(w http.ResponseWriter, r *http.Request) {
		simResult(w, nil, s.RemoveDistrict(r.PathValue("id")))
	})
	mux.HandleFunc("POST /sim/districts/{id}/rotate-token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.RotateToken(r.PathValue("id"))
		simResult(w, map[string]string{"access_token": tok}, err)
	})
	mux.HandleFunc("GET /sim/faults", func(w http.ResponseWriter, r *http.Request) {
		simResult(w, toWireFaults(s.Faults()), nil)
	})
	mux.HandleFunc("PUT /sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var req wireFaults
		if !decodeSim(w, r, &req) {
			return
		}
		f, err := req.faults()
		if err == nil {
			err = validateFaults(f)
		}
		if err != nil {
			simError(w, http.StatusBadRequest, err)
			return
		}
		s.SetFaults(f)
		simResult(w, nil, nil)
	})
	mux.HandleFunc("GET /sim/dataset", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := s.Snapshot().Write(&buf); err != nil {
			simError(w, http.StatusInternalServerError, err)
			return
		}
		writeResponse(w, jsonResponse(http.StatusOK, buf.Bytes()))
	})
	mux.HandleFunc("GET /sim/logout", func(w http.ResponseWriter, r *http.Request) {
		s.logout(w, r)
		simResult(w, nil, nil)
	})
	mux.HandleFunc("/sim/", func(w http.ResponseWriter, r *http.Request) {
		simError(w, http.StatusNotFound, fmt.Errorf("no change API route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// wireFaults is Faults on the wire.
type wireFaults struct {
	Seed          int64   `json:"seed"`
	ErrorRate     float64 `json:"error_rate"`
	RateLimitRate float64 `json:"rate_limit_rate"`
	CutRate       float64 `json:"cut_rate"`
	Latency       string  `json:"latency,omitempty"`
}

func toWireFaults(f Faults) wireFaults {
	return wireFaults{f.Seed, f.ErrorRate, f.RateLimitRate, f.CutRate, f.Latency.String()}
}

func (w wireFaults) faults() (Faults, error) {
	f := Faults{Seed: w.Seed, ErrorRate: w.ErrorRate, RateLimitRate: w.RateLimitRate, CutRate: w.CutRate}
	if w.Latency != "" {
		d, err := time.ParseDuration(w.Latency)
		if err != nil {
			return Faults{}, fmt.Errorf("parse latency: %w", err)
		}
		f.Latency = d
	}
	return f, nil
}

// decodeSim decodes a change-API request body strictly; on failure it answers 400 and returns false.
func decodeSim(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSimBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		simError(w, http.StatusBadRequest, fmt.Errorf("decode request: %w", err))
		return false
	}
	return true
}

func simResult(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		simError(w, http.StatusNotFound, err)
	case errors.Is(err, ErrUnshared):
		simError(w, http.StatusConflict, err)
	case err != nil:
		simError(w, http.StatusBadRequest, err)
	default:
		if v == nil {
			v = struct{}{}
		}
		b, _ := encodeJSON(v)
		writeResponse(w, jsonResponse(http.StatusOK, b))
	}
}

func simError(w http.ResponseWriter, status int, err error) {
	b, _ := encodeJSON(map[string]string{"error": err.Error()})
	writeResponse(w, jsonResponse(status, b))
}
