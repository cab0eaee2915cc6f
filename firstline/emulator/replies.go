package emulator

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// reply is an answer not yet written.
type reply struct {
	status int
	body   any
	allow  string // the Allow header of a 405
}

func (rp reply) write(w http.ResponseWriter) {
	data, err := json.Marshal(rp.body)
	if err != nil {
		rp.status, data = http.StatusInternalServerError, []byte(`{"message":"Server Error"}`)
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	if rp.allow != "" {
		w.Header().Set("Allow", rp.allow)
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(data)
}

func message(text string) map[string]string {
	return map[string]string{"message": text}
}

func unauthenticated() reply {
	return reply{status: http.StatusUnauthorized, body: message("Unauthenticated.")}
}

func notSupported(r *http.Request, m, supported string) reply {
	route := strings.TrimPrefix(r.URL.Path, "/")
	return reply{
		status: http.StatusMethodNotAllowed,
		body: message("The " + m + " method is not supported for route " + route +
			". Supported methods: " + supported + "."),
		allow: supported,
	}
}

// missingFields lists the required fields that are absent or empty.
func missingFields(in input, required ...string) []string {
	var missing []string
	for _, field := range required {
		if strings.TrimSpace(in[field]) == "" {
			missing = append(missing, field)
		}
	}
	return missing
}

// validation is Laravel's 422 for missing required fields.
func validation(missing []string) reply {
	errs := make(map[string][]string, len(missing))
	for _, field := range missing {
		errs[field] = []string{"The " + field + " field is required."}
	}
	return validationReply(errs)
}

// validationReply is a 422 whose message is the first problem, plus a
// count of the others, as Laravel words it.
func validationReply(errs map[string][]string) reply {
	fields := make([]string, 0, len(errs))
	for field := range errs {
		fields = append(fields, field)
	}
	sort.Strings(fields)

	var first string
	count := 0
	for _, field := range fields {
		for _, problem := range errs[field] {
			if first == "" {
				first = problem
			}
			count++
		}
	}

	text := first
	switch {
	case count == 2:
		text += " (and 1 more error)"
	case count > 2:
		text += " (and " + strconv.Itoa(count-1) + " more errors)"
	}
	return reply{status: http.StatusUnprocessableEntity,
		body: map[string]any{"message": text, "errors": errs}}
}
