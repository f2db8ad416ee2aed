package synth

// The JSON shapes of Clever v3.0 records, keys in alphabetical order as Clever's events carry them. Fields
// that real data sometimes omits or sends as null are opt; everything else is always present.

// opt is a JSON string field that may be absent (the zero value; needs the omitzero tag) or null.
type opt struct {
	s     string
	state uint8
}

const (
	optAbsent uint8 = iota
	optString
	optNull
	optMissing
)

// str returns a present string value.
func str(s string) opt { return opt{s: s, state: optString} }

// null returns an explicit JSON null.
func null() opt { return opt{state: optNull} }

// missing returns a field that is absent on purpose: encoded like the zero value, but told apart from it
// where the zero value means "choose one" (shape's mdrNumber and ncesID).
func missing() opt { return opt{state: optMissing} }

// IsZero reports whether the field is absent, for omitzero.
func (o opt) IsZero() bool { return o.state == optAbsent || o.state == optMissing }

// given reports whether the field was set, to a value, to null or to missing.
func (o opt) given() bool { return o.state != optAbsent }

// MarshalJSON encodes the string, or null when the field is null (or absent without omitzero). The
// pointer receiver spares encoding/json an allocation per field; records are always encoded through a
// pointer, so every opt is addressable.
func (o *opt) MarshalJSON() ([]byte, error) {
	if o.state != optString {
		return []byte("null"), nil
	}
	return appendQuoted(make([]byte, 0, len(o.s)+2), o.s), nil
}

// appendQuoted appends s as a JSON string. UTF-8 passes through unchanged.
func appendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

type districtRecord struct {
	DistrictContact districtContact `json:"district_contact"`
	Error           string          `json:"error"`
	ID              string          `json:"id"`
	LastSync        string          `json:"last_sync"`
	LaunchDate      string          `json:"launch_date"`
	LoginMethods    []string        `json:"login_methods"`
	MDRNumber       opt             `json:"mdr_number,omitzero"`
	Name            string          `json:"name"`
	NCESID          opt             `json:"nces_id,omitzero"`
	PauseEnd        opt             `json:"pause_end,omitzero"`
	PauseStart      opt             `json:"pause_start,omitzero"`
	PortalURL       string          `json:"portal_url"`
	SISType         string          `json:"sis_type"`
	State           string          `json:"state"`
}

type districtContact struct {
	District string     `json:"district"`
	Email    opt        `json:"email,omitzero"`
	ID       string     `json:"id"`
	Name     personName `json:"name"`
	Title    string     `json:"title"`
}

type schoolRecord struct {
	Created      string     `json:"created"`
	District     string     `json:"district"`
	Ext          schoolExt  `json:"ext"`
	HighGrade    string     `json:"high_grade"`
	ID           string     `json:"id"`
	LastModified string     `json:"last_modified"`
	Location     location   `json:"location"`
	LowGrade     string     `json:"low_grade"`
	MDRNumber    opt        `json:"mdr_number,omitzero"`
	Name         string     `json:"name"`
	NCESID       opt        `json:"nces_id,omitzero"`
	Phone        opt        `json:"phone,omitzero"`
	Principal    *principal `json:"principal,omitempty"`
	SchoolNumber string     `json:"school_number"`
	SISID        string     `json:"sis_id"`
	StateID      opt        `json:"state_id,omitzero"`
}

type schoolExt struct {
	CharterSchool string `json:"charter_school"`
	// SchoolType is a district-defined extension key that no client knows.
	SchoolType string `json:"school_type,omitempty"`
}

type principal struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type location struct {
	Address string `json:"address"`
	City    string `json:"city"`
	Lat     opt    `json:"lat,omitzero"`
	Lon     opt    `json:"lon,omitzero"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
}

type personName struct {
	First  string `json:"first,omitempty"` // contacts carry the full name in last and no first
	Last   string `json:"last"`
	Middle opt    `json:"middle,omitzero"`
}

type userRecord struct {
	Created      string     `json:"created"`
	District     string     `json:"district"`
	Email        opt        `json:"email,omitzero"`
	ID           string     `json:"id"`
	LastModified string     `json:"last_modified"`
	Name         personName `json:"name"`
	Roles        roles      `json:"roles"`
}

type roles struct {
	Contact       *contactRole       `json:"contact,omitempty"`
	DistrictAdmin *districtAdminRole `json:"district_admin,omitempty"`
	Staff         *staffRole         `json:"staff,omitempty"`
	Student       *studentRole       `json:"student,omitempty"`
	Teacher       *teacherRole       `json:"teacher,omitempty"`
}

type credentials struct {
	DistrictUsername string `json:"district_username"`
}

type studentRole struct {
	Credentials       *credentials `json:"credentials,omitempty"`
	DOB               opt          `json:"dob,omitzero"`
	ELLStatus         opt          `json:"ell_status,omitzero"`
	Email             opt          `json:"email,omitzero"` // undocumented, seen in real student roles
	Enrollments       []enrollment `json:"enrollments"`
	Ext               studentExt   `json:"ext"`
	FRLStatus         opt          `json:"frl_status,omitzero"`
	Gender            string       `json:"gender"`
	Grade             string       `json:"grade"`
	GraduationYear    string       `json:"graduation_year"`
	HispanicEthnicity string       `json:"hispanic_ethnicity"`
	HomeLanguage      opt          `json:"home_language,omitzero"`
	IEPStatus         opt          `json:"iep_status,omitzero"`
	Location          location     `json:"location"`
	Race              string       `json:"race"`
	School            string       `json:"school"`
	Schools           []string     `json:"schools"`
	SISID             string       `json:"sis_id"`
	StateID           opt          `json:"state_id,omitzero"`
	StudentNumber     opt          `json:"student_number,omitzero"`
}

type enrollment struct {
	EndDate   opt    `json:"end_date,omitzero"`
	School    string `json:"school"`
	StartDate string `json:"start_date"`
}

type studentExt struct {
	GiftedStatus string `json:"gifted_status"`
	// LunchPIN is a district-defined extension key that no client knows.
	LunchPIN string `json:"lunch_pin,omitempty"`
}

type teacherRole struct {
	Credentials   *credentials `json:"credentials,omitempty"`
	Ext           teacherExt   `json:"ext"`
	LegacyID      opt          `json:"legacy_id,omitzero"`
	School        string       `json:"school"`
	Schools       []string     `json:"schools"`
	SISID         string       `json:"sis_id"`
	StateID       opt          `json:"state_id,omitzero"`
	TeacherNumber opt          `json:"teacher_number,omitzero"`
	Title         opt          `json:"title,omitzero"`
}

type teacherExt struct {
	AdminPermissions string `json:"admin_permissions"`
}

type staffRole struct {
	Credentials *credentials `json:"credentials,omitempty"`
	Department  opt          `json:"department,omitzero"`
	Ext         struct{}     `json:"ext"`
	LegacyID    opt          `json:"legacy_id,omitzero"`
	Roles       []string     `json:"roles"`
	Schools     []string     `json:"schools"`
	StaffID     string       `json:"staff_id"`
	Title       opt          `json:"title,omitzero"`
}

type districtAdminRole struct {
	LegacyID opt `json:"legacy_id,omitzero"`
	Title    opt `json:"title,omitzero"`
}

type contactRole struct {
	LegacyID             opt                   `json:"legacy_id,omitzero"`
	Phone                opt                   `json:"phone,omitzero"`
	PhoneType            string                `json:"phone_type"`
	SISID                opt                   `json:"sis_id,omitzero"`
	StudentRelationships []studentRelationship `json:"student_relationships"`
}

type studentRelationship struct {
	Relationship string `json:"relationship"`
	Student      string `json:"student"`
	Type         string `json:"type"`
}

type sectionRecord struct {
	Course        opt         `json:"course"`
	Created       string      `json:"created"`
	District      string      `json:"district"`
	Ext           *sectionExt `json:"ext,omitempty"`
	Grade         opt         `json:"grade"`
	ID            string      `json:"id"`
	LastModified  string      `json:"last_modified"`
	Name          string      `json:"name"`
	Period        opt         `json:"period"`
	School        string      `json:"school"`
	SectionNumber opt         `json:"section_number,omitzero"`
	SISID         string      `json:"sis_id"`
	Students      []string    `json:"students"`
	Subject       string      `json:"subject"`
	Teacher       string      `json:"teacher"`
	Teachers      []string    `json:"teachers"`
	TermID        opt         `json:"term_id"`
}

type sectionExt struct {
	Classroom    string `json:"classroom"`
	LMSSectionID string `json:"lms_section_id,omitempty"`
}

type termRecord struct {
	District  string `json:"district"`
	EndDate   opt    `json:"end_date,omitzero"`
	ID        string `json:"id"`
	Name      opt    `json:"name,omitzero"`
	StartDate opt    `json:"start_date,omitzero"`
}

type courseRecord struct {
	District string `json:"district"`
	ID       string `json:"id"`
	Name     opt    `json:"name,omitzero"`
	Number   opt    `json:"number,omitzero"`
}
