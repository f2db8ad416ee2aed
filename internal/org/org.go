// Package org keeps the app's organizations (its customers): created and updated by the GraphQL
// mutations and by `rostermirror org import`, with their identifiers normalised so that onboarding's
// signals (internal/link) compare like with like.
package org

import (
	"context"
	"errors"
	"io"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/internal/store"
)

// Signals is told which organizations changed, so that onboarding re-evaluates its signals for them
// (internal/link's *Service).
type Signals interface {
	OrganizationsChanged(ctx context.Context, ids []string) error
}

// Service creates, updates and imports organizations.
type Service struct {
	db      *store.DB
	signals Signals
}

// New returns a Service over db; signals (may be nil) is told of every change.
func New(db *store.DB, signals Signals) *Service { return &Service{db: db, signals: signals} }

// Create creates an organization (admin scope; audited).
func (s *Service) Create(ctx context.Context, in ent.CreateOrganizationInput) (*ent.Organization, error) {
	return nil, errors.New("TODO")
}

// Update changes an organization (admin scope; audited).
func (s *Service) Update(ctx context.Context, id string, in ent.UpdateOrganizationInput) (*ent.Organization, error) {
	return nil, errors.New("TODO")
}

// Report is what an import did.
type Report struct{}

// Import creates or updates the organizations of a CSV file, all or nothing.
func (s *Service) Import(ctx context.Context, r io.Reader, actor string) (*Report, error) {
	return nil, errors.New("TODO")
}

// MDRKey is an MDR number reduced to what identifies it: its digits without leading zeros; "" when it
// has none (a missing MDR number is no signal).
func MDRKey(mdr string) string {
	var b []byte
	for _, r := range mdr {
		if r >= '0' && r <= '9' && (len(b) > 0 || r != '0') {
			b = append(b, byte(r))
		}
	}
	return string(b)
}
