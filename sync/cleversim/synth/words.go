package synth

// Constant word lists. They are package-level only because Go has no constant arrays; nothing writes them.

// firstNames mixes common US names with accented, non-Latin-script-origin and apostrophe names, as real
// SIS exports do.
var firstNames = [...]string{
	"Steve", "Julia", "Braeden", "Robin", "Seth", "Samantha", "Richard", "Amelie", "Olivia", "Liam",
	"Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas", "Mia", "Levi",
	"Amara", "Kwame", "Aaliyah", "DeShawn", "Mei", "Hiroshi", "Priya", "Arjun", "Fatima", "Omar",
	"José", "Zoë", "Renée", "Chloé", "Björn", "Søren", "Siobhán", "Ngozi", "Dmitri", "Aleksandra",
	"Thanh", "Minh", "Ximena", "Santiago", "Camila", "Valentina", "Diego", "Luis", "Ana", "Jesús",
	"Ethan", "Harper", "Benjamin", "Evelyn", "Henry", "Abigail", "Owen", "Emily", "Jack", "Ella",
	"D'Andre", "Mary-Kate", "Jean-Luc", "Anne-Marie", "Kai", "Leilani", "Malia", "Keanu", "Ayasha", "Tala",
	"Yusuf", "Layla", "Ibrahim", "Noor", "Chen", "Wei", "Jin", "Soo-ah", "Hana", "Yuki",
}

// lastNames includes apostrophes, spaces, particles, diacritics and very short names.
var lastNames = [...]string{
	"Ziemann", "Runolfsdottir", "Glover", "Plant", "Schoen", "Madison", "Collins", "Zeng", "Becker", "Roberts",
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernández", "López", "González", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"O'Brien", "D'Angelo", "O'Connor", "McCarthy", "MacDonald", "van der Berg", "de la Cruz", "Da Silva", "St. John", "Le",
	"Nguyễn", "Trần", "Núñez", "Müller", "Kowalczyk", "Dąbrowski", "Søndergaard", "Ó Súilleabháin", "Ng", "Wu",
	"Kim", "Park", "Choi", "Tanaka", "Suzuki", "Patel", "Shah", "Okafor", "Adeyemi", "Mensah",
	"Hahn", "Mertz", "Konopelski", "Raynor", "Block", "Spinka", "Jacobs", "Willms", "Goldner", "Schultz",
	"Kealoha", "Begay", "Yazzie", "Haddad", "Khalil", "Abdi", "Ivanova", "Petrov", "Rossi", "Bianchi",
}

// middleInitials are what SIS exports usually carry in name.middle.
const middleInitials = "ABCDEFGHIJKLMNOPRSTUVWY"

// placeNames name generic schools and streets.
var placeNames = [...]string{
	"Maple Grove", "Riverside", "Lincoln", "Washington", "Cedar Ridge", "Lakeview", "Hillcrest", "Oak Park",
	"Sunnyside", "Eastwood", "Westfield", "Brookside", "Fairview", "Highland", "Roosevelt", "Jefferson",
	"Kennedy", "Franklin", "Garfield", "Pinecrest", "Willow Creek", "Stonebridge", "Harbor View", "Meadowbrook",
}

// city is a district's home town: where its schools and students live. state is the two-letter US state
// code that schools' location.state carries.
type city struct {
	city, state, zip, area string
	lat, lon               float64
}

// cities are the home towns that Generate draws from.
var cities = [...]city{
	{"Brooklyn", "NY", "112", "718", 40.6782, -73.9442},
	{"Rockaway Beach", "NY", "116", "718", 40.5860, -73.8110},
	{"Springfield", "IL", "627", "217", 39.7817, -89.6501},
	{"Austin", "TX", "787", "512", 30.2672, -97.7431},
	{"Sacramento", "CA", "958", "916", 38.5816, -121.4944},
	{"Columbus", "OH", "432", "614", 39.9612, -82.9988},
	{"Tacoma", "WA", "984", "253", 47.2529, -122.4443},
	{"Albuquerque", "NM", "871", "505", 35.0844, -106.6504},
	{"Honolulu", "HI", "968", "808", 21.3069, -157.8583},
	{"Savannah", "GA", "314", "912", 32.0809, -81.0912},
}

// streetSuffixes complete street addresses.
var streetSuffixes = [...]string{"Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Way", "Court"}

// emailDomains are reserved example domains, as in Clever's demo data.
var emailDomains = [...]string{"example.net", "example.org", "example.com"}

// personalDomains are the webmail domains of people who do not use a district address: parents, and the
// students and staff whose SIS record carries a private address.
var personalDomains = [...]string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com"}

// gradeNames are the Clever Grade enum values used by schools, students and sections, by ordinal.
var gradeNames = [...]string{
	"PreKindergarten", "TransitionalKindergarten", "Kindergarten",
	"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
}

// Grade ordinals into gradeNames.
const (
	gradePreK  = 0
	gradeTK    = 1
	gradeK     = 2
	grade1     = 3
	grade5     = 7
	grade6     = 8
	grade8     = 10
	grade9     = 11
	grade12    = 14
	gradeCount = 15
)

// Clever enum values, with the empty string that real districts send.
var (
	genders       = [...]string{"F", "M", "X", ""}
	races         = [...]string{"Caucasian", "Asian", "Black or African American", "American Indian", "Hawaiian or Other Pacific Islander", "Two or More Races", "Unknown", ""}
	frlStatuses   = [...]string{"Free", "Reduced", "Paid", ""}
	phoneTypes    = [...]string{"Cell", "Home", "Work", "Other", ""}
	relationships = [...]string{"Parent", "Grandparent", "Aunt/Uncle", "Sibling", "Self", "Other", ""}
	contactTypes  = [...]string{"Parent/Guardian", "Emergency", "Primary", "Secondary", "Family", "Other", ""}
	loginMethods  = [...]string{"Clever Badges", "Clever Passwords", "Google", "SAML", "LDAP", "Canvas", "Other"}
	// homeLanguages is a subset of the v3.0 home_language enum, most common first.
	homeLanguages = [...]string{"English", "Spanish", "Vietnamese", "Chinese", "Arabic", "Somali", "Tagalog", "Russian", "Korean", "Hmong", "Urdu", "Portuguese", ""}
)

// subject describes one Clever section subject with the words courses of that subject use.
type subject struct {
	enum       string    // Clever's subject enum value
	elementary string    // course word in "Grade 4 <word>"
	secondary  [4]string // course names in grades 6–12
	teacher    string    // teacher title word
}

// subjects is the course catalog, in the order courses cycle through it.
var subjects = [...]subject{
	{"math", "Math", [4]string{"Mathematics", "Algebra I", "Geometry", "Statistics"}, "Math"},
	{"english/language arts", "Reading", [4]string{"English", "Literature", "Composition", "Journalism"}, "English"},
	{"science", "Science", [4]string{"Science", "Biology", "Chemistry", "Physics"}, "Science"},
	{"social studies", "Social Studies", [4]string{"US History", "World History", "Civics", "Economics"}, "Social Studies"},
	{"homeroom/advisory", "Homeroom", [4]string{"Advisory", "Homeroom", "Advisory", "Homeroom"}, "Homeroom"},
	{"arts and music", "Music", [4]string{"Media Arts", "Band", "Choir", "Studio Art"}, "Arts"},
	{"PE and health", "Physical Education", [4]string{"Physical Education", "Health", "Physical Education", "Dance"}, "PE"},
	{"language", "Spanish", [4]string{"Spanish I", "French I", "Spanish II", "Mandarin I"}, "World Language"},
	{"technology and engineering", "Computer Lab", [4]string{"Web Design Elective", "Robotics", "Computer Science", "Engineering Design"}, "Technology"},
	{"interventions/online learning", "Reading Intervention", [4]string{"Math Lab", "Reading Lab", "Credit Recovery", "Online Learning"}, "Intervention"},
	{"other", "Library", [4]string{"Study Skills", "Library", "Yearbook", "Student Leadership"}, "Elective"},
}

// Staff and administrator vocabulary. Clever does not publish the values of roles.staff.roles; these are
// illustrative.
var (
	staffTitles      = [...]string{"Principal", "Assistant Principal", "School Counselor", "Librarian", "IT Coordinator", "Registrar", "School Nurse", "Office Manager", "Instructional Coach"}
	staffDepartments = [...]string{"Administration", "Counseling", "Technology", "Library", "Health Services", "Special Education", "Front Office", ""}
	staffRoleSets    = [...][]string{{"School Admin"}, {"School Tech Lead"}, {"School Admin", "School Tech Lead"}, {}}
	adminTitles      = [...]string{"Superintendent", "Director of Technology", "Curriculum Director", "Assistant Superintendent", ""}
)

// foldTable spells the non-ASCII letters of the name lists in ASCII for usernames and emails.
var foldTable = map[rune]string{
	'é': "e", 'ë': "e", 'è': "e", 'á': "a", 'à': "a", 'ä': "a", 'ą': "a", 'í': "i", 'ó': "o", 'ö': "o",
	'ø': "o", 'ú': "u", 'ü': "u", 'ñ': "n", 'ç': "c", 'ễ': "e", 'ầ': "a", 'Ó': "o", 'É': "e", 'Ø': "o",
	'Ñ': "n", 'Ü': "u", 'Á': "a", 'Í': "i", 'Ú': "u", 'Ö': "o", 'Ä': "a", 'Š': "s", 'š': "s", 'ß': "ss",
}
