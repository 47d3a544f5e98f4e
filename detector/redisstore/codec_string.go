package redisstore

import (
	"encoding/hex"
	"errors"
)

// Strings are their bytes, except that a canonical UUID (36 characters,
// lowercase hex, as most identity providers write event ids) is stored as
// its 16 bytes behind a marker byte: 17 bytes instead of 36, and that an
// account name may be sealed (strSealed, see sealer). A string that
// happens to start with a byte that could be read as a marker gets an
// escape byte in front. Any other spelling of a UUID (uppercase, braces)
// is kept as it is, so every string comes back unchanged.
const (
	strUUID   = 0x00 // then the 16 bytes of a canonical UUID
	strEscape = 0x01 // then a string starting with strUUID or strEscape
)

func appendString(b []byte, s string) []byte {
	if len(s) == 36 {
		if u, ok := parseUUID(s); ok {
			return append(append(b, strUUID), u[:]...)
		}
	}
	if len(s) > 0 && s[0] <= strSealed {
		b = append(b, strEscape)
	}
	return append(b, s...)
}

var errBadString = errors.New("malformed string")

func decodeString(b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	switch b[0] {
	case strUUID:
		if len(b) != 17 {
			return "", errBadString
		}
		return formatUUID(b[1:]), nil
	case strEscape:
		if len(b) < 2 || b[1] > strSealed {
			return "", errBadString // not what appendString writes
		}
		return string(b[1:]), nil
	}
	return string(b), nil
}

// parseUUID reads xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lowercase hex;
// the version and variant bits are not checked, as they are kept.
func parseUUID(s string) (u [16]byte, ok bool) {
	j := 0
	for i := 0; i < len(s); {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		i, j = i+2, j+1
	}
	return u, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(u []byte) string {
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
