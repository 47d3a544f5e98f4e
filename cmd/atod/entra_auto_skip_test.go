package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// docs/formats.md: "Valid but irrelevant records (audit logs, service
// principal sign-ins, SharePoint, logouts) are skipped and counted
// (`skipped` in the summary), not dead-lettered", and for Entra "Service
// principal and managed identity sign-ins ... are skipped". That holds with
// --format entra, but with the default --format auto a service principal
// or managed identity sign-in has no userPrincipalName, entra's sniff does
// not claim it, and it is dead-lettered with canonical's reason (`field
// "time": is required`). The first record is line 3 of the repository's
// own fixture testdata/formats/entra/graph-signins.jsonl; the others are
// Event Hubs diagnostic records of the two categories.
func TestAutoSkipsEntraServicePrincipalSignIns(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "signins.jsonl")
	dlq := filepath.Join(dir, "dlq.jsonl")
	records := `{"id":"2a0b3c4d-0006-4e5f-9a0b-000000000006","createdDateTime":"2026-03-03T08:02:00Z","appId":"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","appDisplayName":"backup-job","ipAddress":"193.175.0.20","servicePrincipalId":"7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9","servicePrincipalName":"backup-job","signInEventTypes":["servicePrincipal"],"status":{"errorCode":0}}
{"records":[{"time":"2026-03-03T08:02:03Z","category":"ServicePrincipalSignInLogs","tenantId":"t","properties":{"id":"sp1","createdDateTime":"2026-03-03T08:02:03Z","servicePrincipalId":"abc","servicePrincipalName":"backup","ipAddress":"193.175.0.20","status":{"errorCode":0}}}]}
{"records":[{"time":"2026-03-03T08:02:04Z","category":"ManagedIdentitySignInLogs","tenantId":"t","properties":{"id":"mi1","createdDateTime":"2026-03-03T08:02:04Z","servicePrincipalId":"abc","ipAddress":"193.175.0.20","status":{"errorCode":0}}}]}
`
	if err := os.WriteFile(in, []byte(records), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"entra", "auto"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"events", "--format", format, "--progress", "0", "--dlq", dlq, in}, nil, &stdout, &stderr)
		got, _ := os.ReadFile(dlq)
		if code != 0 || len(got) != 0 || stdout.Len() != 0 {
			t.Errorf("--format %s: exit %d, events %q, dead letters:\n%s\nwant exit 0, no events and no dead letters (skipped and counted)", format, code, stdout.String(), got)
		}
	}
}
