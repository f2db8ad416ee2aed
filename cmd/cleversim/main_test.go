package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// start runs the command on a free port and returns its base URL; the command stops with the test.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "Clever simulator on "); ok {
			go io.Copy(io.Discard, pr) // keep draining the log so the command never blocks on it
			return strings.Fields(url)[0]
		}
	}
	t.Fatalf("cleversim did not print its URL: %v", lines.Err())
	return ""
}

func getJSON(t *testing.T, url, user, pass, bearer string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil {
		json.NewDecoder(res.Body).Decode(v)
	}
	return res.StatusCode
}

// TestServesDemoDistrict is the README's walkthrough: start on the demo dataset, list the tokens with
// the app's credentials, read schools with a token.
func TestServesDemoDistrict(t *testing.T) {
	base := start(t, "--data", "../../testdata/demo-district.json", "--client-id", "app", "--client-secret", "shh")
	var toks struct {
		Data []struct {
			AccessToken string `json:"access_token"`
			Owner       struct{ ID string }
		}
	}
	if code := getJSON(t, base+"/oauth/tokens?owner_type=district", "app", "shh", "", &toks); code != 200 || len(toks.Data) != 1 {
		t.Fatalf("tokens: %d %+v", code, toks)
	}
	if code := getJSON(t, base+"/oauth/tokens?owner_type=district", "app", "wrong", "", nil); code != 401 {
		t.Errorf("wrong secret: %d, want 401", code)
	}
	var schools struct {
		Data  []struct{ Data struct{ Name string } }
		Links []struct{ Rel, URI string }
	}
	if code := getJSON(t, base+"/v3.0/schools?limit=2", "", "", toks.Data[0].AccessToken, &schools); code != 200 {
		t.Fatalf("schools: %d", code)
	}
	if len(schools.Data) != 2 || schools.Data[0].Data.Name != "Pineapple Elementary School" || schools.Links[1].Rel != "next" {
		t.Errorf("schools page = %+v", schools)
	}
}

func TestServesSyntheticDistrict(t *testing.T) {
	base := start(t, "--synthetic", "students=250,teachers=12,sections=20,seed=3")
	var toks struct {
		Data []struct {
			AccessToken string `json:"access_token"`
		}
	}
	getJSON(t, base+"/oauth/tokens?owner_type=district", cleversim.DefaultClientID, cleversim.DefaultClientSecret, "", &toks)
	if len(toks.Data) != 1 {
		t.Fatalf("tokens = %+v", toks)
	}
	var users struct{ Data []json.RawMessage }
	getJSON(t, base+"/v3.0/users?role=student&limit=1000", "", "", toks.Data[0].AccessToken, &users)
	if len(users.Data) != 250 {
		t.Errorf("students = %d, want 250", len(users.Data))
	}
}

func TestServesManySyntheticDistricts(t *testing.T) {
	base := start(t, "--synthetic", "districts=3,students=20,teachers=2,sections=4,seed=9")
	var toks struct {
		Data []struct {
			AccessToken string `json:"access_token"`
			Owner       struct{ ID string }
		}
	}
	getJSON(t, base+"/oauth/tokens?owner_type=district", cleversim.DefaultClientID, cleversim.DefaultClientSecret, "", &toks)
	if len(toks.Data) != 3 {
		t.Fatalf("tokens = %+v, want one per district", toks)
	}
	seen := map[string]bool{}
	for _, tok := range toks.Data {
		var users struct{ Data []json.RawMessage }
		getJSON(t, base+"/v3.0/users?role=student&limit=1000", "", "", tok.AccessToken, &users)
		if len(users.Data) != 20 || seen[tok.Owner.ID] {
			t.Errorf("district %q: %d students, want 20 in a district of its own", tok.Owner.ID, len(users.Data))
		}
		seen[tok.Owner.ID] = true
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--synthetic", "students=x"},
		{"--synthetic", "pupils=3"},
		{"--synthetic", "students=-1"},
		{"--synthetic", "districts=0"},
		{"--data", "a.json", "--synthetic", "students=1"},
		{"--data", "/nonexistent.json"},
		{"extra"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := run(ctx, append(args, "--addr", "127.0.0.1:0"), io.Discard)
		cancel()
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
