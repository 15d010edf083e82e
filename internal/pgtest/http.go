package pgtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The Docker tests of the postgres architecture (target/stack, chaos) drive the reference API through its
// entry the same way: a user, then orders with keys.

var httpClient = &http.Client{Timeout: 10 * time.Second}

// Login signs a user up and logs in through the API at base, and returns the Authorization header.
func Login(base, user string) (string, error) {
	creds := fmt.Sprintf(`{"username":%q,"password":"password-%s"}`, user, user)
	if code, _, err := post(base+"/v1/users", creds, nil); err != nil || code != http.StatusCreated {
		return "", fmt.Errorf("signup %s: status %d: %v", user, code, err)
	}
	code, body, err := post(base+"/v1/login", creds, nil)
	if err != nil || code != http.StatusOK {
		return "", fmt.Errorf("login %s: status %d: %v", user, code, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return "", fmt.Errorf("login %s: %w", user, err)
	}
	return "Bearer " + tok.AccessToken, nil
}

// Order posts an order with request id rid under Idempotency-Key key and returns the status and whether
// it was a replay.
func Order(base, auth, key, rid string) (int, bool, error) {
	hdr := http.Header{"Authorization": {auth}, "Idempotency-Key": {key}}
	body := fmt.Sprintf(`{"request_id":%q,"items":[{"sku":"tea","qty":1}]}`, rid)
	req, err := http.NewRequest(http.MethodPost, base+"/v1/orders", strings.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	req.Header = hdr
	req.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer res.Body.Close()
	return res.StatusCode, res.Header.Get("Idempotent-Replayed") == "true", nil
}

func post(url, body string, hdr http.Header) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
