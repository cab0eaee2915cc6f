package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// structFields maps the YAML keys of a struct type to its field indexes.
type structFields struct {
	index map[string]int
	names []string // in declaration order
}

var fieldCache sync.Map // reflect.Type -> *structFields

// fieldsOf returns the YAML keys of struct type t.
func fieldsOf(t reflect.Type) *structFields {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(*structFields)
	}

	fields := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fields.index[name] = i
		fields.names = append(fields.names, name)
	}
	fieldCache.Store(t, fields)
	return fields
}

// pair is one key and its value in a mapping.
type pair struct {
	key, value *yaml.Node
}

// pairs returns the entries of mapping n, reporting keys that are not plain
// names and keys written twice. Entries merged in with "<<: *anchor" come
// after the mapping's own and never override them.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var own, merged []pair
	firstLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		switch {
		case key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge":
			merged = append(merged, d.mergedPairs(value, path)...)
		case key.Kind != yaml.ScalarNode:
			d.problem(key.Line, path, "a key must be a plain name, not "+shapeOf(key))
		case firstLine[key.Value] != 0:
			d.problem(key.Line, joinPath(path, key.Value),
				fmt.Sprintf("duplicate key; first written on line %d", firstLine[key.Value]))
		default:
			firstLine[key.Value] = key.Line
			own = append(own, pair{key, value})
		}
	}

	for _, p := range merged {
		if firstLine[p.key.Value] == 0 {
			firstLine[p.key.Value] = p.key.Line
			own = append(own, p)
		}
	}
	return own
}

// mergedPairs returns the entries a "<<" key merges in: one mapping or a
// list of mappings.
func (d *decoder) mergedPairs(value *yaml.Node, path string) []pair {
	value = resolveAlias(value)
	if !d.enter(value, path) {
		return nil
	}
	defer func() { d.depth-- }()

	switch value.Kind {
	case yaml.MappingNode:
		return d.pairs(value, path)
	case yaml.SequenceNode:
		var all []pair
		for _, item := range value.Content {
			all = append(all, d.mergedPairs(item, path)...)
		}
		return all
	default:
		d.problem(value.Line, path, "<< must merge a mapping or a list of mappings")
		return nil
	}
}

// unknownKey words the problem of a key the type does not have, suggesting
// the closest known key.
func unknownKey(key string, known []string) string {
	best, bestDistance := "", len(key)+1
	for _, name := range known {
		if d := editDistance(strings.ToLower(key), name); d < bestDistance {
			best, bestDistance = name, d
		}
	}
	if bestDistance <= 2 && bestDistance <= len(key)/2 {
		return fmt.Sprintf("unknown key; did you mean %q?", best)
	}
	return "unknown key; valid keys here are " + strings.Join(known, ", ")
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// neighbouring letters that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}

	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			rows[i][j] = min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				rows[i][j] = min(rows[i][j], rows[i-2][j-2]+1)
			}
		}
	}
	return rows[len(ra)][len(rb)]
}
