// Package secret reads the credentials of alert integrations. They come
// from a file named in the config (key *_file) or from an environment
// variable, never from the config text or a flag, so that configs can be
// shared and command lines (visible in ps) stay clean.
package secret

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/atod-project/atod/ingest/secretfile"
)

// ErrMissing is returned when neither the file key nor the variable gives
// a value.
var ErrMissing = errors.New("secret not configured")

// Ref names where one secret may come from.
type Ref struct {
	Key  string // the config key of the file, e.g. "client_secret_file"
	Path string // its value; empty: not set
	Env  string // the environment variable consulted when Path is empty
}

// Load returns the secret with surrounding white space removed (files
// usually end in a newline). Setting both is not an error: the file wins,
// as an explicit config wins over the ambient environment.
func Load(r Ref, lookupEnv func(string) (string, bool)) (string, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if r.Path != "" {
		raw, err := secretfile.Read(r.Key, r.Path)
		if err != nil {
			return "", err
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			return "", fmt.Errorf("%s: %s is empty", r.Key, r.Path)
		}
		return v, nil
	}
	if r.Env != "" {
		if v, ok := lookupEnv(r.Env); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: %w (set %s or the environment variable %s)", r.Key, ErrMissing, r.Key, r.Env)
}

// Present reports whether Load would find something, without reading a
// file: Validate uses it to name a missing secret before any work starts.
func Present(r Ref, lookupEnv func(string) (string, bool)) bool {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if r.Path != "" {
		return true
	}
	v, ok := lookupEnv(r.Env)
	return ok && strings.TrimSpace(v) != ""
}
