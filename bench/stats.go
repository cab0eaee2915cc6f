package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// spread is the distribution of a set of durations.
type spread struct {
	n             int
	p50, p99, max time.Duration
	mean          time.Duration
}

// spreadOf summarises samples with nearest-rank percentiles.
func spreadOf(samples []time.Duration) spread {
	if len(samples) == 0 {
		return spread{}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)

	var sum time.Duration
	for _, s := range sorted {
		sum += s
	}
	return spread{
		n:    len(sorted),
		p50:  rank(sorted, 0.50),
		p99:  rank(sorted, 0.99),
		max:  sorted[len(sorted)-1],
		mean: sum / time.Duration(len(sorted)),
	}
}

func rank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (s spread) String() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s, mean %s (n=%d)", ms(s.p50), ms(s.p99),
		ms(s.max), ms(s.mean), s.n)
}

// ms formats a duration in milliseconds with three decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// ratio formats how many times larger a is than b.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx", float64(a)/float64(b))
}
