package target

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// Error codes are part of the API contract: clients (and the load engine)
// tell failure causes apart by code, never by message text.
const (
	CodeBadRequest           = "bad_request"
	CodeBodyTooLarge         = "body_too_large"
	CodeUnsupportedMedia     = "unsupported_media_type"
	CodeHeadersTooLarge      = "headers_too_large"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeUsernameTaken        = "username_taken"
	CodeInvalidCredentials   = "invalid_credentials"
	CodeCredentialsMissing   = "credentials_missing"
	CodeTokenInvalid         = "token_invalid"
	CodeTokenExpired         = "token_expired"
	CodeSessionNotFound      = "session_not_found"
	CodeIdempotencyMissing   = "idempotency_key_missing"
	CodeIdempotencyInFlight  = "idempotency_in_flight"
	CodeIdempotencyReused    = "idempotency_key_reused"
	CodePreconditionRequired = "precondition_required"
	CodePreconditionFailed   = "precondition_failed"
	CodeStateStore           = "state_store_unavailable"
	CodeInternal             = "internal"
)

type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response","code":"internal"}`)
	}
	writeRaw(w, status, b)
}

// writeRaw sends a JSON body followed by a newline (as json.Encoder does),
// which keeps curl output readable. Replays go through here too, so a
// replayed body stays byte-identical to the first answer.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write(newline)
}

var newline = []byte("\n")

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

// decodeJSON reads exactly one JSON object into dst. It enforces the content
// type and size limit and refuses unknown fields and trailing data, so that
// a client's typo fails loudly instead of being silently ignored.
// It writes the error response itself and reports whether decoding worked.
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be application/json")
		return false
	}
	err := decodeBody(http.MaxBytesReader(w, r.Body, maxBytes), dst)
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body exceeds "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
	default:
		writeError(w, http.StatusBadRequest, CodeBadRequest, "malformed JSON body: "+err.Error())
	}
	return false
}

// decodeBody is the strict decoder behind decodeJSON (and its fuzz target).
func decodeBody(r io.Reader, dst any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// jsonFallback serves matched routes from mux and hands every miss to
// miss, so that even a wrong path or method gets a JSON error.
func jsonFallback(mux *http.ServeMux, miss http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		miss.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), muxKey{}, mux)))
	})
}

type muxKey struct{}

// writeMiss lets the mux decide between 404 and 405 (and the Allow header),
// then rewrites its plain-text answer as a JSON error.
func writeMiss(w http.ResponseWriter, r *http.Request) {
	mux := r.Context().Value(muxKey{}).(*http.ServeMux)
	h, _ := mux.Handler(r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	switch rec.Code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.Header().Get("Allow"))
		writeError(w, rec.Code, CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	case http.StatusNotFound:
		writeError(w, rec.Code, CodeNotFound, "no route for "+r.URL.Path)
	default:
		// A redirect (path cleaning) or anything else: pass it on as is.
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// headerSize approximates what the client sent as request line and headers.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
