package webhook

import (
	"strings"
	"testing"
)

// secret_env names an environment variable. Pasting the secret itself
// there is an easy mistake (the key sits beside secret_file), and the
// error printed it on stderr, into the service's journal. Only a name in
// capitals is shown; one that is no variable's name is refused unshown.
func TestSecretEnvValueNotEchoed(t *testing.T) {
	const pasted = "whsec_Zm9vYmFyLXNlY3JldC0xMjM0NTY3ODkw"
	c := Config{URL: "https://soar.example.org/atod/revoke", SecretEnv: pasted}
	err := c.Validate(func(string) (string, bool) { return "", false })
	if err == nil {
		t.Fatal("Validate accepted a secret_env that is not a variable name")
	}
	if strings.Contains(err.Error(), pasted) {
		t.Errorf("Validate's error shows the value of secret_env, which may be the secret itself: %v", err)
	}
}

func TestSecretEnvNames(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	for env, want := range map[string]string{
		"ATOD_SINK_WEBHOOK_SECRET": "secret_file: required (or the environment variable ATOD_SINK_WEBHOOK_SECRET)",
		"whsec_abc123":             "secret_file: required (or the environment variable secret_env names)",
		"s3cr3t/+==":               "secret_env: is not an environment variable's name",
		"9LIVES":                   "secret_env: is not an environment variable's name",
	} {
		err := Config{URL: "https://soar.example.org/x", SecretEnv: env}.Validate(none)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("secret_env %q: %v, want %q", env, err, want)
		}
	}
}
