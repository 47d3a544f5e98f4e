package dovecot

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/atod-project/atod/alerts/internal/apitest"
)

// FuzzReadAnswer checks the reading of doveadm's answer to a kick, on
// which "the attacker's sessions are closed" hangs: any bytes give a
// result or an error naming what was being done, never a panic. Success
// needs exactly one reply, tagged as the request was (so an answer to
// another request never counts), that is a doveadmResponse or the exit
// code for "no session open"; a retry is only asked for with an error.
func FuzzReadAnswer(f *testing.F) {
	for _, b := range []string{
		`[["doveadmResponse",[{"result":"anna@example.org"}],"atod-a1b2"]]`,
		`[["doveadmResponse",[],"atod-a1b2"]]`,
		`[["error",{"type":"exitCode", "exitCode":68},"atod-a1b2"]]`,
		`[["error",{"type":"exitCode", "exitCode":75},"atod-a1b2"]]`,
		`[["error",{"type":"exitCode", "exitCode":64},"atod-a1b2"]]`,
		`[["error",{"type":"unknownMethod"},"atod-a1b2"]]`,
		`[["doveadmResponse",[],"other"]]`,
		`[["doveadmResponse",[],"atod-a1b2"],["doveadmResponse",[],"atod-a1b2"]]`,
		`[[null,null,null]]`,
		`[["error",{"TYPE":"exitCode","exitcode":68.0},"atod-a1b2"]]`,
		`<html>`,
	} {
		f.Add([]byte(b), "a1b2")
	}
	const op = "kicking anna@example.org from Dovecot"
	f.Fuzz(func(t *testing.T, raw []byte, id string) {
		want := "atod-" + id
		retry, err := readAnswer(op, raw, want)
		if err != nil {
			if !strings.HasPrefix(err.Error(), op+": ") {
				t.Fatalf("error %q does not say what was being done", err)
			}
			return
		}
		if retry {
			t.Fatalf("%q: retry without an error", raw)
		}
		var answer [][]json.RawMessage
		if json.Unmarshal(raw, &answer) != nil || len(answer) != 1 || len(answer[0]) != 3 {
			t.Fatalf("%q accepted: not one reply of three parts", raw)
		}
		var kind, gotTag string
		if json.Unmarshal(answer[0][0], &kind) != nil || json.Unmarshal(answer[0][2], &gotTag) != nil || gotTag != want {
			t.Fatalf("%q accepted for tag %q", raw, want)
		}
		if _, err := readAnswer(op, raw, want+"x"); err == nil {
			t.Fatalf("%q accepted for tags %q and %q", raw, want, want+"x")
		}
		switch kind {
		case "doveadmResponse":
		case "error":
			strs, nums, err := apitest.JSONValues(answer[0][1])
			if err != nil || !slices.Contains(strs, "exitCode") || !slices.Contains(nums, "68") {
				t.Fatalf("%q accepted: an error other than exit code 68", raw)
			}
		default:
			t.Fatalf("%q accepted: reply %q", raw, kind)
		}
	})
}
