//go:build !unix

package syslog

import "net"

// pending cannot peek here; the probe after probeAfter of quiet is all.
func pending(net.Conn) bool { return false }
