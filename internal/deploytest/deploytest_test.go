// Package deploytest checks the deployment files at the repository root — docker-compose.yml, Dockerfile
// and .dockerignore — without Docker: it parses them and asserts the services, their dependencies and
// configuration, and the build, so that a renamed variable, flag or path breaks a test rather than the
// first `docker compose up`.
package deploytest

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rostermirror/rostermirror/sync/cleversim"
)

// specEnv are the environment variables SPEC.md ("Configuration") defines; the compose file may set no
// others on rostermirror's own services.
var specEnv = []string{
	"ROSTERMIRROR_DATABASE_URL", "ROSTERMIRROR_ADDR", "CLEVER_API_URL", "CLEVER_OAUTH_URL",
	"CLEVER_CLIENT_ID", "CLEVER_CLIENT_SECRET", "CLEVER_DISTRICT_TOKENS", "ROSTERMIRROR_SYNC_SCHEDULE",
	"ROSTERMIRROR_SECRET_KEY",
}

// composeFile is the part of the Compose file format the stack uses. Decoding with KnownFields rejects
// any other key, so a misspelt one ("depend_on") fails the test instead of being ignored by Docker.
type composeFile struct {
	Name         string             `yaml:"name"`
	Image        map[string]any     `yaml:"x-image"`
	DatabaseURL  string             `yaml:"x-database-url"`
	Services     map[string]service `yaml:"services"`
	VolumeByName map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string               `yaml:"image"`
	Build       string               `yaml:"build"`
	Entrypoint  []string             `yaml:"entrypoint"`
	Command     []string             `yaml:"command"`
	Environment map[string]string    `yaml:"environment"`
	Volumes     []string             `yaml:"volumes"`
	Ports       []string             `yaml:"ports"`
	Restart     string               `yaml:"restart"`
	DependsOn   map[string]dependsOn `yaml:"depends_on"`
	Healthcheck *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

// root returns the repository root.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return dir
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, "docker-compose.yml"))))
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("parse docker-compose.yml: %v", err)
	}
	return c
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)

	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"cleversim", "migrate", "postgres", "rostermirror"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}

	t.Run("postgres", func(t *testing.T) {
		pg := c.Services["postgres"]
		if pg.Image != "postgres:15" {
			t.Errorf("image %q, want postgres:15", pg.Image)
		}
		if pg.Healthcheck == nil || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
			t.Errorf("healthcheck %+v does not run pg_isready", pg.Healthcheck)
		}
		var data string
		for _, v := range pg.Volumes {
			if name, target, _ := strings.Cut(v, ":"); target == "/var/lib/postgresql/data" {
				data = name
			}
		}
		if _, ok := c.VolumeByName[data]; data == "" || !ok {
			t.Errorf("no named volume on /var/lib/postgresql/data (volumes %v, declared %v)", pg.Volumes, c.VolumeByName)
		}
	})

	// The three others run the image built from the Dockerfile.
	for _, name := range []string{"cleversim", "migrate", "rostermirror"} {
		if s := c.Services[name]; s.Build != "." || s.Image == "" {
			t.Errorf("%s: build %q image %q, want the repository's image", name, s.Build, s.Image)
		}
	}

	t.Run("cleversim", func(t *testing.T) {
		sim := c.Services["cleversim"]
		if !slices.Equal(sim.Entrypoint, []string{"/usr/local/bin/cleversim"}) {
			t.Errorf("entrypoint %v", sim.Entrypoint)
		}
		flags := map[string]string{}
		for _, arg := range sim.Command {
			k, v, _ := strings.Cut(arg, "=")
			flags[k] = v
		}
		if flags["--addr"] != "0.0.0.0:4000" {
			t.Errorf("--addr %q, want 0.0.0.0:4000", flags["--addr"])
		}
		// The dataset path is where the Dockerfile copies the bundled demo district.
		if data := flags["--data"]; !strings.Contains(readFile(t, "Dockerfile"), "COPY testdata/demo-district.json "+data+"\n") {
			t.Errorf("--data %q is not the demo district the Dockerfile copies", data)
		}
		if flags["--client-id"] != cleversim.DefaultClientID || flags["--client-secret"] != cleversim.DefaultClientSecret {
			t.Errorf("credentials %q/%q, want the simulator defaults", flags["--client-id"], flags["--client-secret"])
		}
		// Every flag used exists in cmd/cleversim.
		src := readFile(t, filepath.Join("cmd", "cleversim", "main.go"))
		for f := range flags {
			if !strings.Contains(src, `"`+strings.TrimPrefix(f, "--")+`"`) {
				t.Errorf("cmd/cleversim defines no flag %s", f)
			}
		}
	})

	t.Run("migrate", func(t *testing.T) {
		m := c.Services["migrate"]
		if !slices.Equal(m.Command, []string{"migrate"}) {
			t.Errorf("command %v, want [migrate]", m.Command)
		}
		if got := m.DependsOn["postgres"].Condition; got != "service_healthy" {
			t.Errorf("depends on postgres %q, want service_healthy", got)
		}
		checkDatabaseURL(t, m.Environment["ROSTERMIRROR_DATABASE_URL"])
	})

	t.Run("rostermirror", func(t *testing.T) {
		rm := c.Services["rostermirror"]
		if !slices.Equal(rm.Command, []string{"serve"}) {
			t.Errorf("command %v, want [serve]", rm.Command)
		}
		if got := rm.DependsOn["migrate"].Condition; got != "service_completed_successfully" {
			t.Errorf("depends on migrate %q, want service_completed_successfully", got)
		}
		if got := rm.DependsOn["cleversim"].Condition; got != "service_started" {
			t.Errorf("depends on cleversim %q, want service_started", got)
		}
		if !slices.Contains(rm.Ports, "8080:8080") {
			t.Errorf("ports %v do not publish 8080", rm.Ports)
		}
		env := rm.Environment
		checkDatabaseURL(t, env["ROSTERMIRROR_DATABASE_URL"])
		for k, want := range map[string]string{
			"CLEVER_API_URL":       "http://cleversim:4000",
			"CLEVER_OAUTH_URL":     "http://cleversim:4000",
			"CLEVER_CLIENT_ID":     cleversim.DefaultClientID,
			"CLEVER_CLIENT_SECRET": cleversim.DefaultClientSecret,
		} {
			if env[k] != want {
				t.Errorf("%s = %q, want %q", k, env[k], want)
			}
		}
		// The secret key comes from the caller's environment, with a default that says it is one.
		m := regexp.MustCompile(`^\$\{ROSTERMIRROR_SECRET_KEY:-(.+)\}$`).FindStringSubmatch(env["ROSTERMIRROR_SECRET_KEY"])
		if m == nil || !strings.Contains(m[1], "dev") || !strings.Contains(m[1], "insecure") || len(m[1]) < 32 {
			t.Errorf("ROSTERMIRROR_SECRET_KEY = %q, want ${ROSTERMIRROR_SECRET_KEY:-<marked development default of 32+ characters>}",
				env["ROSTERMIRROR_SECRET_KEY"])
		}
	})
}

// checkDatabaseURL asserts that u selects Postgres on the compose service.
func checkDatabaseURL(t *testing.T, u string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "postgres" || p.Host != "postgres:5432" || p.User == nil || p.Path == "" {
		t.Errorf("ROSTERMIRROR_DATABASE_URL %q, want postgres://…@postgres:5432/…", u)
	}
}

// TestComposeEnvironment checks that rostermirror's services set only variables SPEC defines, that the
// command reads each of them, and that the file interpolates nothing else from the caller's environment.
func TestComposeEnvironment(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	config := readFile(t, filepath.Join("cmd", "rostermirror", "config.go"))
	for _, name := range []string{"cleversim", "migrate", "rostermirror"} {
		for k := range c.Services[name].Environment {
			if !slices.Contains(specEnv, k) {
				t.Errorf("%s sets %s, which SPEC does not define", name, k)
			}
			if !strings.Contains(config, `"`+k+`"`) {
				t.Errorf("%s sets %s, which cmd/rostermirror does not read", name, k)
			}
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(readFile(t, "docker-compose.yml"), -1) {
		if !slices.Contains(specEnv, m[1]) {
			t.Errorf("docker-compose.yml interpolates ${%s}, which SPEC does not define", m[1])
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := readFile(t, "Dockerfile")
	var stages []string // FROM lines
	for line := range strings.SplitSeq(df, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, line)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("not a multi-stage build: %v", stages)
	}
	// The builder's Go is the go.mod go version (major.minor).
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readFile(t, "go.mod"))
	if goVersion == nil || !strings.HasPrefix(stages[0], "FROM golang:"+goVersion[1]+" ") {
		t.Errorf("builder %q, want golang:%v", stages[0], goVersion)
	}
	runtime := stages[len(stages)-1]
	if !strings.Contains(runtime, "distroless") && !strings.Contains(runtime, "alpine") {
		t.Errorf("runtime stage %q is neither distroless nor alpine", runtime)
	}
	for _, want := range []string{"CGO_ENABLED=0", " ./cmd/rostermirror", " ./cmd/cleversim", "\nEXPOSE 8080\n",
		`ENTRYPOINT ["/usr/local/bin/rostermirror"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 {
		t.Fatal("Dockerfile sets no USER: the image would run as root")
	}
	if u := users[len(users)-1][1]; u == "root" || u == "0" || strings.HasPrefix(u, "root:") || strings.HasPrefix(u, "0:") {
		t.Errorf("image runs as %s", u)
	}
}

// TestDockerignore checks that the build context keeps what the build needs and drops the VCS data.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	lines := strings.Split(readFile(t, ".dockerignore"), "\n")
	if !slices.Contains(lines, ".git") {
		t.Error(".dockerignore does not exclude .git")
	}
	for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "sync", "ent", "graph", "testdata",
		"testdata/demo-district.json", "*", "**", "*.go", "*.json"} {
		for _, l := range lines {
			if strings.TrimPrefix(strings.TrimSpace(l), "/") == needed {
				t.Errorf(".dockerignore excludes %s", needed)
			}
		}
	}
}
