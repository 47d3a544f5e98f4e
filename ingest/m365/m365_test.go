package m365

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/atod-project/atod/ingest/formattest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/formats/m365")

var fixtures = filepath.Join("..", "..", "testdata", "formats", "m365")

func TestGolden(t *testing.T) { formattest.Golden(t, Format(), fixtures, *update) }

func FuzzDecode(f *testing.F) { formattest.Fuzz(f, Format(), fixtures) }

func BenchmarkDecode(b *testing.B) { formattest.Bench(b, Format(), fixtures) }
