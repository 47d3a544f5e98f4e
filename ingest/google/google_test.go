package google

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/atod-project/atod/ingest/formattest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/formats/google")

var fixtures = filepath.Join("..", "..", "testdata", "formats", "google")

func TestGolden(t *testing.T) { formattest.Golden(t, Format(), fixtures, *update) }

func FuzzDecode(f *testing.F) { formattest.Fuzz(f, Format(), fixtures) }

func BenchmarkDecode(b *testing.B) { formattest.Bench(b, Format(), fixtures) }
