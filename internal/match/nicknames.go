package match

import "strings"

// nicknameGroups is a modest built-in table of English given names and their usual short forms, one
// group per line, the formal name first. A name may sit in several groups ("al", "chris"); two first
// names are nicknames of each other when they share a group. Values are folded (lower case, no
// punctuation or spaces).
const nicknameGroups = `
abigail abby abbie gail
abraham abe bram
albert al bert bertie
alexander alex al alec xander sandy lex
alexandra alex alexa lexi sandra sandy
alfred al alf fred freddie
allison ally allie
alonzo lonnie lonzo
amanda mandy manda
andrew andy drew
angela angie
anthony tony ant
antonio tony toni
barbara barb barbie babs
benjamin ben benny benji
bernard bernie
beverly bev
bradley brad
brittany britt
caleb cal
calvin cal
cameron cam
camille cami
carolyn carol carrie
caroline carrie carol
catherine cathy kate katie cat kathy
katherine kathy kate katie kat kathryn kay
kathleen kathy kate katie
charles charlie chuck chas chaz
charlotte charlie lottie
christina chris tina christy
christine chris tina chrissy
christopher chris topher kit
cynthia cindy
daniel dan danny
danielle dani
david dave davey
deborah debbie deb debra
dominic dom
donald don donnie
dorothy dot dottie
douglas doug
edward ed eddie ted ned
eleanor ellie nora elle
elizabeth liz lizzie beth betty eliza libby betsy lisa liza elisa
emily em emmy
emma em
eugene gene
evan ev
frances fran frankie
francis frank fran
francisco frank paco cisco
frederick fred freddie rick
gabriel gabe
gabriela gabby gabi
gabrielle gabby gabi
gerald gerry jerry
gregory greg
harold hal harry
henry hank harry hal
isaac ike
isabel izzy bella isa
isabella izzy bella isa
jacob jake
jacqueline jackie
james jim jimmy jamie
jennifer jen jenny
jessica jess jessie
john jack johnny jon
jonathan jon jonny nathan
joseph joe joey
joshua josh
judith judy
julia julie jules
katelyn kate katie
kenneth ken kenny
kimberly kim
lawrence larry
leonard leo len lenny
lucas luke
madeline maddie maddy
madison maddie maddy
margaret maggie meg peggy marge margie greta
matthew matt
melissa missy mel
michael mike mikey mick
michelle shelly
mitchell mitch
natalie nat
nathaniel nate nathan nat
nicholas nick nicky cole
nicole nikki nicki
oliver ollie
olivia liv livvy
pamela pam
patricia pat patty trish tricia
patrick pat paddy
peter pete
philip phil
rebecca becky becca
richard rick ricky dick rich
robert bob bobby rob robby bert
ronald ron ronnie
samantha sam sammy
samuel sam sammy
sandra sandy
sarah sara sally
stephanie steph
stephen steve stevie
steven steve stevie
susan sue susie suzy
suzanne sue susie suzy
theodore ted teddy theo
thomas tom tommy
timothy tim timmy
valerie val
victoria vicky tori
vincent vince vinny
walter walt wally
william will bill billy willy liam
zachary zach zack
alejandro alex ale
guadalupe lupe
jose pepe
manuel manny
enrique kike quique
ignacio nacho
eduardo lalo eddie
roberto beto
alberto beto
`

// nicknames maps a folded first name to the groups it belongs to (group numbers, ascending).
var nicknames = func() map[string][]int32 {
	m := map[string][]int32{}
	for i, line := range strings.Split(strings.TrimSpace(nicknameGroups), "\n") {
		for _, name := range strings.Fields(line) {
			if g := m[name]; len(g) == 0 || g[len(g)-1] != int32(i) {
				m[name] = append(g, int32(i))
			}
		}
	}
	return m
}()
