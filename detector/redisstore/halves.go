package redisstore

// halvesMin is the fewest states a Load decodes, or a Save encodes, in two
// halves at once (see package halves). Decoding and encoding a catch-up
// batch's states were a third of the live detector's goroutine
// (BENCHMARKS.md, session 11).
const halvesMin = 512
