package tokens

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/rostermirror/rostermirror/sync/clever"
)

// maxDistrictID is the longest district id the district_tokens table stores.
const maxDistrictID = 64

// ParseStatic parses CLEVER_DISTRICT_TOKENS: "districtID=token,districtID=token", with spaces allowed
// around items, ids and tokens. An empty (or blank) string gives an empty map. Errors name the item's
// position (from 1) and, once it is known, the district id — never the token, nor an item that may be
// one.
func ParseStatic(s string) (map[string]clever.Token, error) {
	out := map[string]clever.Token{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	seen := map[string]int{}
	for i, item := range strings.Split(s, ",") {
		pos := i + 1
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d is empty; want districtID=token", pos)
		}
		id, tok, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d has no \"=\"; want districtID=token", pos)
		}
		id, tok = strings.TrimSpace(id), strings.TrimSpace(tok)
		switch {
		case id == "":
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d has an empty district id; want districtID=token", pos)
		case len(id) > maxDistrictID || strings.IndexFunc(id, unicode.IsSpace) >= 0:
			// Not echoed: a malformed id may be a token pasted in the wrong place.
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d: the district id is not a Clever id (at most %d characters, no spaces)", pos, maxDistrictID)
		case tok == "":
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d (district %s) has an empty token", pos, id)
		case strings.IndexFunc(tok, unicode.IsSpace) >= 0:
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d (district %s): the token contains spaces", pos, id)
		}
		if first, dup := seen[id]; dup {
			return nil, fmt.Errorf("parse CLEVER_DISTRICT_TOKENS: item %d (district %s): the district already has a token in item %d", pos, id, first)
		}
		seen[id] = pos
		out[id] = clever.Token(tok)
	}
	return out, nil
}
