package loopback

import "testing"

func TestFirstRemote(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  string
	}{
		{[]string{"127.0.0.1:9092", "[::1]:9093", "localhost:1", "LOCALHOST.:2", "[::ffff:127.0.0.2]:3", "127.9.9.9"}, ""},
		{[]string{"localhost:1", "10.0.0.5:6379", "redis-1:7000"}, "10.0.0.5:6379"},
		{[]string{"[::127.0.0.1]:1"}, "[::127.0.0.1]:1"}, // IPv4-compatible, not loopback
		{[]string{"localhost.example.org:1"}, "localhost.example.org:1"},
		{[]string{"0.0.0.0:1"}, "0.0.0.0:1"},
		{nil, ""},
	} {
		if got := FirstRemote(c.addrs); got != c.want {
			t.Errorf("FirstRemote(%q) = %q, want %q", c.addrs, got, c.want)
		}
	}
}
