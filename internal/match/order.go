package match

import (
	"fmt"
	"slices"
	"strings"
)

// ParseOrders reads per-type field orders (Config.Order) as ROSTERMIRROR_MATCH_ORDER writes them:
// "TYPE=FIELD,FIELD,…" separated by ";", strongest first, e.g. "student=state_id,sis_id,dob,name;
// staff=staff_id,email,name". Fields are named as SPEC.md does; "name" is a person's first, middle and
// last name. A type not listed keeps DefaultOrder. An empty s is no override.
func ParseOrders(s string) (map[Type]Config, error) {
	out := map[Type]Config{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, list, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not TYPE=FIELD,FIELD,…", part)
		}
		typ := Type(strings.ToLower(strings.TrimSpace(t)))
		if !slices.Contains(knownTypes, typ) {
			return nil, fmt.Errorf("%q is not a record type: want student, teacher, staff, school or section", strings.TrimSpace(t))
		}
		if _, dup := out[typ]; dup {
			return nil, fmt.Errorf("%s is given twice", typ)
		}
		var order []Field
		for name := range strings.SplitSeq(list, ",") {
			f, ok := fieldByName(name)
			if !ok {
				return nil, fmt.Errorf("%s: %q is not a field: want one of %s", typ, strings.TrimSpace(name), fieldList())
			}
			if slices.Contains(order, f) {
				return nil, fmt.Errorf("%s: %s is listed twice", typ, f)
			}
			order = append(order, f)
		}
		out[typ] = Config{Order: order}
	}
	return out, nil
}

// FieldNamed finds a field by its name as SPEC.md writes it ("first_name", "dob", "sis_id"), in any case
// and punctuation.
func FieldNamed(s string) (Field, bool) { return fieldByName(s) }

// FieldNames lists the fields' names, for messages.
func FieldNames() string { return fieldList() }
