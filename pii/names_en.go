package pii

import (
	"bytes"
	"unicode/utf8"
)

// Latin-script person names are found only in context: after a name label
// ("Name:", "Full name:", "Contact person:", "author":"…"), a salutation
// ("Dear", "Hi", "Signed,") or a byline ("by Jane Doe", "By JANE DOE").
// A name is one to three capitalised words (O'Brien, McDonald, Jean-Luc,
// all capitals in a byline), with initials ("J. R. R. Tolkien") and
// particles (van, de, bin) between them.

var (
	// enStop are words that are not names after a salutation or label.
	enStop = wordSet("the a an all any and or of to in on at for from with by sir madam madame customer customers client clients friend friends team everyone everybody there here us our my me you your we they this that these those it its him her his hers them guest guests user users member members reader readers colleague colleagues valued hiring manager admin administrator support service mom dad folks guys hello hi thanks thank please welcome home contact about email phone name address unknown none null anonymous default test example sample world valued applicant candidate recruiter parents parent students student teacher sirs gentlemen ladies mr mrs ms miss dr prof not no yes new more see our staff editor editors author authors webmaster owner seller buyer shopper partner partners developer developers reviewer subscriber subscribers visitor visitors jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september october november december monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday default n/a tbd")
	// enOrg mark an organisation or a role, not a person.
	enOrg       = wordSet("inc ltd llc llp corp corporation co company group holdings team support department dept foundation university college institute school bank services service solutions technologies technology tech labs lab studio studios media news press staff office center centre association society club agency partners ventures capital systems software consulting industries international global limited gmbh ag sa plc pty editors editorial desk board committee council ministry government hospital clinic store shop market research network networks digital cloud online project community developers contributors authors writers reporters customer sales marketing hr admin desk helpdesk operations bot robot app apps platform google microsoft apple amazon facebook meta twitter github openai reuters bloomberg wikipedia")
	enHonorific = wordSet("mr mrs ms miss mx dr prof sir dame")
	enParticle  = wordSet("van von de der den da di del della la le du bin binti al el ter ten st")
	// enGiven are common given names: after "by" a name must start with one
	// (or an initial), so that "by Google Cloud" is not a person.
	enGiven = wordSet("oliver harry george charlie jacob freddie alfie archie theo leo arthur oscar lucas finn rory hugo felix sebastian tobias edward william thomas james henry isaac max elliot luke liam owen connor callum declan sean niall ciaran rhys dylan gareth aiden caleb ezra levi miles wyatt hunter jackson grayson carter julian isaiah lincoln maverick asher silas axel jonah luca enzo mateo santiago diego carlos miguel javier pablo andres luis jorge marco giovanni luca matteo lorenzo andrea francesco alessandro giulia chiara francesca sofia aurora beatrice camille manon lea chloe ines lina jade louise alice emilie sarah anna lena mia hanna lea marie johanna paula klara sophie emilia ella amelia isla ava ivy freya poppy florence evie rosie willow daisy phoebe imogen harriet matilda eleanor eliza niamh siobhan aoife maeve ruby scarlett violet hazel nora stella luna aria layla zoey riley nova penelope naomi elise margot eloise sienna maya amara zara leah esther miriam rebecca rachel ruth james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry gerald harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte marie kayla alexis lori jane tom tim mike jim bob bill dave steve chris matt nick alex sam ben dan joe tony max leo lucy kate anne claire sophie chloe ella mia zoe lily jean-luc luc pierre jacques marc michel francois hans klaus stefan jan lars sven erik ivan igor dmitri sergei olga elena ahmed mohammed ali omar fatima priya raj amit rahul wei li ming hiroshi yuki kenji takeshi" +
		// pinyin surnames, for "by WANG Wei" and "Name: Zhang San"
		" wang zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng su lu ding ren shen yao cui zhong tan jin shi liao jia xia fu qiu hou zou xiong meng qin bai yan xue yin duan lei tao mao hao gong shao qian kong kang niu ouyang kim park lee choi nguyen tran")
)

// upperTrigger records, at the upper-case letter t[i] that starts a word,
// the triggers too frequent inside words to be lexicon words: the
// salutations "Hi " and "Hello " and an e-mail address's " AT ".
func (sc *scanner) upperTrigger(i int) {
	t := sc.p.text
	n := len(t)
	switch {
	case t[i] == 'H' && i+3 < n && t[i+1] == 'i' && (t[i+2] == ' ' || t[i+2] == ','):
		if sc.f.wantNames {
			sc.salut = append(sc.salut, int32(i))
		}
	case t[i] == 'H' && i+6 < n && string(t[i+1:i+5]) == "ello" && (t[i+5] == ' ' || t[i+5] == ','):
		if sc.f.wantNames {
			sc.salut = append(sc.salut, int32(i))
		}
	case t[i] == 'A' && i > 0 && t[i-1] == ' ' && i+3 < n && t[i+1] == 'T' && t[i+2] == ' ':
		if sc.f.wantEmail {
			sc.ats = append(sc.ats, int32(i))
		}
	}
}

// englishAfterTrigger handles a salutation or byline trigger hit.
func (sc *scanner) englishAfterTrigger(h hit) {
	t := sc.p.text
	s, k := int(h.Start), int(h.End)
	var wb [16]byte
	w := string(lowerInto(wb[:], t[s:k]))
	// The separator after the trigger.
	switch w {
	case "hi", "hello":
		if k < len(t) && t[k] == ',' {
			k++ // "Hi, Anna" is rarer than "Hi Anna," but as clear
		}
		if k >= len(t) || t[k] != ' ' {
			return
		}
		k++
	case "signed", "regards", "sincerely":
		if k < len(t) && t[k] == ',' {
			k++
		}
		if k < len(t) && (t[k] == '\n' || t[k] == ' ') {
			k++
		} else {
			return
		}
	case "attn":
		if k < len(t) && (t[k] == ':' || t[k] == '.') {
			k++
		}
		if k < len(t) && t[k] == ' ' {
			k++
		}
	case "mr", "mrs", "ms", "miss", "dr", "prof":
		// An honorific as written before a name: "Mr", "Dr." — not "MS
		// Word" or "DR".
		if !isUpper(t[s]) || s+1 < k && isUpper(t[s+1]) {
			return
		}
		if k < len(t) && t[k] == '.' {
			k++
		}
		if k >= len(t) || t[k] != ' ' {
			return
		}
		k++
	default:
		if k >= len(t) || t[k] != ' ' {
			return
		}
		k++
	}
	if w == "by" && k < len(t) && t[k] >= 0xE4 {
		// "by 沈磊宁" in a mixed-language note.
		if e := sc.nameAt(k, false); e > k && utf8.RuneCount(sc.p.text[k:e]) >= 2 {
			sc.emitName(CNPersonName, k, e, "cn-name-byline")
		}
		return
	}
	if k >= len(t) || !isUpper(t[k]) {
		return
	}
	min, byline := 1, w == "by"
	if byline || w == "hello" {
		min = 2
	}
	if ns, e := sc.englishName(k, min, byline); e > ns {
		rule := "person-name-salutation"
		if byline {
			rule = "person-name-byline"
		}
		sc.emitName(PersonName, ns, e, rule)
	}
}

// englishName reads a Latin-script name at t[k] of at least min words and
// returns where it starts (after an honorific) and ends, or k, k. With
// byline, the first word must be a common given name or a pinyin surname
// ("by WANG Wei"), or the name must start with initials or be all in
// capitals ("By JANE DOE").
func (sc *scanner) englishName(k, min int, byline bool) (int, int) {
	t := sc.p.text
	s := k
	// An honorific is not part of the name but starts it: "Dear Mr. Smith".
	var lb [24]byte
	if e := wordEnd(t, k); e > k && enHonorific[string(lowerInto(lb[:], t[k:e]))] {
		m := e
		if m < len(t) && t[m] == '.' {
			m++
		}
		if m+1 < len(t) && t[m] == ' ' && isUpper(t[m+1]) {
			s = m + 1
			min = 1
		}
	}
	end := s
	// Initials count once a word follows them: "Product A." is no name.
	words, initials, pending, lead, caps := 0, 0, 0, 0, 0
	firstGiven := false
	for p := s; p < len(t) && words < 4; {
		// An initial: "J." or "J.R.R.".
		if isUpper(t[p]) && p+1 < len(t) && t[p+1] == '.' && (p+2 >= len(t) || !isAlnum(t[p+2]) || isUpper(t[p+2])) {
			pending++
			p += 2
			if p < len(t) && t[p] == ' ' && p+1 < len(t) && isUpper(t[p+1]) {
				p++
			}
			continue
		}
		e := wordEnd(t, p)
		if e == p || e-p == 1 || words > 0 && e < len(t) && t[e] == ':' {
			break // "Contact: N/A", "Contact: Li Na Tel: …" ("Dear Mr. Smith:" ends at its name)
		}
		lw := lowerInto(lb[:], t[p:e])
		if !isUpper(t[p]) {
			// A particle between two names: "Ludwig van Beethoven".
			if words == 0 || !enParticle[string(lw)] || e+1 >= len(t) || t[e] != ' ' || !isUpper(t[e+1]) {
				break
			}
			p = e + 1
			continue
		}
		if enOrg[string(lw)] {
			return k, k // "Acme Support", "Example Ltd"
		}
		if enStop[string(lw)] {
			if words == 0 && initials+pending == 0 {
				return k, k
			}
			break
		}
		if words == 0 {
			lead = pending
			firstGiven = enGiven[string(lw)]
			if h := bytes.IndexByte(lw, '-'); h > 0 {
				firstGiven = firstGiven || enGiven[string(lw[:h])] // Marie-Claire
			}
		}
		initials += pending
		pending = 0
		if allUpper(t[p:e]) && e-p > 1 {
			caps++
		}
		words++
		end = e
		if e < len(t) && t[e] == ':' {
			break
		}
		if e+1 < len(t) && t[e] == ' ' && (isUpper(t[e+1]) || t[e+1] >= 'a' && t[e+1] <= 'z') {
			p = e + 1
			continue
		}
		break
	}
	if words == 0 || words+initials < min || words > 3 {
		return k, k // four capitalised words in a row are a title
	}
	if byline && lead == 0 && !firstGiven && !(caps == words && words >= 2) {
		return k, k // "by Google Cloud", but "By JANE DOE"
	}
	if caps > 0 && !byline && caps == words && words < 2 {
		return k, k // "Hi ALL", "Name: N/A"
	}
	// The next word must not continue a company name: "John Smith & Co".
	if e := end; e+2 < len(t) && t[e] == ' ' && t[e+1] == '&' {
		return k, k
	}
	return s, end
}

// wordEnd returns the end of a Latin word at t[k]: letters with inner
// apostrophes and hyphens (O'Brien, Jean-Luc).
func wordEnd(t []byte, k int) int {
	e := k
	for e < len(t) {
		c := t[e]
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			e++
			continue
		}
		if (c == '\'' || c == '-') && e > k && e+1 < len(t) && t[e+1]|0x20 >= 'a' && t[e+1]|0x20 <= 'z' {
			e++
			continue
		}
		break
	}
	if e < len(t) && (isDigit(t[e]) || t[e] == '_' || t[e] == '@') {
		return k // "Build2", "user_name", "jane@…"
	}
	return e
}

func allUpper(b []byte) bool {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			return false
		}
	}
	return true
}

// lowerInto lower-cases the ASCII word b into dst; a word too long for dst
// gives nothing (no list word is that long).
func lowerInto(dst, b []byte) []byte {
	if len(b) > len(dst) {
		return dst[:0]
	}
	n := len(b)
	for i := range n {
		dst[i] = lower(b[i])
	}
	return dst[:n]
}
