package chaos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chaosbench/chaosbench/chaos"
)

// TestResponseLossBehindNGINX shows, on the real stack, that the node does the work and the client never
// gets the answer: each order whose answer was lost exists, and replaying its key says so. truncate loses
// every matching answer through the balancer, because NGINX does not count an error after the head
// against the node; reset is a 502 to the client for a POST.
func TestResponseLossBehindNGINX(t *testing.T) {
	s := sharedStack(t)
	token := signUp(t, s.Entry, fmt.Sprintf("loss-%d", time.Now().UnixNano()))
	order := func(url, key string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"request_id":"`+key+`","items":[{"sku":"a","qty":1}]}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), err
	}
	run := fmt.Sprint(time.Now().UnixNano())

	t.Run("truncate", func(t *testing.T) {
		in, id := inject(t, s, "response-loss", chaos.Params{"method": "POST", "path": "/v1/orders", "mode": "truncate"}, "api-2")
		// Straight to api-2 (NGINX's per-node route): the head arrives, the body never does.
		for i := range 3 {
			key := fmt.Sprintf("%s-direct-%d", run, i)
			code, _, err := order(nodeURL(s, "api-2", "/v1/orders"), key)
			require.Error(t, err, "the answer is cut")
			require.Equal(t, http.StatusCreated, code, "the head says the node created it")
			code, replayed, err := order(nodeURL(s, "api-1", "/v1/orders"), key)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, code)
			require.Equal(t, "true", replayed, "the order exists: the node did the work")
		}
		// Through the balancer: NGINX has 2 workers (2 cores), each cycling over the 3 nodes on its own, so
		// of 30 requests at least (30-2·2)/3 > 8, that is 9, reach api-2, and every one of them is lost:
		// an error after the head does not mark the node down.
		lost := 0
		for i := range 30 {
			code, _, err := order(s.Entry+"/v1/orders", fmt.Sprintf("%s-lb-%d", run, i))
			if err != nil {
				lost++
				continue
			}
			require.Equal(t, http.StatusCreated, code)
		}
		require.GreaterOrEqual(t, lost, 9)
		require.NoError(t, in.Revert(context.Background(), id))
		mech := in.Records()[0].Mechanism
		t.Logf("mechanism: %s", mech)
		require.Contains(t, mech, fmt.Sprintf("%d of %d matching answers lost", lost+3, lost+3))
		code, _, err := order(nodeURL(s, "api-2", "/v1/orders"), run+"-after")
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code, "reverted: answers arrive again")
	})

	t.Run("reset", func(t *testing.T) {
		in, id := inject(t, s, "response-loss", chaos.Params{"method": "POST", "mode": "reset"}, "api-3")
		for i := range 3 {
			key := fmt.Sprintf("%s-reset-%d", run, i)
			code, _, err := order(nodeURL(s, "api-3", "/v1/orders"), key)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadGateway, code, "NGINX answers a reset POST with 502 and does not replay it")
			code, replayed, err := order(nodeURL(s, "api-1", "/v1/orders"), key)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, code)
			require.Equal(t, "true", replayed, "the order exists: the node did the work")
		}
		require.NoError(t, in.Revert(context.Background(), id))
		require.Contains(t, in.Records()[0].Mechanism, "3 of 3 matching answers lost")
	})
}

// signUp creates a user at base (the balancer's entry, or one node's route through it) and returns its
// bearer token.
func signUp(t *testing.T, base, user string) string {
	t.Helper()
	creds := `{"username":"` + user + `","password":"password-` + user + `"}`
	code, _, err := do(http.MethodPost, base+"/v1/users", creds)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	resp, err := client.Post(base+"/v1/login", "application/json", strings.NewReader(creds))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Token string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotEmpty(t, out.Token)
	return out.Token
}
