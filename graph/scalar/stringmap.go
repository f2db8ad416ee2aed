// Package scalar provides the GraphQL scalars that ent's Go types need beyond gqlgen's own.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalStringMap writes a map of strings (StringMap: a JSON object whose values are all strings, such as
// an app record's CSV row) as a JSON object, keys sorted.
func MarshalStringMap(m map[string]string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, "{")
		for i, k := range slices.Sorted(maps.Keys(m)) {
			if i > 0 {
				io.WriteString(w, ",")
			}
			key, _ := json.Marshal(k)
			val, _ := json.Marshal(m[k])
			w.Write(key)
			io.WriteString(w, ":")
			w.Write(val)
		}
		io.WriteString(w, "}")
	})
}

// UnmarshalStringMap reads a StringMap input: an object whose values are all strings.
func UnmarshalStringMap(v any) (map[string]string, error) {
	in, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("StringMap must be an object, not %T", v)
	}
	out := make(map[string]string, len(in))
	for k, x := range in {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("StringMap value of %q must be a string, not %T", k, x)
		}
		out[k] = s
	}
	return out, nil
}
