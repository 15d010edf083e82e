package results

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HgrmTicksPerHalfDistance is the resolution of the percentile list, as in
// HdrHistogram's Java outputPercentileDistribution (5 lines per halving of
// the remaining tail).
const HgrmTicksPerHalfDistance = 5

// WriteHgrm writes h as an HdrHistogram percentile distribution (.hgrm), the
// text format that HdrHistogram's plotter and most tooling read, in the
// layout of the Java implementation's outputPercentileDistribution. Values
// are divided by scale: the load engine records microseconds, so scale 1000
// writes milliseconds.
//
// hdrhistogram-go's own PercentilesPrint writes a variant (tab-separated
// header, 6-decimal percentiles, "inf"); this writes the reference layout so
// files from chaosbench and from Java/wrk2 tools diff and plot alike.
func WriteHgrm(w io.Writer, h *hdrhistogram.Histogram, scale float64) error {
	if scale <= 0 {
		return fmt.Errorf("hgrm: scale must be positive, got %g", scale)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	digits := h.SignificantFigures()
	if h.TotalCount() > 0 {
		for _, b := range h.CumulativeDistributionWithTicks(HgrmTicksPerHalfDistance) {
			q := b.Quantile / 100
			v := float64(b.ValueAt) / scale
			if q >= 1 {
				// The last line has no finite 1/(1-Percentile): Java omits it.
				fmt.Fprintf(bw, "%12.*f %2.12f %10d\n", digits, v, q, b.Count)
				continue
			}
			fmt.Fprintf(bw, "%12.*f %2.12f %10d %14.2f\n", digits, v, q, b.Count, 1/(1-q))
		}
	}
	buckets, subBuckets := hdrGeometry(h)
	fmt.Fprintf(bw, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", h.Mean()/scale, h.StdDev()/scale)
	fmt.Fprintf(bw, "#[Max     = %12.3f, Total count    = %12d]\n", float64(h.Max())/scale, h.TotalCount())
	fmt.Fprintf(bw, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	return bw.Flush()
}

// WriteHgrmFile writes an .hgrm file (see WriteHgrm).
func WriteHgrmFile(path string, h *hdrhistogram.Histogram, scale float64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("hgrm: %w", err)
	}
	if err := WriteHgrm(f, h, scale); err != nil {
		f.Close()
		return fmt.Errorf("hgrm %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hgrm %s: %w", path, err)
	}
	return nil
}

// hdrGeometry recomputes the bucket layout the footer reports (the library
// keeps it unexported), with the same arithmetic as HdrHistogram:
// sub-buckets cover 2×10^digits with a power of two, buckets double until
// they cover the highest trackable value.
func hdrGeometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	digits := h.SignificantFigures()
	subBucketCountMagnitude := int64(math.Ceil(math.Log2(2 * math.Pow10(int(digits)))))
	subBuckets = int64(1) << subBucketCountMagnitude
	unitMagnitude := int64(math.Floor(math.Log2(float64(max(h.LowestTrackableValue(), 1)))))
	smallestUntrackable := subBuckets << unitMagnitude
	buckets = 1
	for smallestUntrackable <= h.HighestTrackableValue() {
		if smallestUntrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
