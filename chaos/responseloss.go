package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaosbench/chaosbench/target/arch"
)

// Response-loss modes: how the answer is kept from the client once the node has done the work.
const (
	// LossReset resets the connection (RST) before any byte of the answer is sent: the reader sees a
	// reset where a response was due. Behind NGINX that is an upstream error: a POST or PATCH is a 502
	// to the client (NGINX never replays them), a GET or PUT is retried on another node, and the node
	// counts as failed for its passive health check (max_fails=1, fail_timeout=10s), so NGINX takes it
	// out of the pool and only the first request of every 10 s reaches the fault.
	LossReset = "reset"
	// LossTruncate sends the answer's status line and headers, then closes the connection before its
	// body: the client sees a response break off mid-way (no order id, no new ETag). Behind NGINX the
	// head is already forwarded, so the error comes after it: NGINX closes the client's connection and
	// does not count it against the node. Every matching request is lost, for as long as the fault lasts.
	LossTruncate = "truncate"
)

func init() {
	Register(Kind{Name: "response-loss", Roles: []arch.Role{arch.RoleAPI}, Routes: true, New: func(p Params) (Fault, error) {
		if err := p.check("percent", "method", "path", "mode"); err != nil {
			return nil, err
		}
		pct, err := p.Percent("percent", 100)
		if err != nil {
			return nil, err
		}
		mode, err := p.String("mode", LossReset, LossReset, LossTruncate)
		if err != nil {
			return nil, err
		}
		var methods []string
		for _, m := range p.List("method") {
			if m = strings.ToUpper(m); !validMethod(m) {
				return nil, fmt.Errorf("parameter method=%q: want an HTTP method such as POST, or a list [POST, PATCH]", p["method"])
			}
			methods = append(methods, m)
		}
		path := p["path"]
		if path != "" && !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("parameter path=%q: want a path prefix starting with /, such as /v1/orders", path)
		}
		return &ResponseLoss{Percent: pct, Methods: methods, Path: path, Mode: mode}, nil
	}})
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions:
		return true
	}
	return false
}

// ResponseLoss lets an API node do the work and keeps the answer from the client: an HTTP proxy in this
// process, which NGINX is pointed at for the node (as the latency fault's proxy), forwards each request,
// reads the node's whole response, and for Percent% of the requests that match Methods and Path (all, when
// empty) loses it as Mode says instead of passing it on. That is the ambiguous acknowledgement by
// construction: the write happened, the client cannot know, and a retry without an idempotency key is a
// second write every time. Which requests lose their answer is drawn from the run's seeded source.
type ResponseLoss struct {
	Percent float64
	Methods []string // upper case; none for any
	Path    string   // a prefix of the URL path; "" for any
	Mode    string   // LossReset or LossTruncate
}

var _ Fault = (*ResponseLoss)(nil)

func (*ResponseLoss) Name() string { return "response-loss" }

func (f *ResponseLoss) Inject(ctx context.Context, env *Env, t Target) (Effect, error) {
	listen := netip.AddrPortFrom(env.Stack.HostIP(), 0).String()
	p, err := startLossProxy(listen, t.Addr(), f, env.Float64)
	if err != nil {
		return Effect{}, fmt.Errorf("response-loss proxy for %s: %w", t.Name, err)
	}
	if err := env.Stack.Route(ctx, t.Name, p.Addr()); err != nil {
		p.Close()
		return Effect{}, fmt.Errorf("route %s through the response-loss proxy: %w", t.Name, err)
	}
	return Effect{Mechanism: "http proxy, " + f.describe(), Tally: p.tally,
		Revert: func(ctx context.Context) error {
			err := env.Stack.Route(ctx, t.Name, "")
			p.Close() // after NGINX's reload, so that no request is cut mid-way by the revert itself
			return err
		}}, nil
}

// describe says what the fault loses, for the report's mechanism: "30% of the answers to POST /v1/orders*
// reset".
func (f *ResponseLoss) describe() string {
	what := "the answers"
	if len(f.Methods) > 0 || f.Path != "" {
		where := strings.Join(f.Methods, "|")
		if f.Path != "" {
			where += " " + f.Path + "*"
		}
		what += " to " + strings.TrimSpace(where)
	}
	if f.Percent < 100 {
		what = strconv.FormatFloat(f.Percent, 'g', 4, 64) + "% of " + what
	} else {
		what = "all " + what
	}
	if f.Mode == LossTruncate {
		return what + " cut after the head"
	}
	return what + " reset"
}

// matches reports whether a request is one the fault aims at.
func (f *ResponseLoss) matches(r *http.Request) bool {
	return (len(f.Methods) == 0 || slices.Contains(f.Methods, r.Method)) && strings.HasPrefix(r.URL.Path, f.Path)
}

// quiet drops the proxy's own log lines: what it lost is counted (tally), and a broken connection is the
// point of the fault, not news.
var quiet = log.New(io.Discard, "", 0)

// errLost carries a response that the proxy read whole and will not deliver.
type errLost struct{ resp *http.Response }

func (errLost) Error() string { return "response lost on purpose" }

// lossProxy is the fault's HTTP proxy: httputil.ReverseProxy forwards every request to the node, and its
// ModifyResponse reads a matching answer whole and turns it into errLost, which the ErrorHandler loses.
type lossProxy struct {
	f       *ResponseLoss
	rand    func() float64
	l       net.Listener
	srv     *http.Server
	tr      *http.Transport
	matched atomic.Int64
	lost    atomic.Int64
	done    sync.WaitGroup
}

func startLossProxy(listen, upstream string, f *ResponseLoss, rand func() float64) (*lossProxy, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	target := &url.URL{Scheme: "http", Host: upstream}
	p := &lossProxy{f: f, rand: rand, l: l,
		tr: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the node sees what NGINX sent
		},
		Transport:      p.tr,
		ModifyResponse: p.modify,
		ErrorHandler:   p.lose,
		ErrorLog:       quiet,
	}
	p.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quiet}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		_ = p.srv.Serve(l)
	}()
	return p, nil
}

func (p *lossProxy) Addr() string { return p.l.Addr().String() }

// Close stops the proxy and every connection it holds.
func (p *lossProxy) Close() {
	_ = p.srv.Close()
	p.done.Wait()
	p.tr.CloseIdleConnections()
}

func (p *lossProxy) tally() (string, error) {
	lost, matched := p.lost.Load(), p.matched.Load()
	what := fmt.Sprintf("%d of %d matching answers lost", lost, matched)
	if lost == 0 {
		return what, fmt.Errorf("response-loss lost no answer (%d requests matched %s): nothing was tested", matched, p.f.describe())
	}
	return what, nil
}

// modify reads a matching answer whole (the node has finished the work) and decides whether to lose it.
func (p *lossProxy) modify(resp *http.Response) error {
	if !p.f.matches(resp.Request) {
		return nil
	}
	p.matched.Add(1)
	if p.f.Percent < 100 && p.rand()*100 >= p.f.Percent {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err // the node's own answer broke: a plain 502, not the fault's doing
	}
	resp.ContentLength = int64(len(body))
	return errLost{resp}
}

// lose is the ReverseProxy's ErrorHandler: for errLost it takes the client's connection and loses the
// answer as the mode says; any other error is the proxy's default 502.
func (p *lossProxy) lose(w http.ResponseWriter, r *http.Request, err error) {
	var el errLost
	if !errors.As(err, &el) {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, buf, herr := hj.Hijack()
	if herr != nil {
		return
	}
	p.lost.Add(1)
	if p.f.Mode == LossTruncate {
		// The head, with the length of the body that never comes, then an orderly close: the FIN
		// follows the head in order, so the reader always sees the head and then the end of the stream.
		resp := el.resp
		fmt.Fprintf(buf, "HTTP/1.1 %s\r\n", resp.Status)
		resp.Header.Del("Connection")
		resp.Header.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		_ = resp.Header.Write(buf)
		_, _ = buf.WriteString("\r\n")
		_ = buf.Flush()
		_ = conn.Close()
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}
