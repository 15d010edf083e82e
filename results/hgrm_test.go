package results

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/chaosbench/chaosbench/load"
	"github.com/stretchr/testify/require"
)

func TestWriteHgrm(t *testing.T) {
	// Microseconds, as the load engine records: 1..10000 µs, one each.
	h := load.NewHistogram()
	for v := int64(1); v <= 10000; v++ {
		require.NoError(t, h.RecordValue(v))
	}
	var b bytes.Buffer
	require.NoError(t, WriteHgrm(&b, h, 1000))
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")

	require.Equal(t, "       Value     Percentile TotalCount 1/(1-Percentile)", lines[0])
	require.Equal(t, "", lines[1])
	// The first line is the smallest value, in ms.
	require.Equal(t, "       0.001 0.000000000000          1           1.00", lines[2])

	// Data lines: 4 columns rising together, except the last with 3.
	data := lines[2 : len(lines)-3]
	prevQ, prevV := -1.0, -1.0
	for i, l := range data {
		f := strings.Fields(l)
		if i == len(data)-1 {
			require.Len(t, f, 3, l)
			require.Equal(t, "1.000000000000", f[1])
			require.Equal(t, "10000", f[2])
		} else {
			require.Len(t, f, 4, l)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		require.NoError(t, err)
		q, err := strconv.ParseFloat(f[1], 64)
		require.NoError(t, err)
		require.GreaterOrEqual(t, v, prevV, l)
		require.GreaterOrEqual(t, q, prevQ, l)
		prevQ, prevV = q, v
	}
	// The median of 1..10000 µs is 5 ms, within the histogram's precision.
	median := ""
	for _, l := range data {
		if f := strings.Fields(l); f[1] == "0.500000000000" {
			median = f[0]
		}
	}
	require.Equal(t, "5.003", median)

	// The footer: mean 5 ms (to the histogram's precision), max 10 ms, and the library's own bucket layout.
	foot := lines[len(lines)-3:]
	require.Equal(t, "#[Mean    =        5.001, StdDeviation   =        2.887]", foot[0])
	require.Equal(t, "#[Max     =       10.007, Total count    =        10000]", foot[1])
	var lib bytes.Buffer
	_, err := h.PercentilesPrint(&lib, 5, 1000)
	require.NoError(t, err)
	libLines := strings.Split(strings.TrimRight(lib.String(), "\n"), "\n")
	require.Equal(t, libLines[len(libLines)-1], foot[2], "bucket geometry must match the library's")
}

func TestWriteHgrmGeometry(t *testing.T) {
	// Several geometries, each checked against the library's own footer.
	for _, g := range []struct {
		lo, hi int64
		digits int
	}{{1, 120_000_000, 3}, {1, 60_000_000, 2}, {1000, 3_600_000_000, 3}, {1, 1000, 1}} {
		h := hdrhistogram.New(g.lo, g.hi, g.digits)
		require.NoError(t, h.RecordValue(g.lo))
		var mine, lib bytes.Buffer
		require.NoError(t, WriteHgrm(&mine, h, 1))
		_, err := h.PercentilesPrint(&lib, 5, 1)
		require.NoError(t, err)
		require.Equal(t, lastLine(lib.String()), lastLine(mine.String()), "%+v", g)
	}
}

// An empty histogram (an architecture that sent nothing) still gives a file
// a plotter accepts: header and footer.
func TestWriteHgrmEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.hgrm")
	require.NoError(t, WriteHgrmFile(path, hdrhistogram.New(1, 1000, 2), 1))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), "Total count    =            0]")
	require.Error(t, WriteHgrm(&bytes.Buffer{}, hdrhistogram.New(1, 1000, 2), 0))
	require.ErrorContains(t, WriteHgrmFile(filepath.Join(t.TempDir(), "no", "dir.hgrm"), hdrhistogram.New(1, 1000, 2), 1), "dir.hgrm")
}
