package main

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/atod-project/atod/ingest/secretfile"
)

// envOpsToken may carry the ops token instead of ops.token_file.
const envOpsToken = "ATOD_OPS_TOKEN"

// minOpsToken is the shortest token accepted: a guessable one protects
// nothing.
const minOpsToken = 16

// validateAuth refuses a listen address that other machines can reach
// unless a token is configured or unauthenticated access is chosen
// explicitly: /metrics tells how many sign-ins fail and which rules fire,
// partition by partition, and /readyz names the hosts that do not answer.
func (c *opsConfig) validateAuth(lookupEnv func(string) (string, bool)) error {
	if c.Listen == "" || c.AllowUnauthenticated || c.TokenFile != "" {
		return nil
	}
	if v, ok := lookupEnv(envOpsToken); ok && strings.TrimSpace(v) != "" {
		return nil
	}
	if loopbackOnly(c.Listen) {
		return nil
	}
	return fmt.Errorf("ops.listen: %s can be reached from other machines; set ops.token_file (or %s) so that "+
		"/metrics needs a bearer token, listen on 127.0.0.1, or set ops.allow_unauthenticated: true", c.Listen, envOpsToken)
}

// loopbackOnly reports whether HOST:PORT listens on loopback only: a
// loopback address or localhost. An empty host, 0.0.0.0 and :: are every
// interface; any other name may resolve to anything.
func loopbackOnly(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// token returns the ops token: the file's content, or the environment
// variable's; "" when neither is set.
func (c *opsConfig) token(lookupEnv func(string) (string, bool)) (string, error) {
	var tok string
	source := "ops.token_file"
	switch {
	case c.TokenFile != "":
		raw, err := secretfile.Read("ops.token_file", c.TokenFile)
		if err != nil {
			return "", err
		}
		tok = strings.TrimSpace(string(raw))
		if tok == "" {
			return "", fmt.Errorf("ops.token_file: %s is empty", c.TokenFile)
		}
	default:
		v, _ := lookupEnv(envOpsToken)
		tok = strings.TrimSpace(v)
		source = envOpsToken
	}
	if tok != "" && len(tok) < minOpsToken {
		return "", fmt.Errorf("%s: the token has %d bytes; use %d or more random characters", source, len(tok), minOpsToken)
	}
	return tok, nil
}

// authorized reports whether r carries the bearer token; any request does
// when there is no token.
func authorized(token string, r *http.Request) bool {
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// requireToken answers 401 to requests without the token.
func requireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(token, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atod"`)
			http.Error(w, "a bearer token is required (ops.token_file)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
