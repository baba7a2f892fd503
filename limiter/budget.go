package limiter

import (
	"fmt"
	"math"
	"time"
)

// DefaultShare is the share of a site's estimated daily traffic that goodbot
// allows itself when none is configured.
const DefaultShare = 0.1

// Article16 is the text that bounds the share: Article 16 of the draft Data
// Security Management Measures (Cyberspace Administration of China, 28 May
// 2019).
const Article16 = `Article 16 of the draft Data Security Management Measures (CAC, 2019): ` +
	`automatic access must not hinder a website's normal operation; where it seriously affects it, ` +
	`such as "automatic access exceeding one-third of the website's average daily traffic", ` +
	`it shall stop when the website requests`

// CheckShare reports whether share may be used as the fraction of a site's
// daily traffic to allow: 0 < share < 1/3. Shares at or above one third are
// refused with an error quoting Article 16.
func CheckShare(share float64) error {
	switch {
	case math.IsNaN(share) || share <= 0:
		return fmt.Errorf("limiter: share %v must be above 0 (the default is %v)", share, DefaultShare)
	case share >= 1.0/3:
		return fmt.Errorf("limiter: share %v is at or above one third of the site's daily traffic, which goodbot refuses: %s", share, Article16)
	}
	return nil
}

// Budget returns a site's daily budget in requests: share × perDay.
func Budget(perDay, share float64) float64 { return perDay * share }

// dailyLimit is the number of requests a daily budget allows in one day. A
// budget below one request a day allows none.
func dailyLimit(budget float64) int64 { return int64(math.Floor(budget)) }

// budgetInterval returns the pacing interval for a daily budget in a day of
// length day: T = day / budget, rounded up to a whole microsecond. A budget
// below one request a day gets an interval of a whole day.
func budgetInterval(budget float64, day time.Duration) time.Duration {
	return time.Duration(budgetIntervalMicros(budget, day.Microseconds())) * time.Microsecond
}

func budgetIntervalMicros(budget float64, dayMicros int64) int64 {
	if !(budget >= 1) {
		return dayMicros
	}
	return int64(math.Ceil(float64(dayMicros) / budget))
}

// dayIndex returns the number of the (possibly compressed) day holding the
// instant t, in microseconds since the Unix epoch. With the default day
// length of 24 h these are calendar days in UTC.
func dayIndex(t, dayMicros int64) int64 {
	d := t / dayMicros
	if t < 0 && t%dayMicros != 0 {
		d--
	}
	return d
}

func durationMicros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
