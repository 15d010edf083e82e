package stack

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/target/arch"
)

func TestNginxEdgeConfig(t *testing.T) {
	nodes := []upstream{{"api-1", "10.213.9.11:8080"}, {"api-2", "10.213.9.12:8080"}}
	tests := []struct {
		name     string
		balancer arch.Balancer
		edge     arch.Edge
		want     []string // lines that must appear
		absent   []string // lines that must not
	}{
		// The zero edge is today's configuration, byte for byte.
		{"default", arch.RoundRobin, arch.Edge{}, []string{"listen 80;", "keepalive 64;", `proxy_set_header Connection "";`},
			[]string{"ssl", "443", `Connection "close"`}},
		// TLS 1.3 only, with the run's certificate; upstream keep-alive untouched.
		{"tls", arch.RoundRobin, arch.Edge{TLS: true}, []string{"listen 443 ssl;", "ssl_protocols TLSv1.3;",
			"ssl_certificate " + certPath + ";", "ssl_certificate_key " + keyPath + ";", "keepalive 64;"},
			[]string{"listen 80;", "TLSv1.2"}},
		// HTTP/2 on the TLS port: NGINX 1.22's listen option (no http2 directive before 1.25.1).
		{"http2", arch.RoundRobin, arch.Edge{TLS: true, HTTP2: true}, []string{"listen 443 ssl http2;", "ssl_protocols TLSv1.3;"},
			[]string{"listen 80;", "http2 on;"}},
		// No pool towards the nodes, and the nodes are told to close.
		{"no upstream keep-alive", arch.RoundRobin, arch.Edge{NoUpstreamKeepAlive: true},
			[]string{`proxy_set_header Connection "close";`, "listen 80;"}, []string{"keepalive ", `Connection "";`}},
		// Sticky's per-node upstreams lose their pool too.
		{"sticky without upstream keep-alive", arch.Sticky, arch.Edge{NoUpstreamKeepAlive: true},
			[]string{"upstream route_api-2 {"}, []string{"keepalive "}},
		// The client's keep-alive is the load engine's: NGINX's configuration does not change.
		{"no client keep-alive", arch.RoundRobin, arch.Edge{NoClientKeepAlive: true}, []string{"keepalive 64;", "listen 80;"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := nginxEdgeConfig(tt.balancer, tt.edge, nodes, 5*time.Second, 1)
			require.NoError(t, err)
			conf := string(b)
			for _, w := range tt.want {
				require.Contains(t, conf, w)
			}
			for _, a := range tt.absent {
				require.NotContains(t, conf, a)
			}
			require.Equal(t, strings.Count(conf, "{"), strings.Count(conf, "}"), "balanced braces")
			if tt.edge == (arch.Edge{NoClientKeepAlive: tt.edge.NoClientKeepAlive}) {
				plain, err := nginxConfig(tt.balancer, nodes, 5*time.Second, 1)
				require.NoError(t, err)
				require.Equal(t, string(plain), conf, "no NGINX knob set: the configuration as it always was")
			}
		})
	}
}

// The run's certificate serves 127.0.0.1 and localhost over TLS 1.3 to a client that trusts it alone,
// and a TLS 1.2 client is refused by a server that allows 1.3 only (as NGINX's ssl_protocols TLSv1.3).
func TestRunCert(t *testing.T) {
	c, err := newRunCert("t1")
	require.NoError(t, err)
	blk, _ := pem.Decode(c.certPEM)
	require.NotNil(t, blk)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	require.Contains(t, cert.DNSNames, "localhost")
	require.True(t, cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))

	pair, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	defer srv.Close()

	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: ClientTLS(c.roots)}}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		url := strings.Replace(srv.URL, "127.0.0.1", host, 1)
		resp, err := cl.Get(url)
		require.NoError(t, err, host)
		require.Equal(t, uint16(tls.VersionTLS13), resp.TLS.Version)
		resp.Body.Close()
	}
	// Another run's certificate is not trusted: the pool holds this one only.
	other, err := newRunCert("t2")
	require.NoError(t, err)
	_, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: ClientTLS(other.roots)}}).Get(srv.URL)
	require.ErrorContains(t, err, "certificate")
	// TLS 1.2 at most: refused.
	old := &tls.Config{RootCAs: c.roots, MaxVersion: tls.VersionTLS12}
	_, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: old}}).Get(srv.URL)
	require.Error(t, err)
}
