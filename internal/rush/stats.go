package rush

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Percentile is the q-th quantile (0..1) of the samples by the nearest-rank method, 0 when
// there are none.
func Percentile(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// Ms writes a duration in milliseconds with one decimal, as the BENCH lines do.
func Ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

// Buckets is a Prometheus histogram's cumulative counts by upper bound (le), summed over
// the series that matched.
type Buckets map[float64]float64

// ScrapeHistogram reads a histogram from a Prometheus text exposition at url: the buckets of
// every series of the metric whose labels include all of want.
func ScrapeHistogram(ctx context.Context, url, metric string, want map[string]string) (Buckets, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the metrics: HTTP %d", resp.StatusCode)
	}
	return ParseHistogram(resp.Body, metric, want)
}

// ParseHistogram reads a histogram from a Prometheus text exposition, as ScrapeHistogram does.
func ParseHistogram(r io.Reader, metric string, want map[string]string) (Buckets, error) {
	out := Buckets{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prefix := metric + "_bucket{"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		labelText, value, ok := strings.Cut(line[len(prefix):], "} ")
		if !ok {
			continue
		}
		labels := parseLabels(labelText)
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		le, err := strconv.ParseFloat(labels["le"], 64) // "+Inf" parses as infinity
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", line, err)
		}
		n, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", line, err)
		}
		out[le] += n
	}
	return out, sc.Err()
}

// parseLabels reads `a="x",b="y"` (the bridge's label values hold no quotes or commas).
func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if ok {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// Minus is the observations made between an earlier scrape and this one.
func (b Buckets) Minus(earlier Buckets) Buckets {
	out := Buckets{}
	for le, n := range b {
		out[le] = n - earlier[le]
	}
	return out
}

// Count is the number of observations.
func (b Buckets) Count() float64 { return b[math.Inf(1)] }

// Quantile estimates the q-th quantile as Prometheus's histogram_quantile does: linearly
// within the bucket it falls in (the highest finite bound when it falls in +Inf). 0 when
// there are no observations.
func (b Buckets) Quantile(q float64) time.Duration {
	total := b.Count()
	if total == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(b))
	for le := range b {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	rank := q * total
	lower, below := 0.0, 0.0
	for _, le := range bounds {
		if b[le] >= rank {
			if math.IsInf(le, 1) {
				return seconds(lower)
			}
			inBucket := b[le] - below
			if inBucket <= 0 {
				return seconds(le)
			}
			return seconds(lower + (le-lower)*(rank-below)/inBucket)
		}
		lower, below = le, b[le]
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
