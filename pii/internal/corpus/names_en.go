package corpus

import "math/rand/v2"

var (
	enGiven  = []string{"John", "Mary", "Jane", "Robert", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Olivia", "Thomas"}
	enFamily = []string{"Smith", "Jones", "Brown", "O'Brien", "McDonald", "Taylor", "Wilson", "Clarke", "Nguyen", "Walker", "Hughes", "Patel"}
)

// EnglishName returns a Latin-script full name: given and family name,
// sometimes with a middle initial.
func EnglishName(r *rand.Rand) string {
	g := enGiven[r.IntN(len(enGiven))]
	f := enFamily[r.IntN(len(enFamily))]
	if r.IntN(4) == 0 {
		return g + " " + string(rune('A'+r.IntN(26))) + ". " + f
	}
	return g + " " + f
}
