// Package deploy_test checks the deployment examples in this directory: the
// Prometheus alert rules against the metrics the rotator registers, and the
// Kubernetes manifest against the image's contract.
package deploy_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/firstline-rotator/firstline-rotator/metrics"
)

const (
	alertsFile     = "prometheus-alerts.yaml"
	alertTestsFile = "prometheus-alerts.test.yaml"
)

// builtinSeries are series Prometheus makes itself, not the rotator.
var builtinSeries = map[string]bool{"up": true}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()

	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatalf("read %s: %v", alertsFile, err)
	}
	var file ruleFile
	decoder := yaml.NewDecoder(strings.NewReader(string(data)))
	decoder.KnownFields(true)
	if err := decoder.Decode(&file); err != nil {
		t.Fatalf("parse %s: %v", alertsFile, err)
	}

	var rules []rule
	for _, group := range file.Groups {
		rules = append(rules, group.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rules", alertsFile)
	}
	return rules
}

// registeredNames returns every series name the metrics package exposes,
// with the _bucket, _sum and _count series of histograms.
func registeredNames(t *testing.T) map[string]bool {
	t.Helper()

	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	at := time.Unix(1_700_000_000, 0)
	m.RotationFinished("a", metrics.ResultSuccess, time.Second)
	m.TokenExpiry("a", at)
	m.SinkDelivered("a", "s", 1, at)
	m.SinkError("a", "s")
	m.HookResult("a", "h", "success")
	m.LoginBudget("a", 1)
	m.LoginBudgetExhausted("a")
	m.JournalGeneration("a", 1)
	m.VaultTokenExpiry(at)
	m.ProxyRequest("a", "ok")
	m.ProxyRetry("a")
	m.ProxyWait("a", time.Millisecond)

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	names := map[string]bool{}
	for _, family := range families {
		name := family.GetName()
		names[name] = true
		if family.GetType().String() == "HISTOGRAM" {
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		}
	}
	return names
}

func TestAlertRules_ReferenceOnlyRegisteredMetrics(t *testing.T) {
	rules := loadRules(t)
	names := registeredNames(t)

	for _, r := range rules {
		series := seriesNames(r.Expr)
		if len(series) == 0 {
			t.Errorf("%s: expression names no series: %s", r.Alert, r.Expr)
		}
		for _, name := range series {
			if !names[name] && !builtinSeries[name] {
				t.Errorf("%s: %s is not a metric the metrics package registers", r.Alert, name)
			}
		}
	}
}

func TestAlertRules_AreComplete(t *testing.T) {
	rules := loadRules(t)

	var alerts []string
	for _, r := range rules {
		alerts = append(alerts, r.Alert)
		if !slices.Contains([]string{"warning", "critical"}, r.Labels["severity"]) {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: needs a summary and a description annotation", r.Alert)
		}
		if r.For != "" {
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q is not a duration: %v", r.Alert, r.For, err)
			}
		}
	}

	for _, want := range []string{
		"FirstLineTokenExpiresSoon", "FirstLineSinkLagging",
		"FirstLineRotationFailing", "FirstLineLoginBudgetExhausted",
	} {
		if !slices.Contains(alerts, want) {
			t.Errorf("%s lacks the alert %s", alertsFile, want)
		}
	}
}

// TestAlertRules_Promtool checks the rules and runs their unit tests with
// Prometheus's own tool when it is installed (see the skip message).
func TestAlertRules_Promtool(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		promtool, _ = exec.LookPath("promtool")
	}
	if promtool == "" {
		t.Skip("promtool not found; scripts/install-promtool.sh installs it " +
			"(or set PROMTOOL to its path)")
	}

	for _, args := range [][]string{
		{"check", "rules", alertsFile},
		{"test", "rules", alertTestsFile},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

var (
	quoted   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	braced   = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	token    = regexp.MustCompile(`[0-9][0-9.]*[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*|\S`)
	grouping = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	keywords = []string{"and", "or", "unless", "offset", "bool", "atan2", "inf", "nan",
		"group_left", "group_right",
		"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
		"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)

// seriesNames returns the series names a PromQL expression selects: every
// identifier that is not a function, an operator keyword or a label in a
// grouping clause. Label matchers, ranges and strings are dropped first.
func seriesNames(expr string) []string {
	expr = braced.ReplaceAllString(quoted.ReplaceAllString(expr, `""`), " ")
	tokens := token.FindAllString(expr, -1)

	var names []string
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		next := ""
		if i+1 < len(tokens) {
			next = tokens[i+1]
		}

		switch {
		case slices.Contains(grouping, strings.ToLower(tok)) && next == "(":
			i = closing(tokens, i+1)
		case next == "(" || slices.Contains(keywords, strings.ToLower(tok)):
		case tok[0] == '_' || tok[0] == ':' || isLetter(tok[0]):
			names = append(names, tok)
		}
	}
	return names
}

// closing returns the index of the parenthesis that closes the one at open.
func closing(tokens []string, open int) int {
	depth := 0
	for i := open; i < len(tokens); i++ {
		switch tokens[i] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(tokens)
}

func isLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func TestSeriesNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up{job="x"} == 0`, []string{"up"}},
		{`increase(a_total{result="failure"}[15m]) > 0`, []string{"a_total"}},
		{`a - ignoring (sink) group_right b > 0`, []string{"a", "b"}},
		{`sum by (account) (rate(x[5m])) / on(account) group_left(sink) y`,
			[]string{"x", "y"}},
		{`a - time() < 600 and a > 0`, []string{"a", "a"}},
		{`max without (instance) (a offset 5m) or vector(1)`, []string{"a"}},
		{`label_replace(a, "dst", "$1", "src", "(.*)")`, []string{"a"}},
	}
	for _, tt := range tests {
		if got := seriesNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("seriesNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
