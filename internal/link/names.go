package link

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/rostermirror/rostermirror/ent"
	"github.com/rostermirror/rostermirror/ent/district"
	"github.com/rostermirror/rostermirror/ent/districtlink"
	"github.com/rostermirror/rostermirror/internal/auth"
	"github.com/rostermirror/rostermirror/internal/org"
)

// nameNoise are the words and phrases that say what kind of body a district is rather than which one:
// left out when names are compared ("Cedar Creek ISD" is "Cedar Creek Independent School District").
// Longer phrases first.
var nameNoise = []string{
	"independent school district", "consolidated independent school district", "unified school district",
	"public school district", "community school district", "city school district", "county school district",
	"school district", "public schools", "public school", "school system", "schools", "district",
	"cisd", "isd", "usd", "csd", "sd", "the",
}

// NormalizeName reduces a district's or an organization's name to what identifies it: lower case,
// without accents, punctuation or the words that only say it is a school district ("ISD", "Independent
// School District", "Public Schools", …); "&" reads "and", "Saint" reads "st".
func NormalizeName(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r): // accents
		case r == '&':
			b.WriteString(" and ")
		case r == '\'' || r == '’' || r == '.':
			// "St. Mary's" → "st marys"
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if w == "saint" {
			words[i] = "st"
		}
	}
	s := " " + strings.Join(words, " ") + " "
	for _, n := range nameNoise {
		s = strings.ReplaceAll(s, " "+n+" ", " ")
	}
	return strings.Join(strings.Fields(s), " ")
}

// similarity is how alike two normalised names are, 0–1: the Dice coefficient of their character
// trigrams (as Postgres's pg_trgm pads them), so that word order and a typo cost little. tb is b's
// trigrams, worked out once for a whole list.
func similarity(a, b string, tb map[string]int) float64 {
	if a == "" || b == "" {
		return 0
	}
	if a == b {
		return 1
	}
	ta := trigrams(a)
	common, total := 0, 0
	for g, n := range ta {
		common += min(n, tb[g])
		total += n
	}
	for _, n := range tb {
		total += n
	}
	return 2 * float64(common) / float64(total)
}

func trigrams(s string) map[string]int {
	out := map[string]int{}
	for _, w := range strings.Fields(s) {
		r := []rune("  " + w + " ")
		for i := 0; i+3 <= len(r); i++ {
			out[string(r[i:i+3])]++
		}
	}
	return out
}

// Bounds of districtLinkCandidates: its first, and its search's length in bytes.
const (
	maxCandidates = 100
	maxSearch     = 200
)

// Candidates ranks the unlinked districts for an organization's pick-list (admin): by how alike their
// names are to search, or to the organization's name without one, a little higher when their state,
// MDR number or NCES id agrees with the organization's. Each candidate carries what tells same-name
// districts apart: state, MDR number, NCES id and school count.
func (s *Service) Candidates(ctx context.Context, organizationID string, search *string, first *int) ([]*Candidate, error) {
	if err := auth.Require(ctx, auth.ScopeAdmin); err != nil {
		return nil, err
	}
	n := 20
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxCandidates {
		return nil, fmt.Errorf("%w: first must be between 0 and %d", ErrInvalid, maxCandidates)
	}
	if search != nil && len(*search) > maxSearch {
		return nil, fmt.Errorf("%w: search is %d bytes long; at most %d", ErrInvalid, len(*search), maxSearch)
	}
	c := s.cfg.DB.Client
	o, err := c.Organization.Get(ctx, organizationID)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("%w: no organization %q", ErrNotFound, organizationID)
	} else if err != nil {
		return nil, err
	}
	target := NormalizeName(o.Name)
	if search != nil && strings.TrimSpace(*search) != "" {
		target = NormalizeName(*search)
	}
	districts, err := c.District.Query().Where(district.Not(district.HasLinkWith(districtlink.OrganizationIDNotNil()))).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("link candidates: %w", err)
	}
	facts, err := s.facts(ctx, districts)
	if err != nil {
		return nil, fmt.Errorf("link candidates: %w", err)
	}
	out := make([]*Candidate, 0, len(districts))
	grams := trigrams(target)
	for _, d := range districts {
		out = append(out, candidate(d, facts[d.ID], o, target, grams))
	}
	slices.SortFunc(out, func(a, b *Candidate) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.District.Name, b.District.Name), strings.Compare(a.District.ID, b.District.ID))
	})
	return out[:min(n, len(out))], nil
}

// candidate scores one district for the organization against the normalised target name (and its
// trigrams).
func candidate(d *ent.District, f districtFacts, o *ent.Organization, target string, grams map[string]int) *Candidate {
	name := NormalizeName(d.Name)
	sim := similarity(name, target, grams)
	var why []string
	switch {
	case sim == 1:
		why = append(why, "same name once normalised")
	case sim > 0:
		why = append(why, fmt.Sprintf("names %.0f%% alike", 100*sim))
	default:
		why = append(why, "names unlike")
	}
	score := 0.8 * sim
	switch {
	case o.State == "" || f.state == "":
		why = append(why, "state unknown")
	case o.State == f.state:
		score += 0.1
		why = append(why, "same state ("+f.state+")")
	default:
		why = append(why, "different state ("+f.state+", the organization's is "+o.State+")")
	}
	if k := org.MDRKey(d.MdrNumber); k != "" && k == org.MDRKey(o.MdrNumber) {
		score += 0.1
		why = append(why, "same MDR number")
	} else if d.MdrNumber == "" {
		why = append(why, "no MDR number")
	}
	if d.NcesID != "" && o.NcesID != "" && strings.TrimLeft(d.NcesID, "0") == strings.TrimLeft(o.NcesID, "0") {
		score += 0.1
		why = append(why, "same NCES id")
	}
	return &Candidate{District: d, Score: round2(min(score, 1)), State: f.state, MdrNumber: d.MdrNumber, NcesID: d.NcesID,
		SchoolCount: f.schools, Reason: strings.Join(why, "; ")}
}
