// Command attack sends the requests of issue 14 (privacy and abuse hardening) to a running rostermirror
// and prints, for each, what it asked, the answer's status and error code, how long it took and how big
// the answer was, then the server's peak memory. It is run by .ci/attacks/run, which sets up the server
// (a synthetic district of 20,000 students on Postgres); it exits 1 when an answer is not the expected
// refusal.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type answer struct {
	status int
	code   string
	msg    string
	data   json.RawMessage
	bytes  int
	took   time.Duration
}

type client struct {
	base string
}

func (c client) send(key string, body []byte, contentLength int64) answer {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if contentLength >= 0 {
		req.ContentLength = contentLength
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{code: "transport: " + err.Error(), took: time.Since(start)}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, bytes: len(b), took: time.Since(start)}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	json.Unmarshal(b, &r)
	a.data = r.Data
	if len(r.Errors) > 0 {
		a.code, _ = r.Errors[0].Extensions["code"].(string)
		a.msg = r.Errors[0].Message
	}
	return a
}

func (c client) query(key, q string, vars map[string]any) answer {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	return c.send(key, body, -1)
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the server's base URL")
	read := flag.String("read", "", "an API key with the read scope")
	noRead := flag.String("noread", "", "an API key without the read scope (metrics only)")
	sensitive := flag.String("sensitive", "", "an API key with read and sensitive")
	admin := flag.String("admin", "", "an API key with admin")
	archived := flag.String("archived-user", "", "the Clever id of a student unshared and archived by the last sync")
	pid := flag.Int("pid", 0, "the server's process id, to read its peak memory")
	flag.Parse()
	c := client{base: *base}
	failed := false
	fmt.Printf("%-58s %-26s %6s %-20s %10s %9s\n", "attack", "expected", "status", "code", "time", "bytes")
	report := func(name, want string, a answer, ok bool) {
		mark := ""
		if !ok {
			mark = "   <-- UNEXPECTED: " + a.msg
			failed = true
		}
		fmt.Printf("%-58s %-26s %6d %-20s %10s %9d%s\n", name, want, a.status, a.code, a.took.Round(10*time.Microsecond), a.bytes, mark)
	}
	expect := func(name, code string, a answer) { report(name, code, a, a.code == code) }

	// 1. Sensitive fields through filters.
	for _, f := range []string{`iepStatus: "Y"`, `ellStatus: "Y"`, `frlStatus: "Free"`, `homeLanguageContainsFold: "span"`} {
		q := `{ users(where: {hasRolesWith: {` + f + `}}) { totalCount edges { node { lastName } } } }`
		expect("filter by "+f+" (read key)", "FORBIDDEN", c.query(*read, q, nil))
	}
	withScope := c.query(*sensitive, `{ users(where: {hasRolesWith: {iepStatus: "Y"}}) { totalCount } }`, nil)
	report("filter by iepStatus (sensitive key): "+string(withScope.data), "answered", withScope, withScope.code == "")

	// 2. A 1.2 KB fan-out of fragments, by a key without read; fields repeated.
	var bomb strings.Builder
	bomb.WriteString("query { ...F30 }\nfragment F0 on Query { districts { totalCount } }\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&bomb, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	expect(fmt.Sprintf("fragment fan-out, 30 levels (%d B)", bomb.Len()), "QUERY_TOO_LARGE", c.query(*read, bomb.String(), nil))
	expect("the same, key without read (refused before parsing)", "FORBIDDEN", c.query(*noRead, bomb.String(), nil))
	for _, n := range []int{10_000, 16_000, 600_000} {
		q := "{ users(first: 1) { edges { node { " + strings.Repeat("cleverId ", n) + "} } } }"
		want := "PAYLOAD_TOO_LARGE"
		if len(q) < 128<<10 {
			want = "QUERY_TOO_LARGE"
		}
		expect(fmt.Sprintf("a field repeated %d times (%d KB)", n, len(q)>>10), want, c.query(*read, q, nil))
	}

	// 3. Aliases of whole lists and of the schema, and an outage through them.
	aliased := func(n int, sel string) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: %s ", i, sel)
		}
		return b.String() + "}"
	}
	users := aliased(249, "users { edges { node { cleverId } } }")
	expect("249 aliases of users without first", "QUERY_TOO_LARGE", c.query(*read, users, nil))
	big := aliased(99, "users(first: 1000) { edges { node { cleverId } } }")
	expect("99 aliases of users(first: 1000)", "QUERY_TOO_COMPLEX", c.query(*read, big, nil))
	pages := c.query(*read, aliased(99, "users { edges { node { cleverId } } }"), nil)
	report("99 aliases of users without first (a page of 100 each)", "answered", pages, pages.code == "")
	schema := aliased(800, "__schema { types { ...FullType } }") + introspectionFragments
	expect(fmt.Sprintf("800 aliases of __schema (%d KB)", len(schema)>>10), "QUERY_TOO_LARGE", c.query(*read, schema, nil))
	// Four of the 249-alias requests at once, and a roster query beside them.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.query(*read, users, nil) })
	}
	normal := c.query(*read, `{ sections(first: 1) { edges { node { name students(first: 30) { edges { node { firstName lastName } } } } } } }`, nil)
	wg.Wait()
	report("a roster query while four alias bombs arrive", "answered", normal, normal.code == "")

	// 4. Audit entries by id.
	log := c.query(*admin, `{ auditEntries(first: 1) { edges { node { id } } } }`, nil)
	var entries struct {
		AuditEntries struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	json.Unmarshal(log.data, &entries)
	if len(entries.AuditEntries.Edges) == 0 {
		fmt.Println("no audit entry to ask for (decide a held run first)")
		failed = true
	} else {
		id := entries.AuditEntries.Edges[0].Node.ID
		expect("node(id) of an audit entry (read key)", "FORBIDDEN", c.query(*read, `query($id: ID!) { node(id: $id) { ... on AuditEntry { actor action } } }`, map[string]any{"id": id}))
		expect("nodes(ids) of an audit entry (read key)", "FORBIDDEN", c.query(*read, `query($id: ID!) { nodes(ids: [$id]) { ... on AuditEntry { actor } } }`, map[string]any{"id": id}))
		expect("auditEntries { totalCount } (read key)", "FORBIDDEN", c.query(*read, `{ auditEntries { totalCount } }`, nil))
	}

	// 5. An archived student's data through School.primaryRoles.
	if *archived != "" {
		a := c.query(*read, `{ schools(first: 20) { edges { node { primaryRoles(first: 1000, where: {role: STUDENT}) { edges { node { userID dob race sisID } } } } } } }`, nil)
		leaked := strings.Contains(string(a.data), *archived)
		report("an archived student's role under School.primaryRoles", "not listed", a, a.code == "" && !leaked)
	}

	// 6. Found in review: crafted arguments.
	cursor := []byte{0x81, 0xa1, 'v'}
	for range 10 {
		cursor = append(cursor, 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'a')
	}
	cursor = append(cursor, 0xc0)
	expect("a 99-character cursor of nested map headers", "BAD_REQUEST", c.query(*read, `query($c: Cursor) { users(after: $c) { totalCount } }`,
		map[string]any{"c": base64.RawStdEncoding.EncodeToString(cursor)}))
	expect("first given as the string \"100000\"", "BAD_REQUEST", c.query(*read, `query($f: Int) { users(first: $f) { edges { node { id } } } }`, map[string]any{"f": "100000"}))
	var ors []string
	for i := range 700 {
		ors = append(ors, fmt.Sprintf(`{hasRolesWith: {hasSchoolMembershipsWith: {hasSchoolWith: {nameContainsFold: "q%d"}}}}`, i))
	}
	expect("700 alternatives of 3 nested edge predicates (61 KB)", "BAD_REQUEST", c.query(*read, `{ users(first: 1, where: {or: [`+strings.Join(ors, ", ")+`]}) { totalCount } }`, nil))
	within := c.query(*read, `{ users(first: 1, where: {or: [`+strings.Join(ors[:10], ", ")+`]}) { totalCount } }`, nil)
	report("10 of them (30 edge predicates, the bound)", "answered", within, within.code == "")
	expect("empty idIn at three levels", "QUERY_TOO_COMPLEX", c.query(*read, `{ users(first: 1000, where: {idIn: []}) { edges { node { enrollments(first: 1000, where: {idIn: []}) { edges { node { section { enrollments(first: 1000, where: {idIn: []}) { edges { node { user { id } } } } } } } } } } } }`, nil))
	expect("per-parent resolvers, 4 schools × 1000 users", "QUERY_TOO_COMPLEX", c.query(*read, `{ schools(first: 4) { edges { node { users(first: 1000) { edges { node { schools { users(first: 0) { totalCount } } sections(first: 0) { totalCount } } } } } } } }`, nil))

	// 7. Smaller ones.
	huge := bytes.Repeat([]byte(" "), 50<<20)
	expect("a 50 MB body", "PAYLOAD_TOO_LARGE", c.send(*read, huge, int64(len(huge))))
	secret := `{"query": "{ districts { totalCount } }", "variables": 4111-1111-1111-1111 Jane Doe`
	bad := c.send(*read, []byte(secret), -1)
	report("malformed JSON holding a card number: not echoed", "BAD_REQUEST", bad, bad.code == "BAD_REQUEST" && !strings.Contains(bad.msg, "4111"))
	ids := make([]string, 50_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%024x", i)
	}
	expect("nodes(ids) with 50,000 ids", "PAYLOAD_TOO_LARGE", c.query(*read, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}))
	expect("nodes(ids) with 1,001 ids", "BAD_REQUEST", c.query(*read, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids[:1001]}))
	page := c.query(*read, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids[:1000]})
	report("nodes(ids) with 1,000 unknown ids", "1000 NOT_FOUND", page, page.code == "NOT_FOUND")
	counts := c.query(*read, `{ schools(first: 10) { edges { node { primaryRoles { totalCount } } } } }`, nil)
	report("School.primaryRoles { totalCount }", "answered", counts, counts.code == "")
	res, err := http.Get(*base + "/metrics")
	if err == nil {
		res.Body.Close()
		a := answer{status: res.StatusCode}
		report("/metrics without a key", "401", a, res.StatusCode == http.StatusUnauthorized)
	}

	if *pid > 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "VmHWM:") || strings.HasPrefix(line, "VmRSS:") {
					fmt.Println("server", strings.Join(strings.Fields(line), " "))
				}
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

// introspectionFragments are the fragments of GraphiQL's introspection query.
const introspectionFragments = `
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`
