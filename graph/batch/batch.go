// Package batch lets hand-written GraphQL fields load the values of all the records of a list at once.
package batch

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Batches lets a hand-written field load the values of all the records of a list at once: the first of
// them to be resolved loads every sibling's value in a fixed number of statements, and the others take
// theirs from it. It is per request (WithBatches); without it each record loads its own.
//
// A field of a record of a list (a section's students, in sections { edges { node { students } } }) finds
// its siblings by walking up gqlgen's field contexts to the list field, whose result holds them. This is
// deterministic — no waiting for calls to gather — and the list's records are exactly the parents the
// batch needs. A list nested in another list (schools { sections { students } }) is loaded once per
// outer record.
type Batches struct {
	mu      sync.Mutex
	batches map[batchKey]*batch
}

type batchKey struct {
	list *graphql.FieldContext // the list field whose elements are the parents
	path string                // the field below the element, aliases included: "node.students"
	// The field's object type and name: under nodes(ids:) one alias may name different fields of
	// different types (… on Section { x: students } … on User { x: sections }).
	object, field string
}

type batch struct {
	once   sync.Once
	result any // map[string]V
	err    error
}

type batchesKey struct{}

// WithBatches returns a context whose hand-written fields load by list (see Batches).
func WithBatches(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchesKey{}, &Batches{batches: map[batchKey]*batch{}})
}

// Load returns parent's value: load computes the values of many parents at once (missing parents
// get V's zero value). When ctx's field is resolved for a record of a list, load runs once for the whole
// list; otherwise for parent alone.
func Load[V any](ctx context.Context, parent string, load func(ctx context.Context, parents []string) (map[string]V, error)) (V, error) {
	b, _ := ctx.Value(batchesKey{}).(*Batches)
	key, parents := siblings(ctx, parent)
	if b == nil || key.list == nil {
		m, err := load(ctx, []string{parent})
		return m[parent], err
	}
	b.mu.Lock()
	bt := b.batches[key]
	if bt == nil {
		bt = &batch{}
		b.batches[key] = bt
	}
	b.mu.Unlock()
	bt.once.Do(func() {
		m, err := load(ctx, parents)
		bt.result, bt.err = m, err
	})
	var zero V
	if bt.err != nil {
		return zero, bt.err
	}
	m, ok := bt.result.(map[string]V)
	if !ok {
		return zero, fmt.Errorf("batch %s: values of another type", key.path)
	}
	return m[parent], nil
}

// siblings finds the list the field of ctx is resolved under: the nearest enclosing field context with
// an index (a list element), whose parent is the list field with its result. It returns the list's key
// and the ids of its records (or of the nodes of its edges); key.list is nil when there is no list or the
// list does not hold parent.
func siblings(ctx context.Context, parent string) (batchKey, []string) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return batchKey{}, nil
	}
	path := []string{fc.Field.Alias}
	for el := fc.Parent; el != nil; el = el.Parent {
		if el.Index == nil {
			if el.Field.Field != nil {
				path = append(path, el.Field.Alias)
			}
			continue
		}
		list := el.Parent
		if list == nil {
			return batchKey{}, nil
		}
		ids := recordIDs(list.Result)
		found := false
		for _, id := range ids {
			found = found || id == parent
		}
		if !found {
			return batchKey{}, nil
		}
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
		return batchKey{list: list, path: strings.Join(path, "."), object: fc.Object, field: fc.Field.Name}, ids
	}
	return batchKey{}, nil
}

// recordIDs are the ids of a list's records: each element is a record with an ID field (an ent node), or
// an edge whose Node is one.
func recordIDs(list any) []string {
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice {
		return nil
	}
	ids := make([]string, 0, v.Len())
	for i := range v.Len() {
		if id, ok := idOf(v.Index(i)); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func idOf(v reflect.Value) (string, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", false
	}
	if id := v.FieldByName("ID"); id.IsValid() && id.Kind() == reflect.String {
		return id.String(), true
	}
	if node := v.FieldByName("Node"); node.IsValid() {
		return idOf(node)
	}
	return "", false
}
