package match

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A synthetic district for the benchmark and the quality check: Clever students with skewed name
// frequencies (a few very common first names and surnames, a long tail of rare ones), and app records
// derived from them with the noise district exports have. truth maps an app id to its Clever id ("" for
// app records with no Clever counterpart).

var (
	commonFirst = strings.Fields(`james mary john patricia robert jennifer michael linda william elizabeth
		david barbara richard susan joseph jessica thomas sarah charles karen christopher nancy daniel lisa
		matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua
		michelle kenneth dorothy kevin carol brian amanda george melissa edward deborah ronald stephanie timothy
		rebecca jason sharon jeffrey laura ryan cynthia jacob kathleen gary amy nicholas shirley eric angela
		jonathan helen stephen anna larry brenda justin pamela scott nicole brandon emma benjamin samantha
		samuel katherine gregory christine frank debra alexander rachel raymond catherine patrick carolyn jack
		janet dennis ruth jerry maria tyler heather aaron diane jose virginia adam julie henry joyce nathan
		victoria douglas olivia zachary kelly peter christina kyle lauren walter joan ethan evelyn jeremy
		judith harold megan keith cheryl christian andrea roger hannah noah martha gerald jacqueline carl
		frances terry gloria sean ann austin teresa arthur kathryn lawrence sara jesse janice dylan jean bryan
		alice joe madison jordan doris billy abigail bruce julia albert judy willie grace gabriel denise logan
		amber alan marilyn juan beverly wayne danielle roy theresa ralph sophia randy marie eugene diana
		vincent brittany russell natalie elijah isabella louis charlotte bobby rose philip alexis johnny kayla`)
	commonLast = strings.Fields(`smith johnson williams brown jones garcia miller davis rodriguez martinez
		hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white
		harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
		flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans
		turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz
		morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood
		james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster
		jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher
		vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno west
		cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens
		harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman
		burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks
		holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza
		daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins
		arnold pierce vazquez hansen peters santos hart bradley knight elliott cunningham duncan armstrong`)
	syllables = strings.Fields(`ka ri to mo an el sa lu be da vi ne or te li ma ro sh ja qu ze fi ol ur ha
		ni co de pa ti go ra na mi ko wa ye bo ce fu ga hu ji ku lo mu nu pe ru su tu vo xa zo`)
)

func synthName(r *rand.Rand, common []string, pCommon float64) string {
	if r.Float64() < pCommon {
		// Zipf-like: the first names of the list far more often than the last.
		i := int(float64(len(common)) * r.Float64() * r.Float64() * r.Float64())
		return common[i]
	}
	n := 2 + r.IntN(2)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	return b.String()
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func synthDistrict(n int, seed uint64) (app, clever []Record, truth map[string]string) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	truth = make(map[string]string, n)
	schools := make([]string, 40)
	for i := range schools {
		schools[i] = title(synthName(r, commonLast, 1)) + []string{" Elementary", " Middle School", " High School"}[i%3]
	}
	clever = make([]Record, n)
	for i := range clever {
		first, last := title(synthName(r, commonFirst, 0.75)), title(synthName(r, commonLast, 0.6))
		y, m, d := 2006+r.IntN(13), 1+r.IntN(12), 1+r.IntN(28)
		clever[i] = Record{ID: fmt.Sprintf("c%06d", i), Values: map[Field]string{
			SISID:      fmt.Sprintf("%07d", 100000+i),
			StateID:    fmt.Sprintf("%010d", 7000000000+i*7),
			FirstName:  first,
			LastName:   last,
			DOB:        fmt.Sprintf("%04d-%02d-%02d", y, m, d),
			Email:      fmt.Sprintf("%s.%s%d@district.org", strings.ToLower(first), strings.ToLower(last), i%100),
			SchoolRef:  schools[r.IntN(len(schools))],
			Grade:      fmt.Sprint(1 + r.IntN(12)),
			MiddleName: title(synthName(r, commonFirst, 0.5))[:1],
		}}
	}
	nicks := map[string]string{"robert": "Bob", "william": "Bill", "elizabeth": "Liz", "james": "Jim", "michael": "Mike", "jennifer": "Jen", "thomas": "Tom", "katherine": "Kate", "richard": "Rick", "joseph": "Joe"}
	app = make([]Record, 0, n)
	for i := range n {
		id := fmt.Sprintf("a%06d", i)
		if r.Float64() < 0.04 { // not in Clever
			app = append(app, Record{ID: id, Values: map[Field]string{
				FirstName: title(synthName(r, commonFirst, 0.75)), LastName: title(synthName(r, commonLast, 0.6)),
				DOB: fmt.Sprintf("%d/%d/%d", 1+r.IntN(12), 1+r.IntN(28), 2006+r.IntN(13)),
			}})
			truth[id] = ""
			continue
		}
		c := clever[i]
		v := make(map[Field]string, len(c.Values))
		for k, x := range c.Values {
			v[k] = x
		}
		switch x := r.Float64(); {
		case x < 0.30: // sis id only, reformatted
			v[SISID] = strings.TrimLeft(v[SISID], "0")
			delete(v, StateID)
		case x < 0.55:
			delete(v, SISID) // state id only
		case x < 0.80:
			delete(v, SISID)
			delete(v, StateID) // no ids at all
		}
		if r.Float64() < 0.3 { // US date format
			var y, m, d int
			fmt.Sscanf(v[DOB], "%d-%d-%d", &y, &m, &d)
			v[DOB] = fmt.Sprintf("%d/%d/%d", m, d, y)
		}
		switch x := r.Float64(); {
		case x < 0.03:
			v[FirstName], v[LastName] = v[LastName], v[FirstName]
		case x < 0.08:
			if nk, ok := nicks[strings.ToLower(v[FirstName])]; ok {
				v[FirstName] = nk
			}
		case x < 0.12: // a typo in the last name
			l := []byte(v[LastName])
			if len(l) > 3 {
				p := 1 + r.IntN(len(l)-2)
				l[p], l[p+1] = l[p+1], l[p]
			}
			v[LastName] = string(l)
		case x < 0.15:
			v[FirstName] = strings.ToUpper(v[FirstName])
		}
		if r.Float64() < 0.2 {
			v[Email] = strings.Replace(v[Email], "@district.org", "@old-district.org", 1)
		}
		if r.Float64() < 0.05 {
			delete(v, DOB)
		}
		if r.Float64() < 0.3 {
			v[Grade] = fmt.Sprint(max(0, atoiOr(v[Grade])-1))
		}
		app = append(app, Record{ID: id, Values: v})
		truth[id] = c.ID
	}
	return app, clever, truth
}

func atoiOr(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// TestSyntheticQuality runs the synthetic district through Match and holds it to the bar: no
// wrong automatic match, ≥ 95% of the app records sharing a strong identifier with their Clever record
// matched automatically, and ≥ 99% of the true matches matched or among the suggestions.
func TestSyntheticQuality(t *testing.T) {
	t.Parallel()
	n := 20000
	if testing.Short() {
		n = 3000
	}
	app, clever, truth := synthDistrict(n, 42)
	o := Match(Student, app, clever, Config{})
	var wrongAuto, auto, strongTotal, strongAuto, found, real int
	for i, r := range o.Results {
		want := truth[r.AppID]
		if r.Status == Matched {
			auto++
			if r.CleverID != want {
				wrongAuto++
				t.Errorf("wrong automatic match %s → %s (want %q): %+v", r.AppID, r.CleverID, want, r.Candidates)
			}
		}
		if want == "" {
			continue
		}
		real++
		v := app[i].Values
		if v[SISID] != "" || v[StateID] != "" {
			strongTotal++
			if r.Status == Matched {
				strongAuto++
			}
		}
		if r.CleverID == want || candidateIDsContain(r, want) {
			found++
		}
	}
	t.Logf("%d app × %d Clever: %d pairs; %d automatic (%d wrong); automatic recall %.2f%% of %d with a strong id; found %.2f%% of %d; skipped %+v",
		len(app), len(clever), o.Stats.Pairs, auto, wrongAuto, 100*float64(strongAuto)/float64(strongTotal), strongTotal,
		100*float64(found)/float64(real), real, o.Stats.SkippedBlocks)
	if float64(strongAuto) < 0.95*float64(strongTotal) {
		t.Errorf("automatic recall %d/%d below 95%%", strongAuto, strongTotal)
	}
	if float64(found) < 0.99*float64(real) {
		t.Errorf("suggestion recall %d/%d below 99%%", found, real)
	}
}

func candidateIDsContain(r Result, id string) bool {
	for _, c := range r.Candidates {
		if c.CleverID == id {
			return true
		}
	}
	return false
}

// BenchmarkMatch100k matches 100,000 app students against a 100,000-student district.
func BenchmarkMatch100k(b *testing.B) {
	app, clever, _ := synthDistrict(100000, 7)
	b.ReportAllocs()
	b.ResetTimer()
	var o Outcome
	for b.Loop() {
		o = Match(Student, app, clever, Config{})
	}
	b.ReportMetric(float64(o.Stats.Pairs)/float64(len(app)), "pairs/record")
}
