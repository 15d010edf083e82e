package conform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chaosbench/chaosbench/conform"
	"github.com/chaosbench/chaosbench/internal/redistest"
	"github.com/chaosbench/chaosbench/internal/refapitest"
	"github.com/chaosbench/chaosbench/target"
	"github.com/stretchr/testify/require"
)

const secret = refapitest.Secret

// refAPI starts the reference API in-process on a real redis-server.
func refAPI(t *testing.T, rs *redistest.Server, edit func(*target.Config)) string {
	opts := []refapitest.Option{refapitest.WithRedis(rs)}
	if edit != nil {
		opts = append(opts, refapitest.WithConfig(edit))
	}
	return refapitest.Start(t, opts...).URL
}

func statuses(r conform.Report) map[string]conform.Status {
	m := map[string]conform.Status{}
	for _, x := range r.Results {
		m[x.Rule] = x.Status
	}
	return m
}

// The reference API is the contract's reference implementation: with its secret and a way to take Redis
// down, every rule runs and passes, but the refresh rules, skipped while its refresh tokens are off
// (TestRefreshRules turns them on).
func TestReferenceAPIConforms(t *testing.T) {
	rs := redistest.Start(t)
	url := refAPI(t, rs, nil)
	outage := func(context.Context) (func(context.Context) error, error) {
		rs.Stop()
		return func(context.Context) error { rs.Start(); return nil }, nil
	}
	rep, err := conform.Run(context.Background(), url, conform.WithJWTSecret(secret), conform.WithStoreOutage(outage))
	require.NoError(t, err)
	for _, x := range rep.Results {
		want := conform.Passed
		if strings.HasPrefix(x.Rule, "refresh.") {
			want = conform.Skipped
		}
		require.Equal(t, want, x.Status, "%s: %s", x.Rule, x.Detail)
	}
	require.Len(t, rep.Results, len(conform.Rules()))
	require.Zero(t, rep.Failed())
}

// Each weaker design of the reference API breaks exactly the rules it should, and a plain URL skips
// what the suite cannot do to it.
func TestWeakerDesignsFailTheirRules(t *testing.T) {
	rs := redistest.Start(t)
	for _, tc := range []struct {
		name   string
		edit   func(*target.Config)
		failed []string
	}{
		// No idempotency: a repeat stores a second order, no 422, no 400 without a key.
		{"idempotency off", func(c *target.Config) { c.Idempotency = false },
			[]string{"idempotency.key-required", "idempotency.replay", "idempotency.replay-marker",
				"idempotency.payload-mismatch", "idempotency.concurrent"}},
		// Last write wins: If-Match is neither required nor compared.
		{"concurrency none", func(c *target.Config) { c.Concurrency = target.ConcurrencyNone },
			[]string{"etag.if-match-required", "etag.stale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := conform.Run(context.Background(), refAPI(t, rs, tc.edit))
			require.NoError(t, err)
			var failed []string
			for _, x := range rep.Results {
				if x.Status == conform.Failed {
					failed = append(failed, x.Rule)
				}
			}
			require.ElementsMatch(t, tc.failed, failed)
			st := statuses(rep)
			require.Equal(t, conform.Skipped, st["jwt.expired"], "no secret given")
			require.Equal(t, conform.Passed, st["jwt.alg-none"], "needs no secret")
			require.Equal(t, conform.Skipped, st["store.unavailable"], "no outage hook")
		})
	}
}

// A cookie-session service has no JWTs: the JWT rules are skipped, the rest still run.
func TestCookieSessionsSkipJWTRules(t *testing.T) {
	rs := redistest.Start(t)
	rep, err := conform.Run(context.Background(), refAPI(t, rs, func(c *target.Config) { c.Auth = target.AuthCookie }),
		conform.WithRules("auth.", "jwt."))
	require.NoError(t, err)
	st := statuses(rep)
	require.Equal(t, conform.Passed, st["auth.login"])
	require.Equal(t, conform.Skipped, st["jwt.alg-none"])
	require.Zero(t, rep.Failed())
}

func TestFormats(t *testing.T) {
	rep := conform.Report{URL: "http://127.0.0.1:1", Results: []conform.Result{
		{Rule: "etag.stale", Spec: "RFC 9110", Required: true, Status: conform.Failed, Detail: "want 412"},
		{Rule: "idempotency.replay-marker", Spec: "contract", Status: conform.Failed, Detail: "no header"},
		{Rule: "jwt.expired", Spec: "RFC 7519", Required: true, Status: conform.Skipped, Detail: "no secret"},
		{Rule: "auth.login", Spec: "contract", Required: true, Status: conform.Passed, Detail: "ok"},
	}}
	require.Equal(t, 1, rep.Failed(), "advice does not count")

	var text bytes.Buffer
	require.NoError(t, conform.Write(&text, "text", rep))
	require.Contains(t, text.String(), "NOT CONFORMING: 1 required rule(s) failed (1 passed, 2 failed, 1 skipped)")
	require.Contains(t, text.String(), "failed (advice)")

	var js bytes.Buffer
	require.NoError(t, conform.Write(&js, "json", rep))
	var back struct {
		Conforming bool             `json:"conforming"`
		Results    []conform.Result `json:"results"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.False(t, back.Conforming)
	require.Equal(t, rep.Results, back.Results)

	var ju bytes.Buffer
	require.NoError(t, conform.Write(&ju, "junit", rep))
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(ju.Bytes(), &suites))
	require.Equal(t, 4, suites.Suites[0].Tests)
	require.Equal(t, 1, suites.Suites[0].Failures)
	require.Equal(t, 1, suites.Suites[0].Skipped)

	require.ErrorContains(t, conform.Write(&text, "yaml", rep), `unknown format "yaml" (known: json, junit, text)`)
}

// A service that cannot sign up or log in is not conforming with every other rule skipped: signup and
// login fail, and say why.
func TestNoSignupIsNotConforming(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	rep, err := conform.Run(context.Background(), hs.URL)
	require.NoError(t, err)
	st := statuses(rep)
	require.Equal(t, conform.Failed, st["auth.signup"])
	require.Equal(t, conform.Failed, st["auth.login"])
	require.Equal(t, conform.Skipped, st["etag.stale"])
	require.Equal(t, 2, rep.Failed())
}

// With refresh tokens on, the reference API passes every refresh rule, with strict rotation and with a
// grace for lost answers alike (the rules use a token's successor before presenting it again, which no
// grace excuses). Access tokens of 2 s and no leeway let refresh.expired-access see one expire.
func TestRefreshRules(t *testing.T) {
	rs := redistest.Start(t)
	for _, grace := range []time.Duration{0, 30 * time.Second} {
		url := refAPI(t, rs, func(c *target.Config) { c.AccessTTL, c.TokenLeeway, c.RefreshGrace = 2*time.Second, 0, grace })
		rep, err := conform.Run(context.Background(), url, conform.WithRules("refresh."))
		require.NoError(t, err)
		require.Len(t, rep.Results, 4)
		for _, x := range rep.Results {
			require.Equal(t, conform.Passed, x.Status, "grace %s: %s: %s", grace, x.Rule, x.Detail)
		}
	}
}
