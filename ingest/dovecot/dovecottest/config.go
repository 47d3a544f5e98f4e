package dovecottest

import (
	"fmt"
	"strings"
)

// configText renders a dovecot.conf for Dovecot 2.3 that needs nothing
// outside dir: its sockets, state and log live there, every login process
// runs unchrooted (a chroot needs root and a prepared tree), and no
// systemd or /etc/dovecot is involved.
func configText(dir string, p ports, ids identities, opt Options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	// Settings that Dovecot expands take %% for a literal %, which test
	// names (and so t.TempDir) may contain.
	xdir := strings.ReplaceAll(dir, "%", "%%")
	w("# Written by dovecottest; Dovecot %s syntax.", "2.3")
	w("protocols = imap")
	w("instance_name = dovecottest-%d", p.imap)
	w("base_dir = %s/run", dir)
	w("state_dir = %s/state", dir)
	w("listen = 127.0.0.1")
	w("log_path = %s", logFileName(dir))
	w("info_log_path = %s", logFileName(dir))
	w("debug_log_path = %s", logFileName(dir))
	if opt.LogTimestamp != "" {
		w("log_timestamp = %q", opt.LogTimestamp)
	}
	// What atod needs to tell unknown users from wrong passwords.
	w("auth_verbose = yes")
	w("auth_mechanisms = plain login")
	w("disable_plaintext_auth = no")
	w("ssl = no")
	// Failures answer at once, so a test can fail many times in a second.
	w("auth_failure_delay = 0")
	w("default_login_user = %s", ids.login)
	w("default_internal_user = %s", ids.internal)
	if ids.internalGroup != "" {
		w("default_internal_group = %s", ids.internalGroup)
	}
	w("first_valid_uid = 1")
	w("first_valid_gid = 1")
	w("mail_location = maildir:%s/mail/%%n", xdir)
	w("mail_uid = %d", ids.mailUID)
	w("mail_gid = %d", ids.mailGID)
	if opt.TrustedNetworks != "" {
		w("login_trusted_networks = %s", opt.TrustedNetworks)
	}
	w("service imap-login {")
	w("  chroot =")
	w("  inet_listener imap {")
	w("    address = 127.0.0.1")
	w("    port = %d", p.imap)
	w("  }")
	w("  inet_listener imaps {")
	w("    port = 0")
	w("  }")
	w("}")
	w("service anvil {")
	w("  chroot =")
	// The auth penalty would slow every further failure from one address
	// by up to 15 s; a brute-force test wants them all at once.
	w("  unix_listener anvil-auth-penalty {")
	w("    mode = 0")
	w("  }")
	w("}")
	w("passdb {")
	w("  driver = passwd-file")
	w("  args = scheme=PLAIN username_format=%%u %s", passwdFileName(xdir))
	w("}")
	w("userdb {")
	w("  driver = static")
	w("  args = uid=%d gid=%d home=%s/home/%%n", ids.mailUID, ids.mailGID, xdir)
	w("}")
	if opt.DoveadmAPIKey != "" {
		w("doveadm_api_key = %s", opt.DoveadmAPIKey)
		w("service doveadm {")
		w("  inet_listener http {")
		w("    address = 127.0.0.1")
		w("    port = %d", p.doveadm)
		w("  }")
		w("}")
	}
	if opt.ExtraConfig != "" {
		b.WriteString(opt.ExtraConfig)
		b.WriteString("\n")
	}
	return b.String()
}

// passwdFile renders the users as a passwd-file: user:{PLAIN}password
// and empty uid, gid, gecos, home and shell columns (the static userdb
// supplies them), then the nodelay extra field.
func passwdFile(users []User) string {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::nodelay=yes\n", u.Name, u.Password)
	}
	return b.String()
}
