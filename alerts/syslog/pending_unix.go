//go:build unix

package syslog

import (
	"crypto/tls"
	"net"
	"syscall"
)

// pending reports whether the receiver's side of conn has anything for us:
// bytes, an end of stream or an error. Receivers never send, so it usually
// means the receiver has closed the connection. It peeks at the socket
// without blocking, about a microsecond, so it can run before every write;
// alive then reads to be sure (through TLS, a session ticket is readable
// too, and harmless).
func pending(conn net.Conn) bool {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	readable := true
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		readable = rerr != syscall.EAGAIN && rerr != syscall.EWOULDBLOCK
		return true // done: never wait for readability
	})
	return err != nil || readable
}
