// Package graph revokes a Microsoft Entra ID (Microsoft 365) account's
// sessions through Microsoft Graph: POST /users/{id}/revokeSignInSessions
// invalidates its refresh tokens and session cookies, and, each switchable,
// PATCH accountEnabled=false disables the account and riskyUsers/
// confirmCompromised tells Identity Protection. atod authenticates as an
// application (client-credentials grant) with a client secret or a
// certificate, and needs the application permissions User.RevokeSessions.All
// (User.ReadWrite.All to disable; IdentityRiskyUser.ReadWrite.All to
// confirm compromise, which first looks the account's id up and so also
// needs User.Read.All unless User.ReadWrite.All is granted).
package graph

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/atod-project/atod/alerts/internal/httpx"
	"github.com/atod-project/atod/alerts/internal/secret"
)

// EnvClientSecret may carry the client secret instead of client_secret_file.
const EnvClientSecret = "ATOD_GRAPH_CLIENT_SECRET"

// Config is hooks.graph.
type Config struct {
	TenantID string `yaml:"tenant_id"` // directory (tenant) id or a verified domain
	ClientID string `yaml:"client_id"` // the application (client) id
	// ClientSecretFile holds the client secret; EnvClientSecret may carry
	// it instead. Alternatively CertificateFile and PrivateKeyFile (PEM)
	// sign a client assertion, which Microsoft recommends over secrets.
	ClientSecretFile string `yaml:"client_secret_file"`
	CertificateFile  string `yaml:"certificate_file"`
	PrivateKeyFile   string `yaml:"private_key_file"`
	// LoginURL and GraphURL are the endpoints; national clouds and tests
	// change them.
	LoginURL string `yaml:"login_url"`
	GraphURL string `yaml:"graph_url"`
	// DisableAccount also sets accountEnabled to false: the attacker
	// cannot sign in again with the stolen password, but neither can the
	// user until someone re-enables the account.
	DisableAccount bool `yaml:"disable_account"`
	// ConfirmCompromised marks the user compromised in Identity
	// Protection, so that risk-based Conditional Access applies.
	ConfirmCompromised bool `yaml:"confirm_compromised"`
}

// DefaultConfig returns the public cloud's endpoints.
func DefaultConfig() Config {
	return Config{LoginURL: "https://login.microsoftonline.com", GraphURL: "https://graph.microsoft.com/v1.0"}
}

// Validate checks the config without reading the secret; lookupEnv nil
// means os.LookupEnv. Messages name keys relative to hooks.graph.
func (c Config) Validate(lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var errs []error
	if strings.TrimSpace(c.TenantID) == "" {
		errs = append(errs, errors.New("tenant_id: required"))
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, errors.New("client_id: required"))
	}
	cert := c.CertificateFile != "" || c.PrivateKeyFile != ""
	switch {
	case cert && (c.CertificateFile == "" || c.PrivateKeyFile == ""):
		errs = append(errs, errors.New("certificate_file and private_key_file: set both for certificate credentials"))
	case cert && c.ClientSecretFile != "":
		errs = append(errs, errors.New("client_secret_file conflicts with certificate_file: choose one credential"))
	case !cert && !secret.Present(c.secretRef(), lookupEnv):
		errs = append(errs, fmt.Errorf("client_secret_file: required (or %s, or certificate_file and private_key_file)", EnvClientSecret))
	}
	for _, u := range []struct{ key, v string }{{"login_url", c.LoginURL}, {"graph_url", c.GraphURL}} {
		if p, err := httpx.ParseServiceURL(u.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.key, err))
		} else if err := httpx.RequireHTTPS(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.key, err))
		}
	}
	return errors.Join(errs...)
}

func (c Config) secretRef() secret.Ref {
	return secret.Ref{Key: "client_secret_file", Path: c.ClientSecretFile, Env: EnvClientSecret}
}
