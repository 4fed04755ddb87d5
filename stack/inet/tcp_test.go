package inet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"vnic/internal/topo"
	"vnic/stack"
	"vnic/stack/inet"
)

// realPair is topo.RealPair: two real-time hosts on a cable.
func realPair(t *testing.T) (a, b *stack.Host) { return topo.RealPair(t) }

// Go's net/http server and client run over vnic: host b serves, host a
// fetches through the emulated NIC and driver, on the wall clock.
func TestHTTPOverVnic(t *testing.T) {
	a, b := realPair(t)
	l, err := inet.ListenTCP(b, "tcp", "198.18.0.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dl, _ := ctx.Deadline()
			return inet.DialTCP(a, network, addr, dl)
		},
	}}
	for i := 0; i < 3; i++ { // a kept-alive connection reused
		resp, err := client.Get("http://198.18.0.2:8080/")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != sha256.Sum256(body) {
			t.Fatalf("fetch %d: %d bytes, not the body", i, len(got))
		}
	}
}
