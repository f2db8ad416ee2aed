package cleversim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Dataset is the simulator's data file (SPEC "Simulator dataset format"): one JSON object whose arrays hold
// raw Clever v3.0 objects exactly as the API returns them inside "data". Events are the inner event objects
// ({"id","type","created","data":{"object",…}}). Keys are optional, "_meta" is ignored, and one file may
// hold several districts.
//
// Records stay raw JSON so that the simulator serves exactly the bytes it was given and never shares the
// client's types (a decoding bug must not sit on both sides of a contract test).
type Dataset struct {
	Districts []json.RawMessage `json:"districts,omitempty"`
	Schools   []json.RawMessage `json:"schools,omitempty"`
	Users     []json.RawMessage `json:"users,omitempty"`
	Sections  []json.RawMessage `json:"sections,omitempty"`
	Terms     []json.RawMessage `json:"terms,omitempty"`
	Courses   []json.RawMessage `json:"courses,omitempty"`
	Events    []json.RawMessage `json:"events,omitempty"`
}

// LoadDataset reads a dataset file.
func LoadDataset(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	defer f.Close()
	d, err := ReadDataset(f)
	if err != nil {
		return nil, fmt.Errorf("load dataset %s: %w", path, err)
	}
	return d, nil
}

// ReadDataset decodes a dataset. Every record must be a JSON object with a non-empty string "id"; the error
// names the array and the position of the first record that is not.
func ReadDataset(r io.Reader) (*Dataset, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	var d Dataset
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode dataset: %w", err)
	}
	for _, c := range d.collections() {
		for i, raw := range *c.records {
			var head struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("decode dataset: %s[%d]: %w", c.name, i, err)
			}
			if head.ID == "" {
				return nil, fmt.Errorf("decode dataset: %s[%d]: record has no \"id\"", c.name, i)
			}
		}
	}
	return &d, nil
}

// Write encodes the dataset deterministically with one record per line, so that a committed dataset
// diffs line by line.
func (d *Dataset) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{")
	first := true
	for _, c := range d.collections() {
		if len(*c.records) == 0 {
			continue
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		fmt.Fprintf(bw, "\n%q: [", c.name)
		for i, raw := range *c.records {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n  ")
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return fmt.Errorf("write dataset: %s[%d]: %w", c.name, i, err)
			}
			bw.Write(buf.Bytes())
		}
		bw.WriteString("\n]")
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

type collection struct {
	name    string
	records *[]json.RawMessage
}

func (d *Dataset) collections() []collection {
	return []collection{
		{"districts", &d.Districts},
		{"schools", &d.Schools},
		{"users", &d.Users},
		{"sections", &d.Sections},
		{"terms", &d.Terms},
		{"courses", &d.Courses},
		{"events", &d.Events},
	}
}
