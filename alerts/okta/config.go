// Package okta ends an Okta user's sessions: DELETE
// /api/v1/users/{id}/sessions clears every identity-provider session and,
// with oauthTokens=true, revokes the OpenID Connect and OAuth tokens
// issued to the user, so signed-in apps lose access at their next check.
// atod authenticates with an API token (SSWS) or as an OAuth 2.0 service
// app (client credentials, private_key_jwt) granted okta.users.read (the
// login is looked up first) and okta.users.manage; the token asks for both.
package okta

import (
	"errors"
	"fmt"
	"os"

	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/secret"
)

// EnvAPIToken may carry the API token instead of api_token_file.
const EnvAPIToken = "ATOD_OKTA_API_TOKEN"

// Config is hooks.okta.
type Config struct {
	OrgURL string `yaml:"org_url"` // e.g. https://example.okta.com
	// APITokenFile holds an API token (EnvAPIToken may carry it instead).
	APITokenFile string `yaml:"api_token_file"`
	// ClientID and PrivateKeyFile (PEM, RSA) select the OAuth service app
	// instead; KeyID is the key's kid in the app's JWKS. The app must not
	// require DPoP, which atod does not implement.
	ClientID       string `yaml:"client_id"`
	PrivateKeyFile string `yaml:"private_key_file"`
	KeyID          string `yaml:"key_id"`
	// RevokeOAuthTokens is the oauthTokens query parameter (default true).
	RevokeOAuthTokens bool `yaml:"revoke_oauth_tokens"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{RevokeOAuthTokens: true} }

func (c Config) tokenRef() secret.Ref {
	return secret.Ref{Key: "api_token_file", Path: c.APITokenFile, Env: EnvAPIToken}
}

func (c Config) useOAuth() bool { return c.ClientID != "" || c.PrivateKeyFile != "" }

// Validate checks the config without reading secrets; messages name keys
// relative to hooks.okta.
func (c Config) Validate(lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var errs []error
	if u, err := httpx.ParseServiceURL(c.OrgURL); err != nil {
		errs = append(errs, fmt.Errorf("org_url: %w", err))
	} else if err := httpx.RequireHTTPS(u); err != nil {
		errs = append(errs, fmt.Errorf("org_url: %w", err))
	}
	switch {
	case c.useOAuth() && (c.ClientID == "" || c.PrivateKeyFile == ""):
		errs = append(errs, errors.New("client_id and private_key_file: set both for an OAuth service app"))
	case c.useOAuth() && c.APITokenFile != "":
		errs = append(errs, errors.New("api_token_file conflicts with client_id: choose one credential"))
	case !c.useOAuth() && !secret.Present(c.tokenRef(), lookupEnv):
		errs = append(errs, fmt.Errorf("api_token_file: required (or %s, or client_id and private_key_file)", EnvAPIToken))
	}
	return errors.Join(errs...)
}
