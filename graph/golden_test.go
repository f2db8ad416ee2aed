package graph_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/graphql/*.golden.json from the current answers")

// volatile are answer fields that differ between runs (generated ids, timestamps); golden files hold a
// placeholder for them.
var volatile = map[string]bool{"startedAt": true, "finishedAt": true, "createdAt": true, "lastSyncedAt": true, "id": true}

// TestGoldenQueries runs each query in testdata/graphql against the synced demo district (with the
// sensitive scope) and compares the answer with its golden file. Rewrite them with -update and review
// the diff like code.
func TestGoldenQueries(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	files, err := filepath.Glob("../testdata/graphql/*.graphql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no queries: %v", err)
	}
	for _, f := range files {
		q, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := a.do(a.keys["sensitive"], string(q), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", f, r.Errors)
		}
		var v any
		json.Unmarshal(r.Data, &v)
		got, _ := json.MarshalIndent(normalize(v), "", "  ")
		got = append(got, '\n')
		golden := strings.TrimSuffix(f, ".graphql") + ".golden.json"
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (create it with -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: answer differs from %s (run with -update and review the diff)\n%s", f, golden, got)
		}
	}
}

func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if volatile[k] && e != nil {
				v[k] = "<" + k + ">"
				continue
			}
			v[k] = normalize(e)
		}
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	}
	return v
}
