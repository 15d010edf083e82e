package stack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"time"
)

// TLS at the edge (arch.Edge.TLS): NGINX terminates TLS 1.3 with a certificate made for this run only.
// It is generated here, in memory, copied into the NGINX container next to nginx.conf and never written
// anywhere else: no file in the repository, no registry, nothing that outlives the run. Clients (the load
// engine, the harness's own probes) trust this certificate and nothing else.

// In the NGINX container.
const (
	certPath = "/etc/nginx/chaosbench.crt"
	keyPath  = "/etc/nginx/chaosbench.key"
)

// runCert is a self-signed certificate for 127.0.0.1 and localhost, PEM-encoded, and the pool that
// trusts it alone.
type runCert struct {
	certPEM, keyPEM []byte
	roots           *x509.CertPool
}

// newRunCert makes an ECDSA P-256 self-signed certificate valid for a day (a run is shorter), with the
// names a client on the host uses: 127.0.0.1 (the entry URL) and localhost.
func newRunCert(runID string) (*runCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "chaosbench run " + runID, Organization: []string{"chaosbench"}},
		NotBefore:             now.Add(-time.Minute), // a little slack for the container's view of the clock
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: it is its own root in the clients' pool
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tls: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode key: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls: parse certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &runCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		roots:   roots,
	}, nil
}

// ClientTLS is the client side of the edge's TLS: TLS 1.3 only, trusting roots only. Every new
// connection is a full handshake (no session cache): the cost the keep-alive knobs are about.
func ClientTLS(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
}

// RootCAs is the pool that trusts this run's certificate only, for a client of the entry URL; nil when
// the stack serves plain HTTP.
func (s *Stack) RootCAs() *x509.CertPool {
	if s.cert == nil {
		return nil
	}
	return s.cert.roots
}

// CertPEM is this run's certificate (PEM), nil when the stack serves plain HTTP.
func (s *Stack) CertPEM() []byte {
	if s.cert == nil {
		return nil
	}
	return s.cert.certPEM
}

// prober is the client of the harness's own probes (readiness, reload confirmation): probeClient, or
// its twin that trusts this run's certificate.
func (s *Stack) prober() *http.Client {
	if s.cert == nil {
		return probeClient
	}
	s.probeOnce.Do(func() {
		s.tlsProbe = &http.Client{
			Timeout: probeClient.Timeout,
			Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
				TLSClientConfig: ClientTLS(s.cert.roots)},
		}
	})
	return s.tlsProbe
}

// entryPort is NGINX's port in its container: 443 with TLS, 80 without.
func (s *Stack) entryPort() string {
	if s.Config.Arch.Edge.TLS {
		return nginxTLSPort
	}
	return nginxPort
}
