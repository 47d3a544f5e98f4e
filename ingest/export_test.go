package ingest

// Test helpers for the external test package (auto_bench_test.go), which may
// import the format packages that import ingest.
var (
	GenLines  = genLines
	JoinLines = joinLines
)

const BenchLines = benchLines
