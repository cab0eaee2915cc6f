package config

import "testing"

func TestParse_syntaxErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"on the first line", "a: b: c\n",
			"c.yaml:1: invalid YAML: mapping values are not allowed in this context"},
		{"scanner error", "x: 1\ny: 2\na: b: c\n",
			"c.yaml:3: invalid YAML: mapping values are not allowed in this context"},
		{"parser error", "x: 1\n- y\n", "c.yaml:2: invalid YAML: did not find expected key"},
		{"unclosed flow mapping", "x: 1\ny: {a: 1\n",
			"c.yaml:2: invalid YAML: did not find expected ',' or '}'"},
		{"unknown anchor", "x: 1\ny: *nope\n",
			"c.yaml:2: invalid YAML: unknown anchor 'nope' referenced"},
		{"tab indent", "x: 1\ny:\n\t- a\n", "c.yaml:3: invalid YAML: found character that " +
			"cannot start any token; indent with spaces, not tabs"},
		{"duplicate directive", "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
			"c.yaml:2: invalid YAML: found duplicate %YAML directive"},
		{"empty", "", "c.yaml: the file holds no configuration; " +
			"config.example.yaml shows a start"},
		{"only a document marker", "---\n", "c.yaml: the file holds no configuration; " +
			"config.example.yaml shows a start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.text), LoadOptions{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}
