package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody caps how much of a request body is read.
const maxBody = 1 << 20

// input is the request's parameters as Laravel's input() sees them: the
// query, overridden by a JSON or form body.
type input map[string]string

func readInput(r *http.Request) input {
	in := input{}
	for key, values := range r.URL.Query() {
		in[key] = values[0]
	}

	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case media == "application/x-www-form-urlencoded":
		form, _ := url.ParseQuery(string(body))
		for key, values := range form {
			in[key] = values[0]
		}
	case media == "application/json" || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		mergeJSON(in, body)
	}
	return in
}

// mergeJSON adds a JSON object's scalar members; a malformed body adds
// nothing, as in Laravel.
func mergeJSON(in input, body []byte) {
	var members map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&members) != nil {
		return
	}

	for key, value := range members {
		switch v := value.(type) {
		case string:
			in[key] = v
		case json.Number:
			in[key] = v.String()
		case bool:
			in[key] = map[bool]string{true: "1", false: "0"}[v]
		}
	}
}

// method is the request's method after Laravel's method spoofing: a POST
// carrying _method (in a JSON or form body, or the query) counts as that
// method.
func method(r *http.Request, in input) string {
	if r.Method == http.MethodPost {
		if spoofed := strings.ToUpper(in["_method"]); spoofed != "" {
			return spoofed
		}
	}
	return r.Method
}

// bearer returns the token from "Authorization: Bearer" or ?token=.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
		return strings.TrimSpace(token)
	}
	return r.URL.Query().Get("token")
}
